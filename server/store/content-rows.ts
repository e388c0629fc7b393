/**
 * Content records as rows, the same on both engines: the whole object as JSON text (`doc`), and
 * beside it what is derived from it on every write — the ContentInfo policy reads (`info`) and
 * the current version's number — so reads of facts never parse file lists.
 */
import { contentInfoOf, currentVersion, type ContentObject } from '../../content/model.js';
import type { ContentInfo } from '../../policy/content-refs.js';
import { jsonText } from './rows.js';

export const CONTENT_COLUMNS = 'id, kind, name, doc, info, current_version, updated_at';

/** The column values of a put, in CONTENT_COLUMNS order. */
export function contentValues(record: ContentObject, updatedAt: number): unknown[] {
  const doc = jsonText(record, `content ${record.id}`);
  return [record.id, record.kind, record.name, doc, jsonText(contentInfoOf(record), `content ${record.id}`), currentVersion(record)?.version ?? null, updatedAt];
}

/** `SET` of an upsert: every column but the id takes the new value. */
export const CONTENT_UPDATE = CONTENT_COLUMNS.split(', ')
  .slice(1)
  .map((c) => `${c} = excluded.${c}`)
  .join(', ');

export const contentOf = (row: { doc: string }): ContentObject => JSON.parse(row.doc) as ContentObject;

/**
 * The columns a read of facts selects: `info`, and the document only where `info` is missing (a
 * SQLite row from before its migration 2 filled it), so file lists are not read for nothing.
 */
export const INFO_COLUMNS = 'info, CASE WHEN info IS NULL THEN doc END AS doc';

export const infoOf = (row: { info: string | null; doc: string | null }): ContentInfo =>
  row.info ? (JSON.parse(row.info) as ContentInfo) : contentInfoOf(contentOf({ doc: row.doc ?? '' }));
