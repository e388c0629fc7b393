/**
 * R-08 prestaged content files: made from a library, imported at another point with every hash
 * checked; R-32 corrupt, truncated and hostile archives refused with a clear error and nothing
 * half-imported. Hostile archives are built here with tar-stream directly, not by the writer.
 */
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import t from 'tap';
import tar from 'tar-stream';
import { FsContentStore } from '../../content/fs-store.js';
import { createContent, importFolder, readFileRange, type ContentLibrary } from '../../content/library.js';
import { manifestOf, type ContentObject } from '../../content/model.js';
import { importPrestaged } from '../../content/prestage-import.js';
import { METADATA_ENTRY, PRESTAGE_FORMAT, prestageMetadata, writePrestaged, type PrestageMetadata } from '../../content/prestage.js';
import { MemoryLibraryRecords } from '../../content/records.js';
import { NOW, memoryLibrary, pkg } from './library-fixture.js';
import { collect, readAll, rejectsCode, sha256Of } from './store-contract.js';

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

async function source(t: Tap) {
  const lib = memoryLibrary();
  await createContent(lib, pkg('P1'));
  await createContent(lib, { kind: 'application', id: 'A1', name: 'App', sourcePath: '', dependencies: ['P1', 'RUNTIME'], revision: 1 });
  const dir = t.testdir({ p1: { 'setup.exe': 'MZ setup', 'shared.cab': 'shared bytes' }, a1: { 'app.msi': 'msi!', 'shared.cab': 'shared bytes' } });
  await importFolder(lib, 'P1', path.join(dir, 'p1'), NOW);
  await importFolder(lib, 'A1', path.join(dir, 'a1'), NOW);
  return { lib, objects: [(await lib.records.get('A1'))!, (await lib.records.get('P1'))!], dir };
}

/** A point with a real store in its own temp dir (t.testdir() is one per test and would be reset). */
function fsLibrary(t: Tap): ContentLibrary & { store: FsContentStore } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'osdeploy-prestage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return { store: new FsContentStore(path.join(dir, 'store')), records: new MemoryLibraryRecords() };
}

async function writeFile(lib: ContentLibrary, meta: PrestageMetadata, file: string): Promise<void> {
  await writePrestaged(lib.store, meta, createWriteStream(file));
}

interface Entry {
  readonly name: string;
  readonly data?: Buffer | string;
  readonly type?: 'file' | 'symlink' | 'directory' | 'link';
  readonly linkname?: string;
}

/** A gzip'd tar made entry by entry, so tests can put anything in it. */
async function archive(entries: readonly Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const isFile = (e.type ?? 'file') === 'file';
    const header = { name: e.name, type: e.type ?? 'file', size: isFile ? data.length : 0, ...(e.linkname ? { linkname: e.linkname } : {}) };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (isFile) pack.entry(header, data, done);
      else pack.entry(header, done).end(Buffer.alloc(0));
    });
  }
  pack.finalize();
  await collected;
  return gzipSync(Buffer.concat(chunks));
}

const meta1 = (file: string, bytes: string): PrestageMetadata => {
  const files = [{ path: file, sha256: sha256Of(bytes), size: Buffer.byteLength(bytes) }];
  const m = manifestOf(files);
  const object = { ...pkg('P9'), versions: [{ version: 1, createdAt: NOW.toISOString(), files: m.files, totalSize: files[0]!.size, manifestSha256: m.sha256 }] } as ContentObject;
  return { format: PRESTAGE_FORMAT, createdAt: NOW.toISOString(), origin: 'test', content: [{ object, version: 1, dependencies: [] }], blobs: [{ sha256: files[0]!.sha256, size: files[0]!.size }] };
};

async function assertNothingImported(t: Tap, lib: ContentLibrary & { store: FsContentStore }) {
  t.same(await collect(lib.store.list()), [], 'no blob left behind');
  t.same(await lib.records.list(), [], 'no content recorded');
}

