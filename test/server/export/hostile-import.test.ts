/**
 * R-32 R-28 files that lie: a manifest whose hashes or lists do not match the entries, task
 * sequence JSON that fails validation (a secret in it, an unknown step, a broken tree), content
 * whose file list or files do not match what the export claims, a missing NAME_files folder, and
 * a hostile content upload. Each is refused with a clear error and nothing is half-imported.
 */
import { appendFileSync, cpSync, existsSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tar from 'tar-stream';
import t, { type Test } from 'tap';
import { readArchive } from '../../../server/site/export/archive-read.js';
import { apiHarness, type ApiHarness, type Json } from '../../fixtures/api-harness.js';
import { counts, exportTo, must, planPath, planUpload, richSite, type SiteObjects } from './fixture.js';
import { rewrite } from './zip-tools.js';

type Docs = Map<string, Json>;

async function setup(t: Test): Promise<{ a: ApiHarness; b: ApiHarness; objs: SiteObjects; entries: Map<string, Buffer>; out: Json }> {
  const a = await apiHarness(t);
  const objs = await richSite(t, a);
  const out = await exportTo(a, 'build.zip', { taskSequenceIds: [objs.tsId] });
  return { a, b: await apiHarness(t), objs, entries: await readArchive(out.zip), out };
}

async function refusedPlan(t: Test, b: ApiHarness, zip: Buffer, message: RegExp, status = 400): Promise<void> {
  const before = counts(b);
  const r = await planUpload(b, zip, 'lying.zip');
  t.equal(r.status, status, r.body);
  t.match(r.json?.message, message);
  t.same(counts(b), before, 'nothing imported');
}

t.test('R-32 a manifest that lies about its entries is refused', async (t) => {
  const { b, objs, entries } = await setup(t);
  const ts = `objects/${objs.tsId}.json`;
  await refusedPlan(t, b, await rewrite(entries, (d) => (d.get(ts).name = 'Tampered'), { fixHashes: false }), new RegExp(`${ts} does not match manifest\\.json: it is \\d+ bytes with sha256 [0-9a-f]{64}, the manifest says`));
  await refusedPlan(t, b, await rewrite(entries, (d) => d.delete(`objects/${objs.osImage}.json`), { fixHashes: false }), /lists objects\/PS\w+\.json, which the file does not hold/);
  await refusedPlan(t, b, await rewrite(entries, (d) => d.set('objects/EXTRA.json', {})), /entry objects\/EXTRA\.json is not listed in manifest\.json/);
  await refusedPlan(t, b, await rewrite(entries, (d) => (d.get(ts).name = 'Renamed')), /is named "Renamed", the manifest says "Install Windows 11"/);
  await refusedPlan(t, b, await rewrite(entries, (d) => (d.get('manifest.json').formatVersion = 9)), /made by a newer osdeploy \(format version 9\)/);
  await refusedPlan(t, b, await rewrite(entries, (d) => (d.get('manifest.json').format = 'something else')), /not an osdeploy task sequence export/);
  await refusedPlan(t, b, await rewrite(entries, (d) => (d.get('manifest.json').objects[0].extra = 1)), /objects\.0: unknown field extra/);
  await refusedPlan(t, b, await rewrite(entries, (d) => (d.get('manifest.json').objects[1].entry = '../x.json')), /must be stored as objects\/PS\w+\.json, not "\.\.\/x\.json"/);
  await refusedPlan(t, b, await rewrite(entries, (d) => (d.get('manifest.json').objects[0].dependsOn = ['GHOST'])), /depends on GHOST, which the file does not list/);
  await refusedPlan(t, b, await rewrite(entries, (d) => (d.get('manifest.json').objects[0].strippedSecrets = [])), /disagree about the secrets the export removed/);
});

t.test('R-28 R-32 a task sequence that fails validation is refused naming the entry and the field', async (t) => {
  const { b, objs, entries } = await setup(t);
  const ts = `objects/${objs.tsId}.json`;
  const step = (d: Docs, id: string): Json => {
    const find = (items: Json[]): Json => items.map((i) => (i.id === id ? i : i.children ? find(i.children) : undefined)).find(Boolean);
    return find(d.get(ts).items);
  };
  const cases: [string, (d: Docs) => void, RegExp][] = [
    ['a secret value', (d) => (step(d, 'i13').properties.password = 'smuggled'), /items\[\d+\]\.properties\.password is a secret; export files never carry secrets \(R-27\)/],
    ['an unknown step type', (d) => (step(d, 'i12').type = 'FormatC'), /"FormatC" is not a step type/],
    ['a duplicate item id', (d) => (step(d, 'i12').id = 'i13'), /i13 is used twice/],
    ['a broken condition', (d) => (step(d, 'i13').condition = { kind: 'variable', name: 'a b', operator: 'equals', value: 'x' }), /condition\.name must be a variable name/],
    ['a bad property', (d) => (step(d, 'i12').properties.timeoutMinutes = -5), /timeoutMinutes must be at least 1/],
    ['an unknown field', (d) => (d.get(ts).owner = 'mallory'), /owner is not a task sequence field/],
    ['a stale item counter', (d) => (d.get(ts).nextItemId = 3), /nextItemId must be greater than every item id/],
    ['a stripped entry that is no secret', (d) => (d.get(ts).strippedSecrets[0] = 'i12.commandLine'), /"i12\.commandLine" is not a secret/],
    ['a step with children', (d) => (step(d, 'i12').children = []), /is a step and has no children/],
  ];
  for (const [what, edit, message] of cases) {
    const zip = await rewrite(entries, (d) => {
      edit(d);
      // Keep the manifest's copy of the stripped list in step with an edited one.
      d.get('manifest.json').objects[0].strippedSecrets = d.get(ts).strippedSecrets;
    });
    const r = await planUpload(b, zip, 'bad.zip');
    t.equal(r.status, 400, `${what}: ${r.body}`);
    t.match(r.json.message, new RegExp(`^export file refused: ${ts.replace(/[./]/g, '\\$&')}: `), `${what}: names the entry`);
    t.match(r.json.message, message, what);
  }
});

t.test('R-32 content whose file list does not hash to its manifest hash is refused', async (t) => {
  const { b, objs, entries } = await setup(t);
  const os = `objects/${objs.osImage}.json`;
  await refusedPlan(t, b, await rewrite(entries, (d) => (d.get(os).version.files[0].size = 1)), /the file list hashes to [0-9a-f]{64}, not to the manifestSha256/);
  await refusedPlan(t, b, await rewrite(entries, (d) => (d.get(os).version.files[0].path = '../../etc/passwd')), /'\.\.' in content path/);
  await refusedPlan(t, b, await rewrite(entries, (d) => (d.get(os).color = 'red')), /unknown field color/);
  await refusedPlan(t, b, await rewrite(entries, (d) => (d.get(os).programs = [])), /programs does not apply to a osImage/);
});

t.test('R-28 R-32 content files that do not match the export, or a missing NAME_files, refuse the commit', async (t) => {
  const { b, objs, out } = await setup(t);
  const files = path.join(b.dataDir, 'imports', 'build_files');
  cpSync(out.zip, path.join(b.dataDir, 'imports', 'build.zip'));
  const missing = await planPath(b, 'build.zip');
  t.equal(missing.status, 400);
  t.match(missing.json, { field: 'filesFolder', rule: 'R-28', message: /the export's content folder build_files is missing: content was exported, so build_files\/ must sit beside build\.zip/ });

  cpSync(out.filesFolder, files, { recursive: true });
  const wim = path.join(files, objs.osImage, 'install.wim');
  const attempt = async (message: RegExp, status: number) => {
    const plan = await planPath(b, 'build.zip');
    const before = counts(b);
    const r = await b.call('POST', `/task-sequences/import/${plan.json.planId}/commit`, { body: {} });
    t.equal(r.status, status, r.body);
    t.match(r.json.message, message);
    t.same(counts(b), before, 'nothing half-imported');
    t.same(await b.ctx.library.records.list(), [], 'no content record either');
  };
  writeFileSync(wim, Buffer.alloc(10000, 4)); // same size, other bytes
  await attempt(new RegExp(`build_files/${objs.osImage}/install\\.wim does not match the export: it lists 10000 bytes with sha256`), 422);
  appendFileSync(wim, 'x');
  await attempt(/does not match the export/, 422);
  rmSync(wim);
  await attempt(new RegExp(`build_files/${objs.osImage}/install\\.wim is missing`), 400);
  cpSync(path.join(out.filesFolder, objs.osImage, 'install.wim'), wim);
  writeFileSync(path.join(files, objs.osImage, 'autorun.inf'), 'extra');
  await attempt(/autorun\.inf is not a file the export lists/, 422);
  rmSync(path.join(files, objs.osImage, 'autorun.inf'));
  symlinkSync('/etc/hostname', path.join(files, objs.osImage, 'hostname'));
  await attempt(/points outside the source folder/, 422);
  rmSync(path.join(files, objs.osImage, 'hostname'));
  renameSync(path.join(files, objs.osImage), path.join(b.dataDir, 'elsewhere'));
  symlinkSync(path.join(b.dataDir, 'elsewhere'), path.join(files, objs.osImage));
  await attempt(/points outside build_files/, 422);
  rmSync(path.join(files, objs.osImage));
  renameSync(path.join(b.dataDir, 'elsewhere'), path.join(files, objs.osImage));
  const plan = await planPath(b, 'build.zip');
  t.equal((await b.call('POST', `/task-sequences/import/${plan.json.planId}/commit`, { body: {} })).status, 200, 'the repaired folder imports');
});

t.test('R-32 a hostile content upload is refused and what it wrote is removed', async (t) => {
  const { b, objs, out } = await setup(t);
  const plan = (await planUpload(b, readFileSync(out.zip), 'up.zip')).json;
  const filesDir = path.join(b.dataDir, 'imports', 'uploads', plan.planId, 'up_files');
  const send = async (entries: { name: string; data: Buffer; type?: 'file' | 'symlink' }[]) => {
    const pack = tar.pack();
    for (const e of entries) {
      if (e.type === 'symlink') pack.entry({ name: e.name, type: 'symlink', linkname: '/etc/passwd' });
      else pack.entry({ name: e.name }, e.data);
    }
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    return b.app.inject({ method: 'PUT', url: `/api/v1/task-sequences/import/${plan.planId}/files`, headers: { authorization: `Bearer ${b.tokens.admin}`, 'content-type': 'application/x-tar' }, payload: Buffer.concat(chunks) });
  };
  const good = { name: `${objs.client}/ccmsetup.exe`, data: Buffer.from('MZ client') };
  const cases: [{ name: string; data: Buffer; type?: 'file' | 'symlink' }[], RegExp][] = [
    [[good, { name: '../../evil', data: Buffer.from('x') }], /would escape the folder/],
    [[{ name: `${objs.client}/other.exe`, data: Buffer.from('x') }], /is not a file the export lists/],
    [[{ name: `${objs.client}/ccmsetup.exe`, data: Buffer.from('MZ clienT') }], /expected 9 bytes with sha256/],
    [[{ name: `${objs.client}/ccmsetup.exe`, data: Buffer.from('MZ') }], /is 2 bytes; the export lists 9/],
    [[good, good], /appears twice/],
    [[{ name: `${objs.client}/ccmsetup.exe`, data: Buffer.alloc(0), type: 'symlink' }], /is a symlink; only files are taken/],
  ];
  for (const [entries, message] of cases) {
    const r = await send(entries);
    t.equal(r.statusCode, 400, r.body);
    t.match(JSON.parse(r.body), { rule: 'R-32', field: 'files', message });
    t.notOk(existsSync(filesDir), 'nothing of it is left');
  }
  t.equal((await must(b, 'GET', `/task-sequences/import/${plan.planId}`)).planId, plan.planId, 'the plan survives a refused upload');
});
