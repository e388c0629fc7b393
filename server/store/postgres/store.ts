/**
 * The site store on PostgreSQL (pg Pool). The store's own repositories send each statement on
 * any pooled connection (each its own transaction); `transaction` holds one connection from
 * BEGIN to COMMIT and binds a set of repositories to it. Isolation is PostgreSQL's default,
 * READ COMMITTED: the writes that must not race (the id counter, unique ids of messages and
 * tokens) are single statements that lock or conflict on their rows.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { withoutData, type CommitListener, type NoteChange, type StoreChange } from '../../site/repos/changes.js';
import { StoreUnavailable, StoreUsageError, type SiteRepos, type SiteStore } from '../../site/repos/store.js';
import { bindSecrets, type SecretBinding, type SecretHolder } from '../secrets/binding.js';
import { PgAuditRepo } from './audit.js';
import { PgCollectionRepo } from './collections.js';
import { PgComputerRepo } from './computers.js';
import { PgContentRepo } from './content.js';
import { PgDeploymentRepo } from './deployments.js';
import { PgIdRepo } from './ids.js';
import { PgImportLinkRepo, PgMediaRepo } from './media.js';
import { PgDistributionJobRepo, PgHoldingRepo, PgPointGroupRepo, PgPointRepo } from './points.js';
import { migratePg } from './migrate.js';
import { createPool, type PgPoolOptions } from './pool.js';
import type { PgQuery } from './query.js';
import { PgSettingsRepo } from './settings.js';
import { PgStatusRepo } from './status.js';
import { PgFolderRepo, PgTaskSequenceRepo } from './task-sequences.js';
import { PgTokenRepo } from './tokens.js';

/** `secrets` is the handle documents are sealed through: the store's pool, which `bindSecrets` keys. */
type Atomic = <T>(fn: (q: PgQuery) => Promise<T>) => Promise<T>;

const reposOn = (q: PgQuery, secrets: SecretHolder, note: NoteChange, atomic: Atomic): SiteRepos => ({
  settings: new PgSettingsRepo(q, note),
  ids: new PgIdRepo(q, atomic),
  tokens: new PgTokenRepo(q),
  audit: new PgAuditRepo(q),
  status: new PgStatusRepo(q),
  computers: new PgComputerRepo(q, secrets, note),
  collections: new PgCollectionRepo(q, secrets, note),
  deployments: new PgDeploymentRepo(q, secrets, note),
  taskSequences: new PgTaskSequenceRepo(q, secrets, note),
  folders: new PgFolderRepo(q),
  media: new PgMediaRepo(q),
  importLinks: new PgImportLinkRepo(q),
  points: new PgPointRepo(q, secrets),
  pointGroups: new PgPointGroupRepo(q),
  holdings: new PgHoldingRepo(q),
  distributionJobs: new PgDistributionJobRepo(q),
  content: new PgContentRepo(q, note),
});

interface Scope {
  open: boolean;
  /** What the transaction changed among the policy inputs, reported after COMMIT. */
  readonly changes: StoreChange[];
}

/** Connection classes (SQLSTATE 08…), the server going away (57P0…), and the socket errors of a lost server. */
const CONNECTION_CODES = /^(08|57P0)|^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE)$/;

/** Rethrows `e`, as StoreUnavailable when it says the database cannot be reached. */
export function unavailable(e: unknown): never {
  if (e instanceof StoreUnavailable) throw e;
  const err = e as { code?: unknown; message?: unknown };
  const message = typeof err.message === 'string' ? err.message : '';
  if ((typeof err.code === 'string' && CONNECTION_CODES.test(err.code)) || /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|not currently accepting connections|does not allow connections/i.test(message))
    throw new StoreUnavailable(typeof err.code === 'string' ? err.code : message.slice(0, 80));
  throw e;
}

/** The channel other nodes on this database hear committed policy changes on (multi-node.md). */
export const CHANGES_CHANNEL = 'osdeploy_changes';
/** PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more; a bigger batch says "rebuild" instead. */
const MAX_PAYLOAD = 7_900;

