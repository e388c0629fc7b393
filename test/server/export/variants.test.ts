/**
 * R-27 R-28 the export's options and the ways a file reaches the importer: without dependencies
 * (references link to objects already here, or are named as missing), without content (objects
 * wait for their source), a .zip downloaded from the API, and an uploaded .zip whose NAME_files
 * travels as a tar.
 */
import { cpSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import tar from 'tar-stream';
import t from 'tap';
import { apiHarness, type ApiHarness, type Json } from '../../fixtures/api-harness.js';
import { counts, exportTo, must, planPath, planUpload, richSite, storedContent } from './fixture.js';

async function commit(h: ApiHarness, planId: string, actions: Record<string, string> = {}): Promise<Map<string, string>> {
  const done = await must(h, 'POST', `/task-sequences/import/${planId}/commit`, { actions });
  return new Map(done.objects.map((o: Json) => [o.key, o.id]));
}

/** A tar of `dir` with entry names relative to it, as the CLI sends NAME_files. */
async function tarOf(dir: string): Promise<Buffer> {
  const pack = tar.pack();
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(path.join(dir, f)).isFile());
  for (const f of files) pack.entry({ name: f.split(path.sep).join('/') }, readFileSync(path.join(dir, f)));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const putFiles = (h: ApiHarness, planId: string, body: Buffer) =>
  h.app.inject({ method: 'PUT', url: `/api/v1/task-sequences/import/${planId}/files`, headers: { authorization: `Bearer ${h.tokens.admin}`, 'content-type': 'application/x-tar' }, payload: body });

t.test('R-27 R-28 without dependencies: references link to the objects already here, or are named as missing', async (t) => {
  const a = await apiHarness(t);
  const objs = await richSite(t, a);
  const out = await exportTo(a, 'bare.zip', { taskSequenceIds: [objs.tsId], includeDependencies: false });
  t.equal(out.filesFolder, null, 'no dependencies, so no content folder');
  t.same(out.objects.map((o: Json) => o.key), [objs.tsId]);
  t.equal(out.references.length, 7);

  // B already holds A's objects from an earlier full import.
  const b = await apiHarness(t);
  const full = await exportTo(a, 'full.zip', { taskSequenceIds: [objs.tsId] });
  cpSync(full.zip, path.join(b.dataDir, 'imports', 'full.zip'));
  cpSync(full.filesFolder, path.join(b.dataDir, 'imports', 'full_files'), { recursive: true });
  const first = await commit(b, (await planPath(b, 'full.zip')).json.planId);
  await must(b, 'DELETE', `/task-sequences/${first.get(objs.tsId)}`);
  cpSync(out.zip, path.join(b.dataDir, 'imports', 'bare.zip'));
  const plan = (await planPath(b, 'bare.zip')).json;
  t.ok(plan.references.every((r: Json) => r.linkedTo === first.get(r.key)), 'every reference linked to B\'s copy');
  t.same(plan.warnings.filter((w: string) => /R-04/.test(w)), []);
  const ids = await commit(b, plan.planId);
  const refs = await must(b, 'GET', `/task-sequences/${ids.get(objs.tsId)}/references`);
  t.same(refs.problems.filter((p: Json) => p.id !== null), [], 'the imported task sequence references B\'s objects');
  t.ok(refs.problems.some((p: Json) => /password is required/.test(p.reason)), 'only its stripped passwords are missing');
  t.equal(refs.content.length, 7);

  // C has none of them: the plan says so, and the task sequence keeps ids that do not resolve.
  const c = await apiHarness(t);
  cpSync(out.zip, path.join(c.dataDir, 'imports', 'bare.zip'));
  const planC = (await planPath(c, 'bare.zip')).json;
  t.ok(planC.references.every((r: Json) => r.linkedTo === null));
  t.equal(planC.warnings.filter((w: string) => /cannot be deployed until it exists \(R-04\)/.test(w)).length, 7);
  const idsC = await commit(c, planC.planId);
  const refsC = await must(c, 'GET', `/task-sequences/${idsC.get(objs.tsId)}/references`);
  t.equal(refsC.ok, false);
  t.ok(refsC.problems.some((p: Json) => p.id === objs.osImage && /does not exist/.test(p.reason)));
});

t.test('R-27 R-28 without content: objects are created without a version and without the source folder the file names', async (t) => {
  const a = await apiHarness(t);
  const objs = await richSite(t, a);
  const out = await exportTo(a, 'meta.zip', { taskSequenceIds: [objs.tsId], includeContent: false });
  t.equal(out.filesFolder, null);
  t.notOk(existsSync(path.join(a.dataDir, 'exports', 'meta_files')));
  const b = await apiHarness(t);
  cpSync(out.zip, path.join(b.dataDir, 'imports', 'meta.zip'));
  const plan = (await planPath(b, 'meta.zip')).json;
  t.match(plan, { includesContent: false, file: { filesFolder: null } });
  const ids = await commit(b, plan.planId);
  const os = await must(b, 'GET', `/content/${ids.get(objs.osImage)}`);
  t.match(os, { usable: false, unusableReason: /no content version/, versionCount: 0 });
  // Issue 13 M-4: a folder of the exporting site's host is never taken (test/server/security/import-trust.test.ts).
  t.equal(os.sourcePath, '', 'no source folder: the one the file names is ignored');
  t.ok(plan.warnings.some((w: string) => w.startsWith('source folders named in the file are ignored') && w.includes((storedContent(a, objs.osImage)!.sourcePath))), 'and the plan says so');
  t.match(await must(b, 'GET', `/content/${ids.get(objs.tools)}`), { usable: true, withoutSource: true }, 'a package without source files stays usable');
  let blobs = 0;
  for await (const _ of b.ctx.library.store.list()) blobs++;
  t.equal(blobs, 0, 'no content came along');
});

t.test('R-27 the API answers with the .zip itself when no path is given; it imports as an upload', async (t) => {
  const a = await apiHarness(t);
  const objs = await richSite(t, a);
  const res = await a.app.inject({ method: 'POST', url: '/api/v1/task-sequences/export', headers: { authorization: `Bearer ${a.tokens.admin}`, 'content-type': 'application/json' }, payload: { taskSequenceIds: [objs.tsId], includeContent: false, name: 'Lab build.zip' } });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /application\/zip/);
  t.match(res.headers['content-disposition'], /filename="Lab build.zip"/);
  t.equal(res.headers['x-osdeploy-files-folder'], undefined);
  const b = await apiHarness(t);
  const plan = await planUpload(b, res.rawPayload, 'Lab build.zip');
  t.equal(plan.status, 201, plan.body);
  t.match(plan.json, { file: { name: 'Lab build.zip', uploaded: true, filesFolder: null } });
  const ids = await commit(b, plan.json.planId);
  t.equal(ids.size, 8);
  t.notOk(existsSync(path.join(b.dataDir, 'imports', 'uploads', plan.json.planId)), 'an upload that brought no content is cleaned up');
  const tech = await b.call('POST', '/task-sequences/export', { token: b.tokens.technician, body: { taskSequenceIds: [ids.get(objs.tsId)] } });
  t.equal(tech.status, 403, 'R-31 administrators only');
});

