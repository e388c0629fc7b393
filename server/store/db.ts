/**
 * The embedded site database: better-sqlite3 in WAL mode with synchronous=FULL, so a commit
 * that returned has reached the disk and a kill -9 (or power loss) at any moment loses nothing
 * that was acknowledged. Migrations run in one transaction each.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { MIGRATIONS, type Migration } from './migrations.js';

export type Db = Database.Database;

export interface OpenOptions {
  /** Runs after the pragmas and before the migrations: the site binds its secret key here, so a migration can seal. */
  readonly beforeMigrate?: (db: Db) => void;
}

export function openDatabase(file: string, migrations: readonly Migration[] = MIGRATIONS, opts: OpenOptions = {}): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  try {
    opts.beforeMigrate?.(db);
    migrate(db, migrations);
  } catch (e) {
    // A refused or failed migration must not leave the connection (and its WAL locks) open.
    db.close();
    throw e;
  }
  return db;
}

export function migrate(db: Db, migrations: readonly Migration[]): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
  // Two migrations with one number (a merge of two branches) would silently skip the second.
  const numbers = migrations.map((m) => m.version);
  const twice = numbers.find((v, i) => numbers.indexOf(v) !== i);
  if (twice !== undefined) throw new Error(`two migrations have version ${twice}; give one of them the next free number`);
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  const latestKnown = Math.max(0, ...migrations.map((m) => m.version));
  const newest = Math.max(0, ...applied);
  if (newest > latestKnown) throw new Error(`the site database is at schema version ${newest}, newer than this program knows (${latestKnown}); upgrade osdeploy`);
  let ran = 0;
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      m.up?.(db);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    })();
    ran++;
  }
  return ran;
}