t.test('R-08 a prestaged file carries the versions, dependencies and blobs once; importing it installs them', async (t) => {
  const { lib, objects } = await source(t);
  const meta = prestageMetadata(objects.map((object) => ({ object })), 'site PS1', NOW);
  t.same(meta.content.map((c) => [c.object.id, c.version, c.dependencies]), [['A1', 1, ['P1', 'RUNTIME']], ['P1', 1, []]]);
  t.equal(meta.blobs.length, 3, 'the shared file is carried once (single instance)');
  const file = path.join(t.testdir(), 'content.osdpkg.tgz');
  await writeFile(lib, meta, file);

  const point = fsLibrary(t);
  const r = await importPrestaged(point, createReadStream(file));
  t.same(r.content.map((c) => c.id), ['A1', 'P1']);
  t.same([r.blobs, r.stored], [3, 3]);
  t.same(r.missingDependencies, ['RUNTIME'], 'a dependency neither carried nor held is reported');
  t.same((await point.records.get('P1'))!.versions, objects[1]!.versions);
  t.equal((await readAll(await readFileRange(point, 'A1', 1, 'app.msi'))).toString(), 'msi!');
  for (const b of meta.blobs) t.ok(await point.store.verify(b.sha256), `blob ${b.sha256.slice(0, 8)} verifies`);

  const again = await importPrestaged(point, createReadStream(file));
  t.equal(again.stored, 0, 'importing twice stores nothing new');
});

t.test('R-32 a truncated or corrupt file is refused with a clear error and nothing half-imported', async (t) => {
  const { lib, objects } = await source(t);
  const file = path.join(t.testdir(), 'full.tgz');
  await writeFile(lib, prestageMetadata(objects.map((object) => ({ object })), 'site PS1', NOW), file);
  const bytes = readFileSync(file);
  const cases: [string, Buffer, RegExp][] = [
    ['truncated gzip', bytes.subarray(0, bytes.length - 30), /truncated or corrupt|unexpected end/],
    ['half the file', bytes.subarray(0, Math.floor(bytes.length / 2)), /refused/],
    ['a flipped byte', Buffer.from(bytes).fill(0x55, 200, 260), /refused/],
    ['not gzip at all', Buffer.from('PK\x03\x04 this is a zip'), /truncated or corrupt/],
    ['empty', Buffer.alloc(0), /refused/],
  ];
  for (const [what, data, why] of cases) {
    const point = fsLibrary(t);
    try {
      await importPrestaged(point, Readable.from([data]));
      t.fail(`${what}: imported`);
    } catch (e) {
      t.match((e as Error).message, why, `${what}: says why`);
    }
    await assertNothingImported(t, point);
  }
});

