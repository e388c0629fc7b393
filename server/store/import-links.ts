/**
 * Import links: the local object each imported object became or was linked to, keyed by
 * the exporting site's code and the id it had there. A link whose local object was deleted is
 * simply stale: lookups check that the object still exists.
 */
import type { Db } from './db.js';

export interface ImportLink {
  readonly originSite: string;
  readonly originId: string;
  readonly type: string;
  readonly localId: string;
}

export function getImportLink(db: Db, originSite: string, originId: string): ImportLink | undefined {
  return db
    .prepare('SELECT origin_site AS originSite, origin_id AS originId, type, local_id AS localId FROM import_links WHERE origin_site = ? AND origin_id = ?')
    .get(originSite, originId) as ImportLink | undefined;
}

export function putImportLink(db: Db, link: ImportLink, at: number): void {
  db.prepare(
    `INSERT INTO import_links (origin_site, origin_id, type, local_id, imported_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (origin_site, origin_id) DO UPDATE SET type = excluded.type, local_id = excluded.local_id, imported_at = excluded.imported_at`,
  ).run(link.originSite, link.originId, link.type, link.localId, at);
}
