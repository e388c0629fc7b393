/**
 * Issue 13 M-4: an import trusts nothing about the server host. An export file (or a prestaged
 * content file) names each content object's source folder at the site that made it; that path
 * is never taken: imported content's source is the import path, content without files
 * keeps this site's own source or has none. So `POST /content/:id/import {}` after an import
 * can never read a host folder the file chose; the import's plan and result say the named
 * folders were ignored.
 */
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import t, { type Test } from 'tap';
import { readArchive } from '../../../server/site/export/archive-read.js';
import { apiHarness, type ApiHarness, type Json } from '../../fixtures/api-harness.js';
import { exportTo, folder, must, planPath, planUpload } from '../export/fixture.js';
import { rewrite } from '../export/zip-tools.js';
import { ok, startSite } from './site.js';

const SECRET = 'the server host secret: db password hunter2';
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

async function hasBlob(h: Pick<ApiHarness, 'ctx'>, text: string): Promise<boolean> {
  return (await h.ctx.library.store.stat(sha(text))) !== null;
}

/** Site A: a package from a source folder, used by a custom task sequence; its export's entries. */
async function exported(t: Test, includeContent: boolean): Promise<{ a: ApiHarness; pkg: string; out: Json; entries: Map<string, Buffer> }> {
  const a = await apiHarness(t);
  const pkg = (await must(a, 'POST', '/content', { kind: 'package', name: 'Tools', sourcePath: folder(t, { 'tool.cmd': 'echo tool' }) })).id as string;
  const boot = (await must(a, 'POST', '/content', { kind: 'bootImage', name: 'PE' })).id as string;
  const ts = await must(a, 'POST', '/task-sequences', { type: 'custom', name: 'Tools run', bootImageId: boot });
  await must(a, 'POST', `/task-sequences/${ts.id}/edits`, { operations: [{ op: 'addStep', type: 'RunCommandLine', properties: { commandLine: 'tool.cmd', packageId: pkg } }] });
  const out = await exportTo(a, includeContent ? 'tools.zip' : 'meta.zip', { taskSequenceIds: [ts.id], includeContent });
  return { a, pkg, out, entries: await readArchive(out.zip) };
}

/** The export with the package's entry naming `sourcePath`. */
const naming = (entries: Map<string, Buffer>, pkg: string, sourcePath: string): Promise<Buffer> =>
  rewrite(entries, (d) => (d.get(`objects/${pkg}.json`).sourcePath = sourcePath));

const idOf = (done: Json, key: string): string => done.objects.find((o: Json) => o.key === key).id;

t.test('M-4 a source folder named in an export file is ignored; import {} cannot read it', async (t) => {
  const { pkg, entries } = await exported(t, false);
  const hostFolder = folder(t, { 'secret.txt': SECRET });
  const b = await apiHarness(t);
  const plan = await planUpload(b, await naming(entries, pkg, hostFolder), 'evil.zip');
  t.equal(plan.status, 201, plan.body);
  const warning = plan.json.warnings.find((w: string) => w.startsWith('source folders named in the file are ignored'));
  t.ok(warning, 'the plan says the folder is ignored');
  t.match(warning, `${pkg} ${JSON.stringify(hostFolder)}`, 'naming the object and the folder');
  const done = await must(b, 'POST', `/task-sequences/import/${plan.json.planId}/commit`, {});
  t.ok(done.warnings.includes(warning), 'so does the import result');

  const id = idOf(done, pkg);
  t.equal((await b.ctx.library.records.get(id))!.sourcePath, '', 'the record has no source folder');
  t.equal((await must(b, 'GET', `/content/${id}`)).sourcePath, '');
  const again = await b.call('POST', `/content/${id}/import`, { body: {} });
  t.equal(again.status, 400, 'import {} has no folder to read');
  t.match(again.json, { field: 'sourcePath', message: /has no source folder; give one/ });
  t.notOk(await hasBlob(b, SECRET), 'nothing of the host folder reached the store');
  t.equal((await b.ctx.library.records.get(id))!.versions.length, 0);
});

