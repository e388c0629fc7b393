/**
 * R-06 the library's records on the site database: whole ContentObject documents with the
 * small ContentInfo policy reads beside them; migration 2 turns records of the metadata-only
 * era into objects without source files, keeping what references depend on.
 */
import path from 'node:path';
import t from 'tap';
import { createContent, getContent, importFolder } from '../../../content/library.js';
import { MemoryContentStore } from '../../../content/memory-store.js';
import { migrate, openDatabase } from '../../../server/store/db.js';
import { SiteLibraryRecords } from '../../../server/site/library-records.js';
import { MIGRATIONS } from '../../../server/store/migrations.js';
import { SqliteSiteStore } from '../../../server/store/sqlite/store.js';
import { folder, tempDir } from './harness.js';

t.test('R-06 migration 2 converts metadata-only content records and keeps their policy facts', async (t) => {
  const file = path.join(tempDir(t), 'site.db');
  const v1 = openDatabase(file, MIGRATIONS.filter((m) => m.version === 1));
  const put = v1.prepare('INSERT INTO content (id, kind, name, doc) VALUES (?, ?, ?, ?)');
  const old = [
    { kind: 'bootImage', id: 'PS100001', name: 'Boot', usable: true, dependencies: [], allowRunFromDistributionPoint: false },
    { kind: 'package', id: 'PS100002', name: 'Tools', usable: true, dependencies: [], allowRunFromDistributionPoint: true, architecture: 'x64' },
    { kind: 'application', id: 'PS100003', name: 'App', usable: true, dependencies: ['PS100004'], allowRunFromDistributionPoint: false },
    { kind: 'application', id: 'PS100004', name: 'Runtime', usable: false, unusableReason: 'source folder missing', dependencies: [], allowRunFromDistributionPoint: false },
  ];
  for (const o of old) put.run(o.id, o.kind, o.name, JSON.stringify(o));
  v1.close();

  const db = openDatabase(file);
  t.teardown(() => db.close());
  t.equal(migrate(db, MIGRATIONS), 0, 'already at the latest schema');
  const content = new SqliteSiteStore(db).content;
  t.match(await content.get('PS100001'), { kind: 'bootImage', os: 'winpe', architecture: 'x64', withoutSource: true, sourcePath: '', versions: [] });
  t.match(await content.get('PS100002'), { kind: 'package', programs: [], allowRunFromDistributionPoint: true });
  t.notOk('architecture' in (await content.get('PS100002'))!, 'a field the kind does not have is dropped');
  t.same(await content.info('PS100003'), { kind: 'application', id: 'PS100003', name: 'App', usable: true, dependencies: ['PS100004'] });
  t.same(await content.info('PS100004'), { kind: 'application', id: 'PS100004', name: 'Runtime', usable: false, unusableReason: 'source folder missing', dependencies: [] });
  t.same((await content.infos()).map((i) => i.id), ['PS100001', 'PS100002', 'PS100003', 'PS100004']);
  for (const table of ['distribution_points', 'distribution_point_groups', 'point_content', 'distribution_jobs']) {
    t.ok(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?").get(table), `table ${table}`);
  }
});

t.test('R-06 the content library runs on the content repository: one row per object, policy facts kept current', async (t) => {
  const db = openDatabase(path.join(tempDir(t), 'site.db'));
  t.teardown(() => db.close());
  const store = new SqliteSiteStore(db);
  const records = new SiteLibraryRecords(() => store.content, () => 42);
  const lib = { store: new MemoryContentStore(), records };
  await createContent(lib, { kind: 'package', id: 'P1', name: 'Pkg', sourcePath: '', programs: [], allowRunFromDistributionPoint: false });
  t.match(await store.content.info('P1'), { usable: false, unusableReason: 'no content version; import its source' });
  await importFolder(lib, 'P1', folder(t, { 'a.txt': 'a' }), new Date(0));
  t.match(await store.content.info('P1'), { usable: true });
  t.equal((await getContent(lib, 'P1')).versions.length, 1);
  t.same(db.prepare('SELECT current_version, updated_at FROM content WHERE id = ?').get('P1'), { current_version: 1, updated_at: 42 });
  t.same((await records.list()).map((o) => o.id), ['P1']);
  t.equal(await records.get('nope'), undefined);
  t.ok(await records.delete('P1'));
  t.equal(await store.content.info('P1'), null);
  t.equal(await records.delete('P1'), false);
});
