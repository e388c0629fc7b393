/**
 * What every site operation needs: the database, the site code, an injected clock, a logger
 * and the cached policy snapshot, rebuilt lazily after any write.
 */
import type { Logger } from 'pino';
import type { AuditEvent } from '../../policy/audit.js';
import { buildSite, DEFAULT_SITE_SETTINGS, type Site, type SiteSettings } from '../../policy/site.js';
import type { Collection } from '../../policy/collections.js';
import type { Computer } from '../../policy/computers.js';
import type { Deployment } from '../../policy/deployments/model.js';
import type { TaskSequence } from '../../policy/task-sequences/model.js';
import type { ContentLibrary } from '../../content/library.js';
import type { FsContentStore } from '../../content/fs-store.js';
import type { Db } from '../store/db.js';
import type { SqliteLibraryRecords } from '../store/library-records.js';
import { allDocs } from '../store/docs.js';

export interface SiteContext {
  readonly db: Db;
  readonly siteCode: string;
  readonly now: () => number;
  readonly log: Logger;
  readonly snapshot: SnapshotCache;
  /** The content library: records in the site database, blobs in DATA_DIR/content/store. */
  readonly library: SiteLibrary;
}

export interface SiteLibrary extends ContentLibrary {
  readonly store: FsContentStore;
  readonly records: SqliteLibraryRecords;
}

export function readSettings(db: Db): SiteSettings {
  const row = db.prepare("SELECT value FROM settings WHERE name = 'site'").get() as { value: string } | undefined;
  if (!row) return DEFAULT_SITE_SETTINGS;
  const stored = JSON.parse(row.value) as Partial<SiteSettings>;
  return {
    highRisk: { ...DEFAULT_SITE_SETTINGS.highRisk, ...stored.highRisk },
    pxe: { ...DEFAULT_SITE_SETTINGS.pxe, ...stored.pxe },
  };
}

/** The in-memory policy snapshot (policy/site.ts), rebuilt on first use after a write. */
export class SnapshotCache {
  private site: Site | null = null;
  private generation = 0;
  constructor(private readonly db: Db, private readonly siteCode: string) {}

  invalidate(): void {
    this.site = null;
    this.generation++;
  }

  /** Changes every time the data changes: usable as an ETag for policy answers. */
  get version(): number {
    return this.generation;
  }

  get(): Site {
    if (this.site) return this.site;
    const db = this.db;
    this.site = buildSite({
      siteCode: this.siteCode,
      settings: readSettings(db),
      computers: allDocs<Computer>(db, 'computers'),
      collections: allDocs<Collection>(db, 'collections'),
      taskSequences: allDocs<TaskSequence>(db, 'task_sequences'),
      deployments: allDocs<Deployment>(db, 'deployments'),
      requiredPxeStarts: db.prepare('SELECT computer_id AS computerId, deployment_id AS deploymentId FROM required_pxe_starts').all() as {
        computerId: string;
        deploymentId: string;
      }[],
    });
    return this.site;
  }
}

export function writeAudit(ctx: SiteContext, actor: string, event: Omit<AuditEvent, 'at'> & { at?: number }): void {
  ctx.db
    .prepare('INSERT INTO audit (at, actor, action, target, message, details) VALUES (?, ?, ?, ?, ?, ?)')
    .run(event.at ?? ctx.now(), actor, event.action, event.target, event.message, JSON.stringify(event.details));
}

/** Runs `fn` in one transaction and drops the snapshot after it commits. */
export function write<T>(ctx: SiteContext, fn: () => T): T {
  const result = ctx.db.transaction(fn)();
  ctx.snapshot.invalidate();
  return result;
}