t.test('R-32 hostile entries are refused: slip paths, links, lying sizes and hashes, strays', async (t) => {
  const good = meta1('setup.exe', 'MZ good');
  const sha = good.blobs[0]!.sha256;
  const json = (m: unknown) => JSON.stringify(m);
  const withFile = (p: string) => {
    const m = meta1(p, 'MZ good');
    return json(m);
  };
  const lyingManifest = json({ ...good, content: [{ ...good.content[0], object: { ...good.content[0]!.object, versions: [{ ...good.content[0]!.object.versions[0], manifestSha256: sha256Of('lie') }] } }] });
  const cases: [string, Entry[], RegExp][] = [
    ['zip slip after the metadata', [{ name: METADATA_ENTRY, data: json(good) }, { name: '../../etc/cron.d/evil', data: 'x' }], /unexpected entry/],
    ['absolute path', [{ name: METADATA_ENTRY, data: json(good) }, { name: '/etc/passwd', data: 'x' }], /unexpected entry/],
    ['blob entry outside blobs/', [{ name: METADATA_ENTRY, data: json(good) }, { name: `x/../blobs/${sha}`, data: 'MZ good' }], /unexpected entry/],
    ['a symlink', [{ name: METADATA_ENTRY, data: json(good) }, { name: `blobs/${sha}`, type: 'symlink', linkname: '/etc/passwd' }], /symlink/],
    ['a hard link', [{ name: METADATA_ENTRY, data: json(good) }, { name: `blobs/${sha}`, type: 'link', linkname: 'osdeploy-prestage.json' }], /link/],
    ['a directory', [{ name: METADATA_ENTRY, data: json(good) }, { name: 'blobs/', type: 'directory' }], /directory/],
    ['metadata not first', [{ name: `blobs/${sha}`, data: 'MZ good' }, { name: METADATA_ENTRY, data: json(good) }], /first entry must be/],
    ['size differs from the metadata', [{ name: METADATA_ENTRY, data: json(good) }, { name: `blobs/${sha}`, data: 'MZ goo' }], /metadata says 7/],
    ['lying hash (same size)', [{ name: METADATA_ENTRY, data: json(good) }, { name: `blobs/${sha}`, data: 'MZ evil' }], /hash/],
    ['a blob listed but missing', [{ name: METADATA_ENTRY, data: json(good) }], /missing/],
    ['a blob sent twice', [{ name: METADATA_ENTRY, data: json(good) }, { name: `blobs/${sha}`, data: 'MZ good' }, { name: `blobs/${sha}`, data: 'MZ good' }], /unexpected entry/],
    ['a hostile path inside a version', [{ name: METADATA_ENTRY, data: withFile('../../boot.ini') }, { name: `blobs/${sha}`, data: 'MZ good' }], /'\.\.' in content path/],
    ['a lying manifest hash', [{ name: METADATA_ENTRY, data: lyingManifest }, { name: `blobs/${sha}`, data: 'MZ good' }], /manifest hash/],
    ['metadata that is not JSON', [{ name: METADATA_ENTRY, data: '{nope' }], /not JSON/],
    ['another format', [{ name: METADATA_ENTRY, data: json({ ...good, format: 'zip/1' }) }], /not a osdeploy-prestage/],
  ];
  for (const [what, entries, why] of cases) {
    const point = fsLibrary(t);
    const data = await archive(entries);
    await rejectsCode(t, importPrestaged(point, Readable.from([data])), 'corrupt', what);
    try {
      await importPrestaged(point, Readable.from([data]));
    } catch (e) {
      t.match((e as Error).message, why, `${what}: says why`);
    }
    await assertNothingImported(t, point);
  }
  const point = fsLibrary(t);
  const ok = await importPrestaged(point, Readable.from([await archive([{ name: METADATA_ENTRY, data: json(good) }, { name: `blobs/${sha}`, data: 'MZ good' }])]));
  t.same(ok.content.map((c) => c.id), ['P9'], 'the same archive built honestly imports');
});

t.test('R-08 a conflicting version at the point refuses the whole file', async (t) => {
  const point = fsLibrary(t);
  const data = await archive([{ name: METADATA_ENTRY, data: JSON.stringify(meta1('a.exe', 'one')) }, { name: `blobs/${sha256Of('one')}`, data: 'one' }]);
  await importPrestaged(point, Readable.from([data]));
  const other = await archive([{ name: METADATA_ENTRY, data: JSON.stringify(meta1('a.exe', 'two')) }, { name: `blobs/${sha256Of('two')}`, data: 'two' }]);
  await rejectsCode(t, importPrestaged(point, Readable.from([other])), 'exists');
  t.equal(await point.store.has(sha256Of('two')), false, 'its blob was removed again');
});

t.test('R-08 nothing to prestage and missing versions are refused before writing', async (t) => {
  await rejectsCode(t, Promise.resolve().then(() => prestageMetadata([{ object: { ...pkg('E'), versions: [] } as ContentObject }], 'x', NOW)), 'not-found');
  await rejectsCode(t, Promise.resolve().then(() => prestageMetadata([{ object: { ...pkg('E'), withoutSource: true, versions: [] } as ContentObject }], 'x', NOW)), 'invalid');
  const { objects } = await source(t);
  await rejectsCode(t, Promise.resolve().then(() => prestageMetadata([{ object: objects[1]!, version: 7 }], 'x', NOW)), 'not-found');
});
