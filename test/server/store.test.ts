/** The site database: migrations once, WAL + synchronous FULL, newer schemas refused, counters transactional. */
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { SqliteSiteStore } from '../../server/store/sqlite/store.js';
import { migrate, openDatabase, type Db } from '../../server/store/db.js';
import { MIGRATIONS, type Migration } from '../../server/store/migrations.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'osdeploy-store-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dbFile = (): string => path.join(root, `site-${++n}`, 'site.db');

/** Opens, and closes at the end of the test. */
function open(t: { teardown(fn: () => void): void }, file: string, migrations?: readonly Migration[]): Db {
  const db = migrations ? openDatabase(file, migrations) : openDatabase(file);
  t.teardown(() => db.open && db.close());
  return db;
}

const LATEST = Math.max(...MIGRATIONS.map((m) => m.version));

interface Applied {
  version: number;
  name: string;
  applied_at: number;
}
const applied = (db: Db): Applied[] => db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all() as Applied[];
const tables = (db: Db): string[] =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);

t.test('a new database gets every migration once; reopening runs none', async (t) => {
  const file = dbFile();
  const db = openDatabase(file);
  const first = applied(db);
  t.same(first.map((m) => m.version), MIGRATIONS.map((m) => m.version).sort((a, b) => a - b), 'every migration is recorded');
  t.equal(first[0]?.name, MIGRATIONS[0]?.name);
  for (const table of ['computers', 'computer_macs', 'collections', 'deployments', 'task_sequences', 'tokens', 'audit', 'counters', 'schema_migrations'])
    t.ok(tables(db).includes(table), `table ${table}`);
  t.equal(migrate(db, MIGRATIONS), 0, 'migrating again runs nothing');
  db.close();

  // The CREATE TABLE statements would fail if they ran twice, so a clean reopen proves they did not.
  const again = open(t, file);
  t.same(applied(again), first, 'the records are unchanged (same applied_at)');
  t.equal(migrate(again, MIGRATIONS), 0);
});

t.test('new migrations run in order on an existing database, each once', async (t) => {
  const file = dbFile();
  const m1: Migration = { version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);' };
  const m2: Migration = { version: 2, name: 'two', sql: 'INSERT INTO a VALUES (2);' };
  const m3: Migration = { version: 3, name: 'three', sql: 'CREATE TABLE b (y INTEGER); INSERT INTO b SELECT x FROM a;' };
  openDatabase(file, [m1]).close();
  // Given out of order: they still run by version.
  const db = open(t, file, [m3, m1, m2]);
  t.same(applied(db).map((r) => [r.version, r.name]), [[1, 'one'], [2, 'two'], [3, 'three']]);
  t.same(db.prepare('SELECT x FROM a ORDER BY x').pluck().all(), [1, 2], 'migration 1 ran once, then 2');
  t.same(db.prepare('SELECT y FROM b ORDER BY y').pluck().all(), [1, 2], 'migration 3 saw the result of 2');
  db.close();
  const reopened = open(t, file, [m1, m2, m3]);
  t.same(reopened.prepare('SELECT x FROM a ORDER BY x').pluck().all(), [1, 2], 'reopening inserts nothing');
});

t.test('a failing migration leaves nothing behind', async (t) => {
  const file = dbFile();
  const good: Migration = { version: 1, name: 'good', sql: 'CREATE TABLE a (x INTEGER);' };
  const bad: Migration = { version: 2, name: 'bad', sql: 'CREATE TABLE half (x INTEGER); INSERT INTO nowhere VALUES (1);' };
  t.throws(() => openDatabase(file, [good, bad]), /no such table: nowhere/);
  const db = open(t, file, [good]);
  t.same(applied(db).map((r) => r.version), [1], 'migration 2 is not recorded');
  t.notOk(tables(db).includes('half'), 'and its first statement was rolled back');
});

t.test('WAL journal, synchronous FULL, foreign keys, busy timeout', async (t) => {
  const db = open(t, dbFile());
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  t.equal(db.pragma('synchronous', { simple: true }), 2, 'synchronous = FULL (2)');
  t.equal(db.pragma('foreign_keys', { simple: true }), 1);
  t.equal(db.pragma('busy_timeout', { simple: true }), 5000);
  // WAL is a property of the file: another connection sees it without asking.
  const other = new Database(db.name, { readonly: true });
  t.teardown(() => other.close());
  t.equal(other.pragma('journal_mode', { simple: true }), 'wal', 'the file itself is in WAL mode');
});

t.test('the parent directory is created', async (t) => {
  const file = path.join(root, 'deep', 'er', 'site.db');
  open(t, file);
  t.ok(existsSync(file), 'the file exists');
});

t.test('a database from a newer schema version is refused with a clear message', async (t) => {
  const file = dbFile();
  const db = openDatabase(file);
  db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(LATEST + 5, 'from the future', Date.now());
  db.close();
  t.throws(
    () => openDatabase(file),
    { message: `the site database is at schema version ${LATEST + 5}, newer than this program knows (${LATEST}); upgrade osdeploy` },
  );
  t.notOk(existsSync(`${file}-wal`), 'the refused connection was closed (the last close removes the WAL file)');
  // Nothing was changed by the refused open.
  const raw = new Database(file, { readonly: true });
  t.teardown(() => raw.close());
  t.same((raw.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all() as number[]).at(-1), LATEST + 5);
});

t.test('an older program with fewer migrations refuses too', async (t) => {
  const file = dbFile();
  const v1: Migration = { version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER);' };
  const v2: Migration = { version: 2, name: 'two', sql: 'CREATE TABLE b (x INTEGER);' };
  openDatabase(file, [v1, v2]).close();
  t.throws(() => openDatabase(file, [v1]), /schema version 2, newer than this program knows \(1\); upgrade osdeploy/);
});

t.test('counters survive closing and reopening', async (t) => {
  const file = dbFile();
  const store = new SqliteSiteStore(openDatabase(file), { ownsDb: true });
  for (let i = 0; i < 10; i++) await store.ids.claim('computer', String);
  await store.close();
  const again = new SqliteSiteStore(open(t, file));
  t.equal(await again.ids.claim('computer', String), '11');
});
