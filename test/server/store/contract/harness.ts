/**
 * The two implementations the contract suite runs against, behind one harness: each `fresh`
 * store sits on its own new database (SQLite: a file in a temp dir; PostgreSQL: a new database
 * on the test server, test/fixtures/postgres.ts), with a raw SQL door for what only a test may do
 * (seed an older version's rows) and a second store on the same database (a second connection
 * or pool, as a second node would have).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SiteStore } from '../../../../server/site/repos/store.js';
import { openPgStore, type PgSiteStore } from '../../../../server/store/postgres/store.js';
import { openSqliteStore, type SqliteSiteStore } from '../../../../server/store/sqlite/store.js';
import type { Teardowns, TestPostgres } from '../../../fixtures/postgres.js';

export interface Fresh {
  readonly store: SiteStore;
  /** Runs SQL with `?` placeholders on the database, outside the store (seeding only). */
  sql(text: string, args?: readonly unknown[]): Promise<void>;
  /** Another store on the same database, closed at teardown. */
  another(): Promise<SiteStore>;
  /** SQLite: the file; PostgreSQL: the URL. */
  readonly where: string;
}

export interface Impl {
  readonly name: 'sqlite' | 'postgresql';
  fresh(t: Teardowns): Promise<Fresh>;
}

export function sqliteImpl(root: string): Impl {
  let n = 0;
  const open = (t: Teardowns, file: string): SqliteSiteStore => {
    const store = openSqliteStore(file);
    t.teardown(() => store.close());
    return store;
  };
  return {
    name: 'sqlite',
    async fresh(t) {
      const file = path.join(root, `site-${++n}`, 'site.db');
      const store = open(t, file);
      return {
        store,
        where: file,
        sql: async (text, args = []) => void store.db.prepare(text).run(...args),
        another: async () => open(t, file),
      };
    },
  };
}

/** PostgreSQL: each `fresh` is a new database on the fixture's server (dropped at the fixture's teardown). */
export function postgresImpl(server: TestPostgres): Impl {
  const open = async (t: Teardowns, url: string): Promise<PgSiteStore> => {
    const store = await openPgStore(url);
    t.teardown(() => store.close());
    return store;
  };
  return {
    name: 'postgresql',
    async fresh(t) {
      const url = await server.createDatabase();
      const store = await open(t, url);
      return {
        store,
        where: url,
        sql: async (text, args = []) => {
          let i = 0;
          await store.pool.query(text.replace(/\?/g, () => `$${++i}`), [...args]);
        },
        another: () => open(t, url),
      };
    },
  };
}

export function tempRoot(t: Teardowns): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'osdeploy-contract-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  return root;
}