/** What a node sends on CHANGES_CHANNEL: its id, and the changes (null: too many, rebuild). */
export interface ChangeNotice {
  readonly node: string;
  readonly changes: readonly StoreChange[] | null;
}

export function noticeText(node: string, changes: readonly StoreChange[]): string {
  const text = JSON.stringify({ node, changes: changes.map(withoutData) } satisfies ChangeNotice);
  return Buffer.byteLength(text) < MAX_PAYLOAD ? text : JSON.stringify({ node, changes: null } satisfies ChangeNotice);
}

export class PgSiteStore implements SiteStore {
  readonly kind = 'postgres' as const;
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
  private readonly inside = new AsyncLocalStorage<Scope>();
  private readonly listeners = new Set<CommitListener>();
  private closed = false;
  /** This node's id in change notices, so it does not apply its own changes twice. */
  readonly node = randomUUID();

  constructor(
    readonly pool: Pool,
    private readonly opts: { readonly ownsPool?: boolean; readonly secrets?: SecretBinding } = {},
  ) {
    if (opts.secrets) bindSecrets(pool, opts.secrets);
    const autocommit: PgQuery = async (sql, args) => {
      this.usable();
      return this.pool.query(sql, args as unknown[] | undefined).catch(unavailable);
    };
    // A change written outside a transaction has committed when its statement returns.
    const autocommitNote: NoteChange = (change) => {
      this.notify([change]).catch(() => undefined);
      this.report([change]);
    };
    const repos = reposOn(autocommit, pool, autocommitNote, (fn) => this.atomic(fn));
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
    // Same rule as on SQLite, where it would wait forever: a call beside the transaction
    // would not see its writes, and may wait on the rows it has locked.
    if (this.inside.getStore()?.open) throw new StoreUsageError('inside a transaction, use the repositories it gave you (tx.…), not the store');
  }

  async transaction<T>(fn: (tx: SiteRepos) => Promise<T>): Promise<T> {
    this.usable();
    const client: PoolClient = await this.pool.connect().catch(unavailable);
    const scope: Scope = { open: true, changes: [] };
    const q: PgQuery = async (sql, args) => {
      if (!scope.open) throw new StoreUsageError('the transaction is over: its repositories cannot be used after it commits or rolls back');
      return client.query(sql, args as unknown[] | undefined);
    };
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await this.inside.run(scope, () => fn(reposOn(q, this.pool, (c) => scope.changes.push(c), (f) => f(q))));
      scope.open = false;
      // Sent with the transaction: other nodes hear it when (and only if) it commits.
      if (scope.changes.length) await client.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, noticeText(this.node, scope.changes)]);
      await client.query('COMMIT');
      this.report(scope.changes);
      return result;
    } catch (e) {
      scope.open = false;
      // A connection that cannot roll back is not given back to the pool.
      await client.query('ROLLBACK').catch((re: Error) => (broken = re));
      return unavailable(e);
    } finally {
      client.release(broken);
    }
  }

  /** Runs `fn` in a transaction of its own (a repository call that is several statements). */
  private async atomic<T>(fn: (q: PgQuery) => Promise<T>): Promise<T> {
    this.usable();
    const client = await this.pool.connect().catch(unavailable);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn((sql, args) => client.query(sql, args as unknown[] | undefined));
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch((re: Error) => (broken = re));
      return unavailable(e);
    } finally {
      client.release(broken);
    }
  }

  onCommitted(fn: CommitListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private report(changes: readonly StoreChange[]): void {
    if (changes.length) for (const fn of this.listeners) fn(changes);
  }

  private async notify(changes: readonly StoreChange[]): Promise<void> {
    if (!this.closed) await this.pool.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, noticeText(this.node, changes)]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.opts.ownsPool) await this.pool.end();
  }
}

/** Connects, runs the migrations, and returns a store that ends its pool when closed. */
export async function openPgStore(url: string, opts: PgPoolOptions & { readonly secrets?: SecretBinding } = {}): Promise<PgSiteStore> {
  const pool = createPool(url, opts);
  try {
    await migratePg(pool);
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
  return new PgSiteStore(pool, { ownsPool: true, ...(opts.secrets ? { secrets: opts.secrets } : {}) });
}
