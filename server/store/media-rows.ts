/**
 * What the SQLite and PostgreSQL repositories of boot media records and import links share: the
 * statements (the same text on both engines but for their placeholders, `p`) and the row
 * mapping. The tables are the same on both: `media` (SQLite migration 4, PostgreSQL 7) and
 * `import_links` (SQLite migration 3, PostgreSQL 7).
 */
import type { ImportLink } from '../site/repos/import-links.js';
import type { MediaRecord } from '../site/repos/media.js';

type Placeholder = (i: number) => string;

/** The media statements; `insert` takes `mediaValues`, `update` takes state, doc, id. */
export const mediaSql = (p: Placeholder) => ({
  insert: `INSERT INTO media (id, type, format, state, token_id, created_at, expires_at, doc) VALUES (${[1, 2, 3, 4, 5, 6, 7, 8].map(p).join(', ')})`,
  update: `UPDATE media SET state = ${p(1)}, doc = ${p(2)} WHERE id = ${p(3)}`,
  get: `SELECT doc FROM media WHERE id = ${p(1)}`,
  list: 'SELECT doc FROM media ORDER BY created_at, id',
  delete: `DELETE FROM media WHERE id = ${p(1)}`,
});

export const mediaValues = (r: MediaRecord): unknown[] => [r.id, r.type, r.format, r.state, r.tokenId, r.createdAt, r.expiresAt, mediaDoc(r)];
export const mediaDoc = (r: MediaRecord): string => JSON.stringify(r);
export const mediaOf = (row: { doc: string }): MediaRecord => JSON.parse(row.doc) as MediaRecord;

const LINK_COLUMNS = 'origin_site, origin_id, type, local_id';

export interface LinkRow {
  origin_site: string;
  origin_id: string;
  type: string;
  local_id: string;
}

/** The import link statements; `put` takes `linkValues`. */
export const linkSql = (p: Placeholder) => ({
  get: `SELECT ${LINK_COLUMNS} FROM import_links WHERE origin_site = ${p(1)} AND origin_id = ${p(2)}`,
  /** Followed by the engine's own test of origin_id against a list. */
  ofSite: `SELECT ${LINK_COLUMNS} FROM import_links WHERE origin_site = ${p(1)} AND origin_id`,
  put:
    `INSERT INTO import_links (origin_site, origin_id, type, local_id, imported_at) VALUES (${[1, 2, 3, 4, 5].map(p).join(', ')}) ` +
    'ON CONFLICT (origin_site, origin_id) DO UPDATE SET type = excluded.type, local_id = excluded.local_id, imported_at = excluded.imported_at',
});

export const linkValues = (l: ImportLink, at: number): unknown[] => [l.originSite, l.originId, l.type, l.localId, at];
export const linkOf = (r: LinkRow): ImportLink => ({ originSite: r.origin_site, originId: r.origin_id, type: r.type, localId: r.local_id });
