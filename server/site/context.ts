/**
 * What every site operation needs: the store (the site database, SQLite or PostgreSQL, behind
 * async repositories), the site code, an injected clock, a logger, and the policy state, kept
 * current by every committed write (policy-state.ts). No database handle: `server/site/` reads
 * and writes only through `store` (DESIGN.md, docs/database.md).
 */
import type { Logger } from 'pino';
import type { AuditEvent } from '../../policy/audit.js';
import type { ContentLibrary } from '../../content/library.js';
import type { FsContentStore } from '../../content/fs-store.js';
import type { SiteLibraryRecords } from './library-records.js';
import type { SnapshotCache } from './policy-state.js';
import type { SiteRepos, SiteStore } from './repositories.js';
import type { StatusWriter } from './repos/status.js';

export interface SiteContext {
  readonly siteCode: string;
  /** The data directory (DATA_DIR): keys, boot files, content blobs, media, export sessions. */
  readonly dataDir: string;
  readonly now: () => number;
  /** This process's id among the site's nodes: owner of the background jobs it runs (heartbeat.ts). */
  readonly node: string;
  readonly log: Logger;
  readonly snapshot: SnapshotCache;
  /** The content library: records in the site database, blobs in DATA_DIR/content/store. */
  readonly library: SiteLibrary;
  /** The storage seam (repositories.ts): every aggregate of the site is read and written through it. */
  readonly store: SiteStore;
  /** Stores status messages without holding the event loop (a worker thread on SQLite; the async driver on PostgreSQL). */
  readonly statusWriter: StatusWriter;
}

export interface SiteLibrary extends ContentLibrary {
  readonly store: FsContentStore;
  /** Read and written through the content repository (library-records.ts). */
  readonly records: SiteLibraryRecords;
}

export { readSettings, SnapshotCache } from './policy-state.js';

/** Appends an audit record in the caller's transaction, so it commits or goes with the change it describes. */
export function audit(tx: SiteRepos, ctx: SiteContext, actor: string, event: Omit<AuditEvent, 'at'> & { at?: number }): Promise<number> {
  return tx.audit.append({ at: event.at ?? ctx.now(), actor, action: event.action, target: event.target, message: event.message, details: event.details });
}

/**
 * Runs `fn` in one store transaction (commits when it resolves, rolls back when it throws).
 * What it changed among the policy inputs is applied to the policy state before this resolves,
 * so the next boot decision sees it (read-your-writes). Inside `fn`, await only `tx` calls:
 * on SQLite the transaction stays open across them, and any other await lets other work in.
 */
export function transact<T>(ctx: SiteContext, fn: (tx: SiteRepos) => Promise<T>): Promise<T> {
  return ctx.store.transaction(fn);
}
