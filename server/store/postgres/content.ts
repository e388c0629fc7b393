/** Content records on PostgreSQL (`content`, migration 8): the same rows as on SQLite. */
import type { ContentObject } from '../../../content/model.js';
import type { ContentInfo } from '../../../policy/content-refs.js';
import type { NoteChange } from '../../site/repos/changes.js';
import type { ContentRepo } from '../../site/repos/content.js';
import { CONTENT_COLUMNS, CONTENT_UPDATE, contentOf, contentValues, INFO_COLUMNS, infoOf } from '../content-rows.js';
import type { PgQuery } from './query.js';

type InfoRow = { info: string | null; doc: string | null };

export class PgContentRepo implements ContentRepo {
  constructor(
    private readonly q: PgQuery,
    private readonly note: NoteChange,
  ) {}

  async get(id: string): Promise<ContentObject | null> {
    const row = (await this.q<{ doc: string }>('SELECT doc FROM content WHERE id = $1', [id])).rows[0];
    return row ? contentOf(row) : null;
  }

  async put(record: ContentObject, updatedAt: number): Promise<void> {
    const values = contentValues(record, updatedAt);
    await this.q(`INSERT INTO content (${CONTENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET ${CONTENT_UPDATE}`, values);
    this.note({ kind: 'doc', table: 'content', id: record.id, doc: record });
  }

  async delete(id: string): Promise<boolean> {
    const gone = ((await this.q('DELETE FROM content WHERE id = $1', [id])).rowCount ?? 0) > 0;
    if (gone) this.note({ kind: 'doc', table: 'content', id, doc: null });
    return gone;
  }

  async list(): Promise<ContentObject[]> {
    return (await this.q<{ doc: string }>('SELECT doc FROM content ORDER BY id')).rows.map(contentOf);
  }

  async info(id: string): Promise<ContentInfo | null> {
    const row = (await this.q<InfoRow>(`SELECT ${INFO_COLUMNS} FROM content WHERE id = $1`, [id])).rows[0];
    return row ? infoOf(row) : null;
  }

  async infos(): Promise<ContentInfo[]> {
    return (await this.q<InfoRow>(`SELECT ${INFO_COLUMNS} FROM content ORDER BY id`)).rows.map(infoOf);
  }

  async bootImageInfos(): Promise<ContentInfo[]> {
    return (await this.q<InfoRow>(`SELECT ${INFO_COLUMNS} FROM content WHERE kind = 'bootImage' ORDER BY id`)).rows.map(infoOf);
  }
}
