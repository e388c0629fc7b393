/**
 * The site store on the embedded database (better-sqlite3). The driver is synchronous, so each
 * repository call runs at once and answers with a settled promise; what this file adds is order.
 * One connection has one transaction at a time, so store calls and transactions queue on one
 * lock: a transaction holds it from BEGIN IMMEDIATE to COMMIT, and an `await` inside it cannot
 * let another caller's statement slip into it (or read what it has not committed).
 *
 * A transaction's callback should await only its `tx` calls (they settle at once): the SQLite
 * transaction stays open across its awaits, and any other await would hold the lock for longer.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { StoreUsageError, type SiteRepos, type SiteStore } from '../../site/repos/store.js';
import type { CommitListener } from '../../site/repos/changes.js';
import { closeJournal, journaled, onCommittedChanges, openJournal } from '../change-journal.js';
import { openDatabase, type Db } from '../db.js';
import { SqliteAuditRepo } from './audit.js';
import { SqliteCollectionRepo } from './collections.js';
import { SqliteComputerRepo } from './computers.js';
import { SqliteContentRepo } from './content.js';
import { SqliteDeploymentRepo } from './deployments.js';
import { SqliteIdRepo } from './ids.js';
import { SqliteImportLinkRepo, SqliteMediaRepo } from './media.js';
import { SqliteDistributionJobRepo, SqliteHoldingRepo, SqlitePointGroupRepo, SqlitePointRepo } from './points.js';
import { SqliteSettingsRepo } from './settings.js';
import { Statements, type SqliteExec } from './statements.js';
import { SqliteStatusRepo } from './status.js';
import { SqliteFolderRepo, SqliteTaskSequenceRepo } from './task-sequences.js';
import { SqliteTokenRepo } from './tokens.js';

const reposOn = (exec: SqliteExec): SiteRepos => ({
  settings: new SqliteSettingsRepo(exec),
  ids: new SqliteIdRepo(exec),
  tokens: new SqliteTokenRepo(exec),
  audit: new SqliteAuditRepo(exec),
  status: new SqliteStatusRepo(exec),
  computers: new SqliteComputerRepo(exec),
  collections: new SqliteCollectionRepo(exec),
  deployments: new SqliteDeploymentRepo(exec),
  taskSequences: new SqliteTaskSequenceRepo(exec),
  folders: new SqliteFolderRepo(exec),
  media: new SqliteMediaRepo(exec),
  importLinks: new SqliteImportLinkRepo(exec),
  points: new SqlitePointRepo(exec),
  pointGroups: new SqlitePointGroupRepo(exec),
  holdings: new SqliteHoldingRepo(exec),
  distributionJobs: new SqliteDistributionJobRepo(exec),
  content: new SqliteContentRepo(exec),
});

interface Scope {
  open: boolean;
}

export interface SqliteStoreOptions {
  /** Close the connection when the store closes (true when the store opened it). */
  readonly ownsDb?: boolean;
}

export class SqliteSiteStore implements SiteStore {
  readonly kind = 'sqlite' as const;
  readonly settings: SiteRepos['settings'];
  readonly ids: SiteRepos['ids'];
  readonly tokens: SiteRepos['tokens'];
  readonly audit: SiteRepos['audit'];
  readonly status: SiteRepos['status'];
  readonly computers: SiteRepos['computers'];
  readonly collections: SiteRepos['collections'];
  readonly deployments: SiteRepos['deployments'];
  readonly taskSequences: SiteRepos['taskSequences'];
  readonly folders: SiteRepos['folders'];
  readonly media: SiteRepos['media'];
  readonly importLinks: SiteRepos['importLinks'];
  readonly points: SiteRepos['points'];
  readonly pointGroups: SiteRepos['pointGroups'];
  readonly holdings: SiteRepos['holdings'];
  readonly distributionJobs: SiteRepos['distributionJobs'];
  readonly content: SiteRepos['content'];
  private readonly q: Statements;
  private readonly inside = new AsyncLocalStorage<Scope>();
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    readonly db: Db,
    private readonly opts: SqliteStoreOptions = {},
  ) {
    this.q = new Statements(db);
    // Each call of the store's own repositories is its own transaction (reads see one state).
    const autocommit: SqliteExec = (work) => {
      this.usable();
      return this.serial(() => journaled(this.db, () => work(this.q)));
    };
    const repos = reposOn(autocommit);
    this.settings = repos.settings;
    this.ids = repos.ids;
    this.tokens = repos.tokens;
    this.audit = repos.audit;
    this.status = repos.status;
    this.computers = repos.computers;
    this.collections = repos.collections;
    this.deployments = repos.deployments;
    this.taskSequences = repos.taskSequences;
    this.folders = repos.folders;
    this.media = repos.media;
    this.importLinks = repos.importLinks;
    this.points = repos.points;
    this.pointGroups = repos.pointGroups;
    this.holdings = repos.holdings;
    this.distributionJobs = repos.distributionJobs;
    this.content = repos.content;
  }

  private usable(): void {
    if (this.closed) throw new StoreUsageError('the store is closed');
    if (this.inside.getStore()?.open)
      throw new StoreUsageError('inside a transaction, use the repositories it gave you (tx.…), not the store: the store waits for the transaction to end');
  }

  /** Runs `fn` after everything queued before it has settled, whatever its outcome. */
  private serial<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  transaction<T>(fn: (tx: SiteRepos) => Promise<T>): Promise<T> {
    try {
      this.usable();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.serial(async () => {
      const scope: Scope = { open: true };
      const exec: SqliteExec = async (work) => {
        if (!scope.open) throw new StoreUsageError('the transaction is over: its repositories cannot be used after it commits or rolls back');
        return work(this.q);
      };
      if (this.db.inTransaction) throw new StoreUsageError('the connection is already in a transaction that this store did not begin');
      // IMMEDIATE: take the write lock now, so a second process cannot make us fail at COMMIT.
      // What the transaction changes among the policy inputs is reported after COMMIT, never before.
      const journal = openJournal(this.db);
      this.db.exec('BEGIN IMMEDIATE');
      let committed = false;
      try {
        const result = await this.inside.run(scope, () => fn(reposOn(exec)));
        scope.open = false;
        this.db.exec('COMMIT');
        committed = true;
        return result;
      } catch (e) {
        scope.open = false;
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      } finally {
        closeJournal(this.db, journal, committed);
      }
    });
  }

  onCommitted(fn: CommitListener): () => void {
    return onCommittedChanges(this.db, fn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    if (this.opts.ownsDb && this.db.open) this.db.close();
  }
}

/** Opens (and migrates) the database file and a store that closes it. */
export function openSqliteStore(file: string, open: (file: string) => Db = openDatabase): SqliteSiteStore {
  return new SqliteSiteStore(open(file), { ownsDb: true });
}
