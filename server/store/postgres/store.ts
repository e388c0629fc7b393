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
import { PgAuditRepo } from './audit.js';
import { PgIdRepo } from './ids.js';
import { migratePg } from './migrate.js';
import { createPool, type PgPoolOptions } from './pool.js';
import type { PgQuery } from './query.js';
import { PgSettingsRepo } from './settings.js';
import { PgStatusRepo } from './status.js';
import { PgTokenRepo } from './tokens.js';

const reposOn = (q: PgQuery): SiteRepos => ({
  settings: new PgSettingsRepo(q),
  ids: new PgIdRepo(q),
  tokens: new PgTokenRepo(q),
  audit: new PgAuditRepo(q),
  status: new PgStatusRepo(q),
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
  private readonly inside = new AsyncLocalStorage<Scope>();
  private closed = false;

  constructor(
    readonly pool: Pool,
    private readonly opts: { readonly ownsPool?: boolean } = {},
  ) {
    const autocommit: PgQuery = async (sql, args) => {
      this.usable();
      return this.pool.query(sql, args as unknown[] | undefined);
    };
    const repos = reposOn(autocommit);
    this.settings = repos.settings;
    this.ids = repos.ids;
    this.tokens = repos.tokens;
    this.audit = repos.audit;
    this.status = repos.status;
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
      const result = await this.inside.run(scope, () => fn(reposOn(q)));
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
export async function openPgStore(url: string, opts: PgPoolOptions = {}): Promise<PgSiteStore> {
  const pool = createPool(url, opts);
  try {
    await migratePg(pool);
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
  return new PgSiteStore(pool, { ownsPool: true });
}
