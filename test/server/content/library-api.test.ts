/**
 * R-04 R-06 the content service over /api/v1: objects imported from source folders into the
 * single-instance store, versions, unchanged re-imports, failed imports that leave nothing, and
 * objects registered without source files (usable as they are, as before the library existed).
 */
import { readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { apiHarness, type ApiHarness } from '../../fixtures/api-harness.js';
import { folder, tempDir } from './harness.js';

async function blobCount(h: ApiHarness): Promise<number> {
  let n = 0;
  for await (const _ of h.ctx.library.store.list()) n++;
  return n;
}

t.test('R-06 importing a folder makes version 1; unchanged re-import makes none; a change makes version 2', async (t) => {
  const h = await apiHarness(t);
  const src = folder(t, { 'setup.exe': 'MZ setup', 'docs/readme.txt': 'read me' });
  const created = await h.call('POST', '/content', { body: { kind: 'package', name: 'Tools', sourcePath: src, programs: [{ name: 'Install', commandLine: 'setup.exe /q' }] } });
  t.equal(created.status, 201, created.body);
  t.match(created.json, { kind: 'package', name: 'Tools', usable: true, withoutSource: false, sourcePath: src, imported: { version: 1, changed: true }, currentVersion: { version: 1, fileCount: 2, totalSize: 15 } });
  const id = created.json.id;

  const files = await h.call('GET', `/content/${id}/versions/1`);
  t.same(files.json.files.map((f: { path: string }) => f.path), ['docs/readme.txt', 'setup.exe']);
  const again = await h.call('POST', `/content/${id}/import`, { body: {} });
  t.match(again.json, { changed: false, version: { version: 1 } }, 'R-06 the recorded source, unchanged: no new version');

  writeFileSync(path.join(src, 'setup.exe'), 'MZ setup 2');
  const changed = await h.call('POST', `/content/${id}/import`, { body: {} });
  t.match(changed.json, { changed: true, version: { version: 2, fileCount: 2 } });
  t.same((await h.call('GET', `/content/${id}/versions`)).json.items.map((v: { version: number }) => v.version), [1, 2]);
  t.equal((await h.call('GET', `/content/${id}/versions/1`)).status, 200, 'older versions stay');
  t.equal((await h.call('GET', `/content/${id}/versions/3`)).status, 404);
  const audit = (await h.call('GET', `/audit?target=${id}`)).json.items.map((a: { action: string }) => a.action);
  t.same(audit, ['content.imported', 'content.imported', 'content.created']);
});

t.test('R-06 files are stored once: two packages sharing a file share its blob', async (t) => {
  const h = await apiHarness(t);
  const shared = 'shared runtime bytes';
  await h.call('POST', '/content', { body: { kind: 'package', name: 'A', sourcePath: folder(t, { 'vc.exe': shared, 'a.txt': 'a' }) } });
  await h.call('POST', '/content', { body: { kind: 'driverPackage', name: 'B', sourcePath: folder(t, { 'x/vc.exe': shared, 'b.txt': 'b' }) } });
  t.equal(await blobCount(h), 3, 'three distinct files, three blobs');
  const storeRoot = path.join(h.dataDir, 'content', 'store');
  t.ok(readdirSync(storeRoot).some((d) => /^[0-9a-f]{2}$/.test(d)), 'blobs live under DATA_DIR/content/store');
});

t.test('R-06 R-32 a failed import leaves no object and says which field', async (t) => {
  const h = await apiHarness(t);
  const before = (await h.call('GET', '/content')).json.items.length;
  const missing = await h.call('POST', '/content', { body: { kind: 'package', name: 'Nope', sourcePath: path.join(tempDir(t), 'absent') } });
  t.equal(missing.status, 400);
  t.match(missing.json, { error: 'invalid', field: 'sourcePath', message: /cannot be read/ });
  const outside = folder(t, { 'ok.txt': 'ok' });
  symlinkSync('/etc/hostname', path.join(outside, 'escape'));
  const hostile = await h.call('POST', '/content', { body: { kind: 'package', name: 'Escape', sourcePath: outside } });
  t.equal(hostile.status, 400);
  t.match(hostile.json, { field: 'sourcePath', message: /points outside the source folder/ });
  t.equal((await h.call('GET', '/content')).json.items.length, before, 'no half-made object');
  t.equal(await blobCount(h), 0, 'nothing stored for the refused link');
});

t.test('R-04 an object without source files is usable; a retired one is not; the first import adds files', async (t) => {
  const h = await apiHarness(t);
  const c = await h.call('POST', '/content', { body: { kind: 'package', name: 'Registered', allowRunFromDistributionPoint: true } });
  t.match(c.json, { usable: true, withoutSource: true, currentVersion: null, allowRunFromDistributionPoint: true });
  const retired = await h.call('PATCH', `/content/${c.json.id}`, { body: { usable: false, unusableReason: 'replaced by PS1000FF' } });
  t.match(retired.json, { usable: false, unusableReason: 'replaced by PS1000FF' });
  t.match((await h.call('PATCH', `/content/${c.json.id}`, { body: { usable: true } })).json, { usable: true });
  const imported = await h.call('POST', `/content/${c.json.id}/import`, { body: { sourcePath: folder(t, { 'run.cmd': 'echo' }) } });
  t.match(imported.json, { changed: true, content: { withoutSource: false, usable: true, allowRunFromDistributionPoint: true, currentVersion: { version: 1 } } });
  const none = await h.call('POST', `/content/${(await h.call('POST', '/content', { body: { kind: 'osImage', name: 'X' } })).json.id}/import`, { body: {} });
  t.match(none, { status: 400, json: { field: 'sourcePath', message: /no source folder/ } });
});

t.test('R-04 fields a kind does not have are refused by name; dependencies must exist', async (t) => {
  const h = await apiHarness(t);
  t.match(await h.call('POST', '/content', { body: { kind: 'package', name: 'P', dependencies: ['PS100001'] } }), { status: 400, json: { field: 'dependencies' } });
  t.match(await h.call('POST', '/content', { body: { kind: 'application', name: 'A', dependencies: ['PS1FFFFF'] } }), { status: 404, json: { field: 'dependencies' } });
  t.match(await h.call('POST', '/content', { body: { kind: 'application', name: 'A', architecture: 'x64' } }), { status: 400, json: { field: 'architecture' } });
  const boot = await h.call('POST', '/content', { body: { kind: 'bootImage', name: 'PE', boot: { os: 'winpe', wim: 'boot.wim' } } });
  t.match(boot.json, { kind: 'bootImage', os: 'winpe', architecture: 'x64', boot: { os: 'winpe', wim: 'boot.wim' } }, 'defaults: x64, Windows PE');
  t.match(await h.call('PATCH', `/content/${boot.json.id}`, { body: { kind: 'package' } }), { status: 400, json: { field: 'kind' } });
});

t.test('R-31 roles: admins import and read; technicians see boot images only; clients read only version file lists', async (t) => {
  const h = await apiHarness(t);
  const c = await h.call('POST', '/content', { body: { kind: 'package', name: 'P', sourcePath: folder(t, { 'a.txt': 'a' }) } });
  const id = c.json.id;
  t.equal((await h.call('POST', '/content', { token: h.tokens.technician, body: { kind: 'package', name: 'T' } })).status, 403);
  t.equal((await h.call('POST', `/content/${id}/import`, { token: h.tokens.client, body: {} })).status, 403);
  t.equal((await h.call('GET', `/content/${id}`, { token: h.tokens.technician })).status, 403, 'technicians read no content records');
  t.equal((await h.call('GET', `/content/${id}/versions/1`, { token: h.tokens.technician })).status, 403);
  t.same((await h.call('GET', '/boot-images', { token: h.tokens.technician })).json, { items: [] }, 'only boot images, and a package is none');
  t.equal((await h.call('GET', '/content', { token: h.tokens.client })).status, 403);
  t.equal((await h.call('GET', `/content/${id}/versions/1`, { token: h.tokens.client })).status, 200, 'the engine checks file lists against manifest hashes');
  t.equal((await h.call('GET', `/content/${id}/versions/1`, { token: null })).status, 401);
});
