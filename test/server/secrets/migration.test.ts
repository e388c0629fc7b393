/**
 * Migration 6 (issue 13, item 7): a database an older osdeploy left — secrets in the clear in
 * site.db and in its WAL (a service killed before a checkpoint) and no key — is encrypted on the
 * first start: a key is made, every secret sealed, and the file rewritten so no old page keeps a
 * value in the clear. Without a key the migration refuses and changes nothing.
 */
import { copyFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { Collection } from '../../../policy/collections.js';
import type { Computer } from '../../../policy/computers.js';
import type { TaskSequence } from '../../../policy/task-sequences/model.js';
import { openDatabase } from '../../../server/store/db.js';
import { MIGRATIONS } from '../../../server/store/migrations.js';
import { allDocs } from '../../../server/store/docs.js';
import { pointSecret } from '../../../server/store/points.js';
import { getDoc } from '../../../server/store/docs.js';
import { ALL_SECRETS, foundIn, HIDDEN_VALUE, JOIN_PASSWORD, openSecretSite, POINT_TOKEN, populate, rawDatabase, SITE_FILES, tempDataDir, type Json, type Populated } from './fixture.js';

/** A data directory as a killed pre-migration-6 service leaves it: plaintext secrets, partly only in the WAL, no key. */
async function legacyDataDir(t: Tap): Promise<{ dataDir: string; ids: Populated }> {
  const source = await openSecretSite(t, tempDataDir(t));
  const ids = await populate(source);
  const db = source.db;
  const plain = {
    ts: allDocs<TaskSequence>(db, 'task_sequences'),
    collections: allDocs<Collection>(db, 'collections'),
    computers: allDocs<Computer>(db, 'computers'),
    point: pointSecret(db, ids.pointId),
  };
  // A database of version 5: the tables of 6 (secret keys) and 7 (one id space) go too.
  db.exec('DROP TABLE secret_keys; DROP TABLE site_ids; DELETE FROM schema_migrations WHERE version >= 6');
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.prepare('UPDATE distribution_points SET secret = ? WHERE id = ?').run(JSON.stringify(plain.point), ids.pointId);
  for (const c of plain.collections) db.prepare('UPDATE collections SET doc = ? WHERE id = ?').run(JSON.stringify(c), c.id);
  db.pragma('wal_checkpoint(TRUNCATE)');
  // These stay in the WAL only, as after a kill -9.
  for (const ts of plain.ts) db.prepare('UPDATE task_sequences SET doc = ? WHERE id = ?').run(JSON.stringify(ts), ts.id);
  for (const c of plain.computers) db.prepare('UPDATE computers SET doc = ? WHERE id = ?').run(JSON.stringify(c), c.id);
  const dataDir = tempDataDir(t);
  for (const f of SITE_FILES) if (existsSync(path.join(source.dataDir, f))) copyFileSync(path.join(source.dataDir, f), path.join(dataDir, f));
  await source.close();
  return { dataDir, ids };
}
type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

t.test('an older database with secrets in the clear is encrypted on start, WAL and free pages included', async (t) => {
  const { dataDir, ids } = await legacyDataDir(t);
  t.same(foundIn(rawDatabase(dataDir)).sort(), [...ALL_SECRETS].sort(), 'before: every secret is readable in the files');
  t.notOk(existsSync(path.join(dataDir, 'secret.key')));

  const s = await openSecretSite(t, dataDir);
  t.ok(existsSync(path.join(dataDir, 'secret.key')), 'a key was made');
  t.match(s.logs(), /encrypted 5 secret\(s\) an older version stored in the clear/);
  t.same(foundIn(rawDatabase(dataDir)), [], 'after: none is left in site.db, its WAL or its shm');
  t.same(foundIn(Buffer.from(s.logs())), [], 'nor in the logs');

  const ts = getDoc<TaskSequence>(s.db, 'task_sequences', ids.tsId)!;
  t.equal((ts.items[0] as Json).properties.password, JOIN_PASSWORD);
  t.equal(getDoc<Collection>(s.db, 'collections', ids.collectionId)!.variables.find((v) => v.hidden)?.value, HIDDEN_VALUE);
  t.equal(pointSecret(s.db, ids.pointId)?.token, POINT_TOKEN);
  t.equal((s.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v, Math.max(...MIGRATIONS.map((m) => m.version)), 'every migration ran');
  t.equal((await s.call('GET', `/collections/${ids.collectionId}`)).json.variables[0].value, null, 'still masked for people');
  await s.close();

  const again = await openSecretSite(t, dataDir);
  t.notMatch(again.logs(), /older version stored in the clear/, 'the migration runs once');
  t.equal(pointSecret(again.db, ids.pointId)?.token, POINT_TOKEN);
});

t.test('without a key the migration refuses and leaves the database as it was', async (t) => {
  const { dataDir } = await legacyDataDir(t);
  const file = path.join(dataDir, 'site.db');
  t.throws(() => openDatabase(file), /is stored in the clear and must be encrypted, but no secret key is loaded/);
  const db = openDatabase(file, MIGRATIONS.filter((m) => m.version < 6));
  t.teardown(() => db.close());
  t.equal((db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v, 5, 'migration 6 was rolled back');
  t.same(foundIn(rawDatabase(dataDir)).sort(), [...ALL_SECRETS].sort(), 'nothing was lost');
});
