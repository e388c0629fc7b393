/**
 * The site store on PostgreSQL (pg Pool). The store's own repositories send each statement on
 * any pooled connection (each its own transaction); `transaction` holds one connection from
 * BEGIN to COMMIT and binds a set of repositories to it. Isolation is PostgreSQL's default,
 * READ COMMITTED: the writes that must not race (the id counter, unique ids of messages and
 * tokens) are single statements that lock or conflict on their rows.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Pool, PoolClient } from 'pg';
import { StoreUsageError, type SiteRepos, type SiteStore } from '../../site/repos/store.js';
import { bindSecrets, type SecretBinding, type SecretHolder } from '../secrets/binding.js';
import { PgAuditRepo } from './audit.js';
import { PgCollectionRepo } from './collections.js';
import { PgComputerRepo } from './computers.js';
import { PgDeploymentRepo } from './deployments.js';
import { PgIdRepo } from './ids.js';
import { migratePg } from './migrate.js';
import { createPool, type PgPoolOptions } from './pool.js';
import type { PgQuery } from './query.js';
import { PgSettingsRepo } from './settings.js';
import { PgStatusRepo } from './status.js';
import { PgFolderRepo, PgTaskSequenceRepo } from './task-sequences.js';
import { PgTokenRepo } from './tokens.js';

/** `secrets` is the handle documents are sealed through: the store's pool, which `bindSecrets` keys. */
const reposOn = (q: PgQuery, secrets: SecretHolder): SiteRepos => ({
  settings: new PgSettingsRepo(q),
  ids: new PgIdRepo(q),
  tokens: new PgTokenRepo(q),
  audit: new PgAuditRepo(q),
  status: new PgStatusRepo(q),
  computers: new PgComputerRepo(q, secrets),
  collections: new PgCollectionRepo(q, secrets),
  deployments: new PgDeploymentRepo(q, secrets),
  taskSequences: new PgTaskSequenceRepo(q, secrets),
  folders: new PgFolderRepo(q),
});

interface Scope {
  open: boolean;
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
  private readonly inside = new AsyncLocalStorage<Scope>();
  private closed = false;

  constructor(
    readonly pool: Pool,
    private readonly opts: { readonly ownsPool?: boolean; readonly secrets?: SecretBinding } = {},
  ) {
    if (opts.secrets) bindSecrets(pool, opts.secrets);
    const autocommit: PgQuery = async (sql, args) => {
      this.usable();
      return this.pool.query(sql, args as unknown[] | undefined);
    };
    const repos = reposOn(autocommit, pool);
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
  }

  private usable(): void {
    if (this.closed) throw new StoreUsageError('the store is closed');
    // Same rule as on SQLite, where it would wait forever: a call beside the transaction
    // would not see its writes, and may wait on the rows it has locked.
    if (this.inside.getStore()?.open) throw new StoreUsageError('inside a transaction, use the repositories it gave you (tx.…), not the store');
  }

  async transaction<T>(fn: (tx: SiteRepos) => Promise<T>): Promise<T> {
    this.usable();
    const client: PoolClient = await this.pool.connect();
    const scope: Scope = { open: true };
    const q: PgQuery = async (sql, args) => {
      if (!scope.open) throw new StoreUsageError('the transaction is over: its repositories cannot be used after it commits or rolls back');
      return client.query(sql, args as unknown[] | undefined);
    };
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await this.inside.run(scope, () => fn(reposOn(q, this.pool)));
      scope.open = false;
      await client.query('COMMIT');
      return result;
    } catch (e) {
      scope.open = false;
      // A connection that cannot roll back is not given back to the pool.
      await client.query('ROLLBACK').catch((re: Error) => (broken = re));
      throw e;
    } finally {
      client.release(broken);
    }
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
