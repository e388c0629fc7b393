/**
 * Synchronous reads of content records on the site's SQLite connection, for the callers that
 * cannot await yet: the boot path's two (`info` behind contentIndex, `bootImageInfos` in
 * content-boot-source.ts), until the policy state keeps them in memory; and, marked deprecated,
 * the calls of code not yet moved onto the content repository (ctx.store.content). Everything
 * else reads and writes through the repository (sqlite/content.ts), on the same rows.
 */
import type { ContentObject } from '../../content/model.js';
import type { ContentInfo } from '../../policy/content-refs.js';
import type { ContentSyncReads, LegacyContentCalls } from '../site/library-records.js';
import type { Db } from './db.js';
import { contentRows } from './sqlite/content.js';
import { Statements } from './sqlite/statements.js';

export class SqliteContentReads implements ContentSyncReads, LegacyContentCalls {
  private readonly q: Statements;

  constructor(
    db: Db,
    private readonly now: () => number,
  ) {
    this.q = new Statements(db);
  }

  info(id: string): ContentInfo | undefined {
    return contentRows.info(this.q, id) ?? undefined;
  }

  bootImageInfos(): ContentInfo[] {
    return contentRows.infos(this.q, 'bootImage');
  }

  getSync(id: string): ContentObject | undefined {
    return contentRows.get(this.q, id) ?? undefined;
  }

  putSync(record: ContentObject): void {
    contentRows.put(this.q, record, this.now());
  }

  listSync(): ContentObject[] {
    return contentRows.list(this.q);
  }
}
