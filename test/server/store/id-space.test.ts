/**
 * One id space (issue 14): no two objects of a site share an id, whatever their kinds. Collection
 * ids (PS1 + hex(0x10 + n)) and package/task sequence ids (PS1 + hex(n)) overlap from the 16th
 * package on; a copied task sequence once got PS100011, an existing collection's id.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openDatabase } from '../../../server/store/db.js';
import { SqliteSiteStore } from '../../../server/store/sqlite/store.js';
import { MIGRATIONS } from '../../../server/store/migrations.js';
import { apiHarness } from '../../fixtures/api-harness.js';

t.test('collections, task sequences, copies and content never share an id', async (t) => {
  const h = await apiHarness(t);
  const collections: string[] = [];
  for (const name of ['Lab A', 'Lab B', 'Lab C']) {
    const c = await h.call('POST', '/collections', { body: { name } });
    t.equal(c.status, 201, c.body);
    collections.push(c.json.id);
  }
  t.same(collections, ['PS100011', 'PS100012', 'PS100013'], 'collections are numbered as before');

  const boot = await h.call('POST', '/content', { body: { kind: 'bootImage', name: 'Linux', architecture: 'x64', os: 'linux', boot: { os: 'linux', kernel: 'linux/vmlinuz', initrds: ['linux/initrd.img'], cmdline: 'console=ttyS0' } } });
  t.equal(boot.status, 201, boot.body);
  const packages = [boot.json.id as string];
  for (let i = 0; packages.length < 20; i++) {
    const ts = await h.call('POST', '/task-sequences', { body: { type: 'custom', name: `TS ${i}`, bootImageId: boot.json.id } });
    t.equal(ts.status, 201, ts.body);
    packages.push(ts.json.id);
    if (i % 4 === 0) {
      const copy = await h.call('POST', `/task-sequences/${ts.json.id}/copy`, { body: { name: `Copy of TS ${i}` } });
      t.equal(copy.status, 201, copy.body);
      packages.push(copy.json.id);
    }
  }
  const held = packages.filter((id) => collections.includes(id));
  t.same(held, [], 'no task sequence, copy or content took a collection id');
  t.ok(packages.includes('PS100014'), 'the package numbers went on past the collections');
  t.equal(new Set([...packages, ...collections]).size, packages.length + collections.length, 'every id is different');

  // A collection made after the packages passed its numbers skips the ones they hold.
  const later = await h.call('POST', '/collections', { body: { name: 'Lab D' } });
  t.equal(later.status, 201, later.body);
  t.notOk(packages.includes(later.json.id), `the next collection (${later.json.id}) takes no package id`);
  t.equal((await h.call('GET', `/collections/${later.json.id}`)).json.name, 'Lab D');
});

t.test('an older database: the migration claims every stored id, so a new one skips them', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'osdeploy-ids-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'site.db');
  const v6 = openDatabase(file, MIGRATIONS.filter((m) => m.version <= 6));
  v6.prepare("INSERT INTO collections (id, name, doc) VALUES ('PS100011', 'Lab B', '{}')").run();
  v6.prepare("INSERT INTO counters (name, value) VALUES ('package', 16)").run();
  v6.close();

  const db = openDatabase(file);
  t.teardown(() => db.close());
  t.same(db.prepare('SELECT id, kind FROM site_ids').all(), [{ id: 'PS100011', kind: 'collection' }], 'the stored collection id is claimed');
  const store = new SqliteSiteStore(db);
  const packageId = (n: number): string => `PS1${n.toString(16).toUpperCase().padStart(5, '0')}`;
  const id = await store.ids.claim('package', packageId);
  t.equal(id, 'PS100012', 'the 17th package skips the collection id PS100011');
  await t.rejects(
    store.transaction(async (tx) => {
      await tx.ids.claim('package', packageId);
      throw new Error('refused');
    }),
    /refused/,
  );
  const rolledBack = await store.ids.claim('package', packageId);
  t.equal(rolledBack, 'PS100013', 'a rolled-back claim gives its id back');
});
