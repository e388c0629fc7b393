/**
 * The site database of a service test, on either engine, opened directly for the checks that
 * follow a run: SQLite (DATA_DIR/site.db, better-sqlite3) or PostgreSQL (a fresh database of
 * test/fixtures/postgres.ts, queried with `pg`). `query` takes PostgreSQL's `$1` placeholders
 * on both, and both answer plain rows (PostgreSQL's BIGINT arrives as a string: cast counts
 * AS INTEGER, or convert with Number).
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { testPostgres } from '../../fixtures/postgres.js';
import type { Teardowns } from './harness.js';

export type Query = <R = Record<string, unknown>>(sql: string, params?: readonly unknown[]) => Promise<R[]>;

/** DATA_DIR/site.db, opened read-write after the service is gone, closed at `t`'s teardown. */
export function sqliteSiteDb(t: Teardowns, dataDir: string): { readonly db: Database.Database; readonly query: Query } {
  const db = new Database(path.join(dataDir, 'site.db'));
  t.teardown(() => db.close());
  const query: Query = async <R>(sql: string, params: readonly unknown[] = []) => db.prepare(sql.replace(/\$\d+/g, '?')).all(...params) as R[];
  return { db, query };
}

/** A fresh PostgreSQL database and the environment that points a service at it (one secret key). */
export async function postgresSite(t: Teardowns): Promise<{ readonly url: string; readonly env: Record<string, string> }> {
  const { url } = await testPostgres(t);
  return { url, env: { OSDEPLOY_DATABASE_URL: url, OSDEPLOY_SECRET_KEY: randomBytes(32).toString('base64') } };
}

/** A query on the PostgreSQL database at `url`; the pool ends at `t`'s teardown (before the database is dropped). */
export function postgresQuery(t: Teardowns, url: string): Query {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  // An idle connection cut by the database's drop (WITH FORCE) must not become an uncaught error.
  pool.on('error', () => {});
  t.teardown(() => pool.end());
  return async <R>(sql: string, params: readonly unknown[] = []) => (await pool.query(sql, [...params])).rows as R[];
}
