/**
 * R-32 hostile export archives: names that escape (zip slip: `..`, absolute, backslashes, drive
 * letters), unexpected and duplicate entries, too many entries, zip bombs caught from the
 * header and — when the header lies — while inflating, encrypted entries, and files that are
 * not zips. Each is refused with a clear error, nothing is imported, and the upload is removed.
 * Also: ZIP64 archives (forced, so no 4 GiB file is needed) read back and import.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { DEFAULT_LIMITS, readArchive } from '../../../server/site/export/archive-read.js';
import { exportToPath } from '../../../server/site/export/service.js';
import { apiHarness, type ApiHarness } from '../../fixtures/api-harness.js';
import { counts, must, planUpload, richSite, tempDir } from './fixture.js';
import { patchCentral, rename, zipOf } from './zip-tools.js';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const MANIFEST = { name: 'manifest.json', data: json({ format: 'osdeploy.task-sequence-export' }) };

/** Plans `zip` as an upload and checks it was refused for `message` with nothing left behind. */
async function refused(t: Test, h: ApiHarness, zip: Buffer, message: RegExp): Promise<void> {
  const before = counts(h);
  const r = await planUpload(h, zip, 'hostile.zip');
  t.equal(r.status, 400, r.body);
  t.match(r.json, { error: 'invalid', rule: 'R-32', field: 'archive', message });
  t.same(counts(h), before, 'nothing imported');
  const uploads = path.join(h.dataDir, 'imports', 'uploads');
  t.same(existsSync(uploads) ? readdirSync(uploads) : [], [], 'the upload is removed');
}

t.test('R-32 zip slip: names that escape are refused, each with its reason', async (t) => {
  const h = await apiHarness(t);
  const cases: [string, string, RegExp][] = [
    ['xx/evil.json', '../evil.json', /"\.\.\/evil\.json" contains '\.\.' and would escape the folder \(zip slip\)/],
    ['objects/xx/xx/x.json', 'objects/../../x.json', /would escape the folder \(zip slip\)/],
    ['xetc/passwd', '/etc/passwd', /"\/etc\/passwd" is an absolute path/],
    ['objects/PS1.json', 'objects\\PS1.json', /uses backslashes/],
    ['xx/windows/win.ini', 'C:/windows/win.ini', /starts with a drive letter/],
    ['objects/aXNUL.json', 'objects/a\0NUL.json', /NUL character/],
  ];
  for (const [standIn, hostile, message] of cases) {
    const zip = rename(await zipOf([MANIFEST, { name: standIn, data: json({}) }]), standIn, hostile);
    await refused(t, h, zip, message);
  }
});

t.test('R-32 only manifest.json and objects/<key>.json: anything else, and duplicates, are refused', async (t) => {
  const h = await apiHarness(t);
  await refused(t, h, await zipOf([MANIFEST, { name: 'run.sh', data: Buffer.from('rm -rf /') }]), /unexpected entry "run\.sh"/);
  await refused(t, h, await zipOf([MANIFEST, { name: 'objects/a b.json', data: json({}) }]), /unexpected entry/);
  await refused(t, h, await zipOf([MANIFEST, MANIFEST]), /entry "manifest\.json" appears twice/);
  await refused(t, h, await zipOf([MANIFEST, { name: 'objects/PS100001.json', data: json({}) }, { name: 'objects/ps100001.json', data: json({}) }]), /appears twice/);
  await refused(t, h, Buffer.from('PK\x03\x04 this is not really a zip'), /not a readable \.zip file/);
  await refused(t, h, Buffer.alloc(0), /not a readable \.zip file/);
});

t.test('R-32 too many entries are refused before any is read', async (t) => {
  const h = await apiHarness(t);
  const entries = [MANIFEST, ...Array.from({ length: DEFAULT_LIMITS.maxEntries }, (_, i) => ({ name: `objects/K${i}.json`, data: json({}) }))];
  await refused(t, h, await zipOf(entries), new RegExp(`holds ${DEFAULT_LIMITS.maxEntries + 1} entries; at most ${DEFAULT_LIMITS.maxEntries}`));
});

t.test('R-32 zip bombs: a ratio, a size or a total past the limits, from the header and while inflating', async (t) => {
  const h = await apiHarness(t);
  const zeros = Buffer.alloc(8 * 1024 * 1024);
  const bomb = await zipOf([MANIFEST, { name: 'objects/BOMB.json', data: zeros }]);
  await refused(t, h, bomb, /"objects\/BOMB\.json" claims a compression ratio above 200:1 \(a zip bomb\?\)/);
  // The header lies: it declares 1000 bytes, the deflate stream holds 8 MiB of zeros.
  await refused(t, h, patchCentral(bomb, 'objects/BOMB.json', 'uncompressedSize', 1000), /inflates to more than the 1000 bytes its header declares/);
  // Declared just under the ratio limit: inflating stops one chunk past the claim.
  await refused(t, h, patchCentral(bomb, 'objects/BOMB.json', 'uncompressedSize', 1024 * 1024 + 5), /inflates to more than the 1048581 bytes/);
  const big = await zipOf([MANIFEST, { name: 'objects/BIG.json', data: Buffer.alloc(DEFAULT_LIMITS.maxEntryBytes + 1, 'x') }]);
  await refused(t, h, big, /is 33554433 bytes; at most 33554432 are allowed/);

  const dir = tempDir(t);
  const file = path.join(dir, 'total.zip');
  writeFileSync(file, await zipOf([MANIFEST, ...[1, 2, 3].map((i) => ({ name: `objects/K${i}.json`, data: Buffer.alloc(4000, i) }))]));
  const limits = { ...DEFAULT_LIMITS, maxTotalBytes: 10_000, ratioFloor: 100 };
  await t.rejects(readArchive(file, limits), { rule: 'R-32', message: /the entries add up to more than 10000 bytes/ });
  await t.rejects(readArchive(file, { ...limits, maxTotalBytes: 1 << 20, maxRatio: 5 }), { message: /claims a compression ratio above 5:1/ });
});

t.test('R-32 encrypted entries are refused', async (t) => {
  const h = await apiHarness(t);
  const zip = await zipOf([MANIFEST, { name: 'objects/SECRET.json', data: json({}) }]);
  await refused(t, h, patchCentral(zip, 'objects/SECRET.json', 'flags', 0x0801), /"objects\/SECRET\.json" is encrypted/);
});

t.test('R-27 R-28 a ZIP64 export (forced) reads back and imports', async (t) => {
  const a = await apiHarness(t);
  const objs = await richSite(t, a);
  const out = await exportToPath(a.ctx, 'test', { taskSequenceIds: [objs.tsId], includeContent: false }, 'z64.zip', { forceZip64: true });
  const bytes = readFileSync(out.zip);
  t.ok(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])), 'the zip64 end of central directory record is there');
  t.ok(bytes.includes(Buffer.from([0x01, 0x00, 0x1c, 0x00])) || bytes.includes(Buffer.from([0x01, 0x00, 0x18, 0x00])) || bytes.includes(Buffer.from([0x01, 0x00, 0x10, 0x00])), 'entries carry the zip64 extra field');
  t.equal((await readArchive(out.zip)).size, 9);
  const b = await apiHarness(t);
  const plan = await planUpload(b, bytes, 'z64.zip');
  t.equal(plan.status, 201, plan.body);
  const done = await must(b, 'POST', `/task-sequences/import/${plan.json.planId}/commit`, {});
  t.equal(done.objects.length, 8);
});
