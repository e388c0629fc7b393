import { writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import t from 'tap';
import { FsContentStore } from '../../content/fs-store.js';
import {
  createContent,
  getContent,
  importFolder,
  readFileRange,
  resolveFile,
  verifyVersion,
  type ContentLibrary,
} from '../../content/library.js';
import { contentInfoOf } from '../../content/model.js';
import { MemoryLibraryRecords } from '../../content/records.js';
import { FailingPutStore, LATER, NOW, folders, memoryLibrary, pkg } from './library-fixture.js';
import { collect, readAll, rejectsCode, sha256Of } from './store-contract.js';

const text = async (s: Promise<Readable>) => (await readAll(await s)).toString();

t.test('R-06 the first import makes version 1 with a canonical manifest', async (t) => {
  const lib = memoryLibrary();
  const folder = t.testdir({ 'setup.exe': 'MZ-setup', sub: { 'b.cab': 'cab!', 'a.ini': '[x]' } });
  await createContent(lib, pkg('PS100001'));
  t.equal(contentInfoOf(await getContent(lib, 'PS100001')).usable, false, 'no version yet: unusable (R-04)');
  const r = await importFolder(lib, 'PS100001', folder, NOW);
  t.equal(r.changed, true);
  t.equal(r.version.version, 1);
  t.equal(r.version.createdAt, '2025-03-01T10:00:00.000Z');
  const files = [
    { path: 'setup.exe', sha256: sha256Of('MZ-setup'), size: 8 },
    { path: 'sub/a.ini', sha256: sha256Of('[x]'), size: 3 },
    { path: 'sub/b.cab', sha256: sha256Of('cab!'), size: 4 },
  ];
  t.same(r.version.files, files, 'relative, / separated, sorted by path');
  t.equal(r.version.totalSize, 15);
  // Built by hand, not by the code under test: keys sorted, no whitespace.
  const canonical = `[${files.map((f) => `{"path":"${f.path}","sha256":"${f.sha256}","size":${f.size}}`).join(',')}]`;
  t.equal(r.version.manifestSha256, sha256Of(canonical));
  const stored = await getContent(lib, 'PS100001');
  t.equal(stored.sourcePath, folder);
  t.same(stored.versions, [r.version]);
  t.equal(contentInfoOf(stored).usable, true);
  t.equal(await text(readFileRange(lib, 'PS100001', 1, 'sub/b.cab')), 'cab!');
});

t.test('R-06 re-importing an unchanged folder makes no new version', async (t) => {
  const lib = memoryLibrary();
  const folder = t.testdir({ 'a.txt': 'alpha', 'b.txt': 'beta' });
  await createContent(lib, pkg('P1'));
  const first = await importFolder(lib, 'P1', folder, NOW);
  const blobs = await collect(lib.store.list());
  const again = await importFolder(lib, 'P1', folder, LATER);
  t.equal(again.changed, false);
  t.same(again.version, first.version, 'the current version comes back, createdAt unchanged');
  t.equal((await getContent(lib, 'P1')).versions.length, 1);
  t.same(await collect(lib.store.list()), blobs, 'no new blobs');
});

t.test('R-06 a changed folder makes version N+1 and older versions stay readable', async (t) => {
  const lib = memoryLibrary();
  const dir = folders(t, { v1: { 'a.txt': 'alpha', 'b.txt': 'beta' }, v2: { 'a.txt': 'ALPHA', 'c.txt': 'gamma' } });
  const [v1, v2] = [dir('v1'), dir('v2')];
  await createContent(lib, pkg('P1'));
  await importFolder(lib, 'P1', v1, NOW);
  const r = await importFolder(lib, 'P1', v2, LATER);
  t.equal(r.changed, true);
  t.equal(r.version.version, 2);
  t.same(r.version.files.map((f) => f.path), ['a.txt', 'c.txt']);
  t.equal((await getContent(lib, 'P1')).sourcePath, v2, 'source becomes the last import path');
  t.equal(await text(readFileRange(lib, 'P1', 1, 'a.txt')), 'alpha');
  t.equal(await text(readFileRange(lib, 'P1', 2, 'a.txt')), 'ALPHA');
  t.equal(await text(readFileRange(lib, 'P1', 'latest', 'c.txt')), 'gamma');
  await rejectsCode(t, readFileRange(lib, 'P1', 2, 'b.txt'), 'not-found', 'b.txt left in version 2');
  t.equal((await importFolder(lib, 'P1', v1, LATER)).version.version, 3, 'going back to old files is a new version');
});

t.test('R-06 two packages sharing a file share its bytes', async (t) => {
  const lib = memoryLibrary();
  await createContent(lib, pkg('P1'));
  await createContent(lib, pkg('P2'));
  const dir = folders(t, {
    p1: { 'vc_redist.exe': 'shared runtime', 'one.msi': 'one' },
    p2: { deps: { 'vc_redist.exe': 'shared runtime' }, 'two.msi': 'two' },
  });
  await importFolder(lib, 'P1', dir('p1'), NOW);
  await importFolder(lib, 'P2', dir('p2'), NOW);
  t.same(await collect(lib.store.list()), [sha256Of('shared runtime'), sha256Of('one'), sha256Of('two')].sort(), 'three blobs for four files');
});

t.test('crash mid-import (3rd put fails): no new version is visible, and a retry works', async (t) => {
  const real = memoryLibrary();
  const dir = folders(t, {
    v1: { '1.bin': 'one', '2.bin': 'two', '3.bin': 'three', '4.bin': 'four' },
    v2: { '1.bin': 'uno', '2.bin': 'dos', '3.bin': 'tres', '4.bin': 'cuatro' },
  });
  const folder = dir('v1');
  await createContent(real, pkg('P1'));
  const crashing: ContentLibrary = { store: new FailingPutStore(real.store, 3), records: real.records };
  await t.rejects(importFolder(crashing, 'P1', folder, NOW), { message: 'injected failure on put 3' });
  t.same((await getContent(real, 'P1')).versions, [], 'first import: still no version');
  t.equal(await real.store.has(sha256Of('three')), false, 'the failed blob is not stored');

  const ok = await importFolder(real, 'P1', folder, NOW);
  t.equal(ok.version.version, 1);
  t.equal(ok.version.files.length, 4);

  const changed = dir('v2');
  const crashAgain: ContentLibrary = { store: new FailingPutStore(real.store, 3), records: real.records };
  await t.rejects(importFolder(crashAgain, 'P1', changed, LATER));
  const after = await getContent(real, 'P1');
  t.same(after.versions.map((v) => v.version), [1], 're-import crash: version 1 stays current, no version 2');
  t.equal(after.sourcePath, folder, 'nothing of the failed import is recorded');
  t.equal((await importFolder(real, 'P1', changed, LATER)).version.version, 2, 'retry makes version 2');
});

t.test('imports of one content object run one at a time: neither version is lost', async (t) => {
  const lib = memoryLibrary();
  await createContent(lib, pkg('P1'));
  const dir = folders(t, { a: { 'x.txt': 'first' }, b: { 'x.txt': 'second' } });
  const [a, b] = await Promise.all([
    importFolder(lib, 'P1', dir('a'), NOW),
    importFolder(lib, 'P1', dir('b'), NOW),
  ]);
  t.same([a.version.version, b.version.version], [1, 2]);
  t.same((await getContent(lib, 'P1')).versions.map((v) => v.version), [1, 2]);
});

t.test('R-06 verifyVersion names every path whose stored bytes are corrupt or missing', async (t) => {
  const dir = folders(t, { store: {}, src: { 'ok.txt': 'fine', 'bad.txt': 'will rot', copy: { 'bad.txt': 'will rot' }, 'gone.txt': 'lost' } });
  const lib = { store: new FsContentStore(dir('store')), records: new MemoryLibraryRecords() };
  await createContent(lib, pkg('P1'));
  const folder = dir('src');
  await importFolder(lib, 'P1', folder, NOW);
  const clean = await verifyVersion(lib, 'P1', 1);
  t.same(clean, { id: 'P1', version: 1, ok: true, manifestOk: true, blobsChecked: 3, mismatches: [] });

  writeFileSync(lib.store.pathOf(sha256Of('will rot')), 'will r0t'); // same size, different bytes
  await lib.store.delete(sha256Of('lost'));
  const report = await verifyVersion(lib, 'P1', 'latest');
  t.equal(report.ok, false);
  t.same(report.mismatches, [
    { path: 'bad.txt', sha256: sha256Of('will rot'), reason: 'corrupt' },
    { path: 'copy/bad.txt', sha256: sha256Of('will rot'), reason: 'corrupt' },
    { path: 'gone.txt', sha256: sha256Of('lost'), reason: 'missing' },
  ]);
  t.same((await importFolder(lib, 'P1', folder, LATER)).changed, false);
  t.same((await verifyVersion(lib, 'P1', 1)).mismatches.map((m) => m.path), ['bad.txt', 'copy/bad.txt'], 're-import restored the missing blob; a present corrupt one stays until deleted');
});

t.test('R-22 readFileRange streams ranges via the store and refuses what is not there', async (t) => {
  const lib = memoryLibrary();
  await createContent(lib, pkg('P1'));
  await importFolder(lib, 'P1', t.testdir({ boot: { 'boot.sdi': '0123456789' } }), NOW);
  t.equal(await text(readFileRange(lib, 'P1', 1, 'boot/boot.sdi', { start: 2, end: 4 })), '234');
  t.equal(await text(readFileRange(lib, 'P1', 1, 'boot\\boot.sdi', { start: 9, end: 9 })), '9', 'Windows separators');
  t.same(await resolveFile(lib, 'P1', 1, './boot//boot.sdi'), { path: 'boot/boot.sdi', sha256: sha256Of('0123456789'), size: 10 });
  await rejectsCode(t, readFileRange(lib, 'P1', 1, 'boot/boot.sdi', { start: 5, end: 10 }), 'range-not-satisfiable');
  await rejectsCode(t, readFileRange(lib, 'P1', 2, 'boot/boot.sdi'), 'not-found', 'no version 2');
  await rejectsCode(t, readFileRange(lib, 'P9', 1, 'boot/boot.sdi'), 'not-found', 'no content P9');
  await rejectsCode(t, readFileRange(lib, 'P1', 1, 'boot/missing'), 'not-found', 'no such file');
  for (const bad of ['../boot/boot.sdi', 'boot/../../etc/passwd', '/etc/passwd', 'C:\\boot.sdi', 'boot\0.sdi', '']) {
    await rejectsCode(t, readFileRange(lib, 'P1', 1, bad), 'hostile-path', JSON.stringify(bad));
  }
});

t.test('creating content validates it and refuses duplicates', async (t) => {
  const lib = memoryLibrary();
  await createContent(lib, pkg('P1'));
  await rejectsCode(t, createContent(lib, pkg('P1')), 'exists');
  await rejectsCode(t, createContent(lib, pkg('../P2')), 'invalid', 'hostile id');
  await rejectsCode(t, createContent(lib, pkg('P3', { name: ' ' })), 'invalid', 'blank name');
  const boot = { kind: 'bootImage', id: 'B1', name: 'WinPE x64', sourcePath: '', os: 'linux', architecture: 'x64', boot: { os: 'winpe', wim: 'boot.wim' } } as const;
  await rejectsCode(t, createContent(lib, boot), 'invalid', 'os disagrees with boot files');
  await createContent(lib, { ...boot, os: 'winpe' });
  const app = { kind: 'application', id: 'A1', name: 'App', sourcePath: '', dependencies: ['A1'], revision: 1 } as const;
  await rejectsCode(t, createContent(lib, app), 'invalid', 'self dependency');
  await rejectsCode(t, importFolder(lib, 'nope', t.testdir({ x: 'x' }), NOW), 'not-found');
  await rejectsCode(t, importFolder(lib, 'P1', t.testdir({ x: 'x' }), new Date('garbage')), 'invalid');
  t.same((await lib.records.list()).map((r) => r.id), ['B1', 'P1']);
});