t.test('M-4 Overwrite without content keeps the source folder this site gave the object', async (t) => {
  const { pkg, entries } = await exported(t, false);
  const b = await apiHarness(t);
  const first = await must(b, 'POST', `/task-sequences/import/${(await planUpload(b, await naming(entries, pkg, '/srv/exporting-site/tools'), 'one.zip')).json.planId}/commit`, {});
  const id = idOf(first, pkg);
  const local = folder(t, { 'tool.cmd': 'echo local tool' });
  await must(b, 'POST', `/content/${id}/import`, { sourcePath: local });

  const hostFolder = folder(t, { 'secret.txt': SECRET });
  const plan = await planUpload(b, await naming(entries, pkg, hostFolder), 'two.zip');
  const done = await must(b, 'POST', `/task-sequences/import/${plan.json.planId}/commit`, { actions: { [pkg]: 'overwrite' } });
  t.equal(idOf(done, pkg), id, 'overwritten in place');
  t.equal((await b.ctx.library.records.get(id))!.sourcePath, local, "this site's folder stays");
  const again = await must(b, 'POST', `/content/${id}/import`, {});
  t.equal(again.changed, false, 'import {} reads the local folder, unchanged');
  t.notOk(await hasBlob(b, SECRET), 'never the folder the file named');
});

t.test('M-4 with content, the source is the import path whatever the file says (R-28)', async (t) => {
  const { pkg, out, entries } = await exported(t, true);
  const b = await apiHarness(t);
  mkdirSync(path.join(b.dataDir, 'imports'), { recursive: true });
  writeFileSync(path.join(b.dataDir, 'imports', 'tools.zip'), await naming(entries, pkg, folder(t, { 'secret.txt': SECRET })));
  cpSync(out.filesFolder, path.join(b.dataDir, 'imports', 'tools_files'), { recursive: true });
  const plan = await planPath(b, 'tools.zip');
  t.equal(plan.status, 201, plan.body);
  t.ok(plan.json.warnings.some((w: string) => /ignored .*its source here is the import path \(tools_files\/<key>\)/.test(w)));
  const done = await must(b, 'POST', `/task-sequences/import/${plan.json.planId}/commit`, {});
  const id = idOf(done, pkg);
  t.equal((await b.ctx.library.records.get(id))!.sourcePath, path.join(b.dataDir, 'imports', 'tools_files', pkg));
  t.equal((await must(b, 'POST', `/content/${id}/import`, {})).changed, false, 'import {} reads the import path');
  t.notOk(await hasBlob(b, SECRET));
});

t.test('M-4 a prestaged content file does not set the source folder at the point that imports it', async (t) => {
  const site = await startSite(t);
  const point = await startSite(t);
  const hostFolder = folder(t, { 'a.bin': 'prestaged bytes' });
  const pkg = await ok(site, 'POST', '/content', { kind: 'package', name: 'Tools', sourcePath: hostFolder });
  const res = await fetch(`${site.url}/api/v1/content/prestage`, { method: 'POST', headers: { authorization: `Bearer ${site.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ contentIds: [pkg.id] }) });
  t.equal(res.status, 200);
  const body = Buffer.from(await res.arrayBuffer());
  // The site's folder is on this very host: exactly what the point must not take from the file.
  writeFileSync(path.join(hostFolder, 'secret.txt'), SECRET);
  const up = await fetch(`${point.url}/api/v1/point/prestage-import`, { method: 'POST', headers: { authorization: `Bearer ${point.token}`, 'content-type': 'application/gzip' }, body });
  const result = (await up.json()) as Json;
  t.equal(up.status, 200, JSON.stringify(result));
  t.match(result.warnings, [new RegExp(`source folders named in the file are ignored \\(${pkg.id} ${JSON.stringify(hostFolder).replace(/[/.]/g, '\\$&')}\\)`)]);
  t.equal((await point.service.ctx.library.records.get(pkg.id))!.sourcePath, '', 'the point record has no source folder');
  const again = await point.api('POST', `/content/${pkg.id}/import`, {});
  t.equal(again.status, 400, 'import {} at the point has nothing to read');
  t.match(again.json, { field: 'sourcePath', message: /no source folder/ });
  t.notOk(await hasBlob(point.service, SECRET), 'the host folder was not read');
  t.ok(existsSync(path.join(hostFolder, 'secret.txt')));
});