t.test('R-28 an uploaded .zip with its NAME_files sent as a tar: verified, stored, and the upload is the source', async (t) => {
  const a = await apiHarness(t);
  const objs = await richSite(t, a);
  const out = await exportTo(a, 'lab.zip', { taskSequenceIds: [objs.tsId] });
  const b = await apiHarness(t);
  const plan = await planUpload(b, readFileSync(out.zip), 'lab.zip');
  t.match(plan.json, { file: { uploaded: true, filesFolder: 'lab_files', filesPresent: false } });
  const before = counts(b);
  const early = await b.call('POST', `/task-sequences/import/${plan.json.planId}/commit`, { body: {} });
  t.equal(early.status, 400, 'content not uploaded yet');
  t.match(early.json, { field: 'filesFolder', message: /content folder lab_files is missing/ });
  t.same(counts(b), before);
  const put = await putFiles(b, plan.json.planId, await tarOf(out.filesFolder));
  t.equal(put.statusCode, 200, put.body);
  t.same(JSON.parse(put.body), { files: 9, bytes: JSON.parse(put.body).bytes });
  t.equal((await must(b, 'GET', `/task-sequences/import/${plan.json.planId}`)).file.filesPresent, true);
  const ids = await commit(b, plan.json.planId);
  const os = storedContent(b, ids.get(objs.osImage)!)!;
  t.equal(os.sourcePath, path.join(b.dataDir, 'imports', 'uploads', plan.json.planId, 'lab_files', objs.osImage));
  t.ok(existsSync(path.join(os.sourcePath, 'install.wim')), 'the uploaded folder stays: it is the source now');
  t.notOk(existsSync(path.join(b.dataDir, 'imports', 'uploads', plan.json.planId, 'lab.zip')));
  const again = await must(b, 'POST', `/content/${os.id}/import`, {});
  t.equal(again.changed, false, 'an update from that source finds the same files: no new version');
});
