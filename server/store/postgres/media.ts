/** Boot media records and import links on PostgreSQL (`media`, `import_links`, migration 7). */
import type { ImportLink, ImportLinkRepo } from '../../site/repos/import-links.js';
import type { MediaRecord, MediaRepo } from '../../site/repos/media.js';
import { linkOf, linkSql, linkValues, mediaDoc, mediaOf, mediaSql, mediaValues, type LinkRow } from '../media-rows.js';
import { pgPlaceholder } from '../rows.js';
import type { PgQuery } from './query.js';

const MEDIA = mediaSql(pgPlaceholder);
const LINKS = linkSql(pgPlaceholder);

const changed = (r: { rowCount: number | null }): boolean => (r.rowCount ?? 0) > 0;

export class PgMediaRepo implements MediaRepo {
  constructor(private readonly q: PgQuery) {}

  async insert(r: MediaRecord): Promise<void> {
    await this.q(MEDIA.insert, mediaValues(r));
  }

  async update(r: MediaRecord): Promise<boolean> {
    return changed(await this.q(MEDIA.update, [r.state, mediaDoc(r), r.id]));
  }

  async get(id: string): Promise<MediaRecord | null> {
    const row = (await this.q<{ doc: string }>(MEDIA.get, [id])).rows[0];
    return row ? mediaOf(row) : null;
  }

  async list(): Promise<MediaRecord[]> {
    return (await this.q<{ doc: string }>(MEDIA.list)).rows.map(mediaOf);
  }

  async delete(id: string): Promise<boolean> {
    return changed(await this.q(MEDIA.delete, [id]));
  }
}

export class PgImportLinkRepo implements ImportLinkRepo {
  constructor(private readonly q: PgQuery) {}

  async get(originSite: string, originId: string): Promise<ImportLink | null> {
    const row = (await this.q<LinkRow>(LINKS.get, [originSite, originId])).rows[0];
    return row ? linkOf(row) : null;
  }

  async ofOrigins(originSite: string, originIds: readonly string[]): Promise<ImportLink[]> {
    if (originIds.length === 0) return [];
    return (await this.q<LinkRow>(`${LINKS.ofSite} = ANY($2::text[])`, [originSite, [...new Set(originIds)]])).rows.map(linkOf);
  }

  async put(link: ImportLink, at: number): Promise<void> {
    await this.q(LINKS.put, linkValues(link, at));
  }
}
