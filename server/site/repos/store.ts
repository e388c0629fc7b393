/**
 * The site's storage seam: one small async repository per aggregate, and a unit of work that
 * binds them to one transaction. `server/site/` depends on these interfaces only; the SQLite and
 * PostgreSQL implementations live in `server/store/` (sqlite/, postgres/), chosen by store/open-store.ts.
 */
import type { AuditRepo } from './audit.js';
import type { CommitListener } from './changes.js';
import type { CollectionRepo } from './collections.js';
import type { ComputerRepo } from './computers.js';
import type { ContentRepo } from './content.js';
import type { DeploymentRepo } from './deployments.js';
import type { IdRepo } from './ids.js';
import type { ImportLinkRepo } from './import-links.js';
import type { MediaRepo } from './media.js';
import type { DistributionJobRepo, HoldingRepo, PointGroupRepo, PointRepo } from './points.js';
import type { SettingsRepo } from './settings.js';
import type { StatusRepo } from './status.js';
import type { FolderRepo, TaskSequenceRepo } from './task-sequences.js';
import type { TokenRepo } from './tokens.js';

export interface SiteRepos {
  readonly settings: SettingsRepo;
  readonly ids: IdRepo;
  readonly tokens: TokenRepo;
  readonly audit: AuditRepo;
  readonly status: StatusRepo;
  readonly computers: ComputerRepo;
  readonly collections: CollectionRepo;
  readonly deployments: DeploymentRepo;
  readonly taskSequences: TaskSequenceRepo;
  readonly folders: FolderRepo;
  readonly media: MediaRepo;
  readonly importLinks: ImportLinkRepo;
  readonly points: PointRepo;
  readonly pointGroups: PointGroupRepo;
  readonly holdings: HoldingRepo;
  readonly distributionJobs: DistributionJobRepo;
  readonly content: ContentRepo;
}

export type StoreKind = 'sqlite' | 'postgres';

/**
 * The store's own repositories run each call in a transaction of its own. `transaction` runs
 * `fn` with repositories bound to one transaction: it commits when `fn`'s promise resolves and
 * rolls everything back when it rejects (the rejection is passed on). Inside `fn`, use only
 * `tx`: the store's own repositories and a nested `transaction` are refused there (on SQLite they
 * would wait for the transaction that waits for them). `tx` is unusable once `fn` has settled.
 */
export interface SiteStore extends SiteRepos {
  readonly kind: StoreKind;
  transaction<T>(fn: (tx: SiteRepos) => Promise<T>): Promise<T>;
  /**
   * Calls `fn` after each commit that changed a policy input (changes.ts), with what it changed,
   * before the committing call resolves. Returns the listener's removal.
   */
  onCommitted(fn: CommitListener): () => void;
  close(): Promise<void>;
}

/**
 * The database cannot be reached (connection refused, dropped, or the server shutting down).
 * The API answers 503; boots go on from the policy state, which needs no database.
 */
export class StoreUnavailable extends Error {
  override readonly name = 'StoreUnavailable';
  constructor(readonly reason: string) {
    super(`the site database is unreachable (${reason}); writes and reads that need it are refused until it is back`);
  }
}

/** A store call made where it cannot run: inside the store's own transaction, after it ended, or after close. */
export class StoreUsageError extends Error {
  override readonly name = 'StoreUsageError';
}
