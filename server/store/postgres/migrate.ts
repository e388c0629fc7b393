/**
 * Runs the PostgreSQL migrations. Every node of a site may start at once, so the whole run is
 * one transaction that first takes a transaction-level advisory lock: a second migrator waits
 * on the lock, then finds every version recorded and does nothing. Creating `schema_migrations`
 * happens under the lock too (two concurrent CREATE TABLE IF NOT EXISTS can both fail). The lock
 * is released by COMMIT or ROLLBACK, so a migrator that dies holds nothing.
 */
import type { Pool } from 'pg';
import { PG_MIGRATIONS, type PgMigration } from './migrations.js';

/** Advisory lock key: "osdp" in ASCII, shared by every osdeploy migrator on the database. */
export const MIGRATION_LOCK_KEY = 0x6f736470;

export function checkMigrations(migrations: readonly PgMigration[]): void {
  const numbers = migrations.map((m) => m.version);
  const twice = numbers.find((v, i) => numbers.indexOf(v) !== i);
  if (twice !== undefined) throw new Error(`two PostgreSQL migrations have version ${twice}; give one of them the next free number`);
}

/** Applies what is missing; returns how many migrations ran. */
export async function migratePg(pool: Pool, migrations: readonly PgMigration[] = PG_MIGRATIONS, now: () => number = Date.now): Promise<number> {
  checkMigrations(migrations);
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      const latestKnown = Math.max(0, ...numbersOf(migrations));
      const newest = Math.max(0, ...applied);
      if (newest > latestKnown) throw new Error(`the site database is at schema version ${newest}, newer than this program knows (${latestKnown}); upgrade osdeploy`);
      let ran = 0;
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (applied.has(m.version)) continue;
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now()]);
        ran++;
      }
      await client.query('COMMIT');
      return ran;
    } catch (e) {
      await client.query('ROLLBACK').catch((re: Error) => (broken = re));
      throw e;
    }
  } finally {
    client.release(broken);
  }
}

const numbersOf = (migrations: readonly PgMigration[]): number[] => migrations.map((m) => m.version);
