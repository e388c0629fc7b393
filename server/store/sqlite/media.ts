/**
 * Boot media records and import links on SQLite: the existing `media` (migration 4) and
 * `import_links` (migration 3) tables, in the rows earlier versions wrote.
 */
import type { ImportLink, ImportLinkRepo } from '../../site/repos/import-links.js';
import type { MediaRecord, MediaRepo } from '../../site/repos/media.js';
import { linkOf, linkSql, linkValues, mediaDoc, mediaOf, mediaSql, mediaValues, type LinkRow } from '../media-rows.js';
import { sqlitePlaceholder } from '../rows.js';
import type { SqliteExec } from './statements.js';

const MEDIA = mediaSql(sqlitePlaceholder);
const LINKS = linkSql(sqlitePlaceholder);

export class SqliteMediaRepo implements MediaRepo {
  constructor(private readonly exec: SqliteExec) {}

  async insert(r: MediaRecord): Promise<void> {
    return this.exec((q) => void q.run(MEDIA.insert, ...mediaValues(r)));
  }

  async update(r: MediaRecord): Promise<boolean> {
    return this.exec((q) => q.run(MEDIA.update, r.state, mediaDoc(r), r.id).changes > 0);
  }

  async get(id: string): Promise<MediaRecord | null> {
    return this.exec((q) => {
      const row = q.get<{ doc: string }>(MEDIA.get, id);
      return row ? mediaOf(row) : null;
    });
  }

  async list(): Promise<MediaRecord[]> {
    return this.exec((q) => q.all<{ doc: string }>(MEDIA.list).map(mediaOf));
  }

  async delete(id: string): Promise<boolean> {
    return this.exec((q) => q.run(MEDIA.delete, id).changes > 0);
  }
}

export class SqliteImportLinkRepo implements ImportLinkRepo {
  constructor(private readonly exec: SqliteExec) {}

  async get(originSite: string, originId: string): Promise<ImportLink | null> {
    return this.exec((q) => {
      const row = q.get<LinkRow>(LINKS.get, originSite, originId);
      return row ? linkOf(row) : null;
    });
  }

  async ofOrigins(originSite: string, originIds: readonly string[]): Promise<ImportLink[]> {
    if (originIds.length === 0) return [];
    // One statement for any number of ids: the list goes in as a JSON array.
    const list = JSON.stringify([...new Set(originIds)]);
    return this.exec((q) => q.all<LinkRow>(`${LINKS.ofSite} IN (SELECT value FROM json_each(?))`, originSite, list).map(linkOf));
  }

  async put(link: ImportLink, at: number): Promise<void> {
    return this.exec((q) => void q.run(LINKS.put, ...linkValues(link, at)));
  }
}
