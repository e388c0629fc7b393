/**
 * R-08 prestaged content end to end: the site streams a prestaged file for a task sequence;
 * another data directory imports it with the CLI (no network), a running point imports one over
 * its API; every hash verified and the content marked installed; the site then finds it there
 * and skips it. R-32 a truncated file is refused by the CLI with nothing imported.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { runCli } from '../cli/harness.js';
import { folder, ok, startNode, tempDir, waitJob, type Node } from './harness.js';
import type { Json } from '../../fixtures/api-harness.js';

async function prestage(site: Node, body: unknown, token = site.token): Promise<Response> {
  return fetch(`${site.url}/api/v1/content/prestage`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

t.test('R-08 prestage a task sequence at the site, import it in another data directory, serve it there', async (t) => {
  const site = await startNode(t);
  const pkg = await ok(site, 'POST', '/content', { kind: 'package', name: 'Tools', sourcePath: folder(t, { 'tool.exe': 'MZ tool', 'shared.dll': 'dll' }) });
  const app = await ok(site, 'POST', '/content', { kind: 'application', name: 'App', sourcePath: folder(t, { 'app.msi': 'msi', 'shared.dll': 'dll' }), dependencies: [pkg.id] });
  const boot = await ok(site, 'POST', '/content', { kind: 'bootImage', name: 'Boot' });
  const ts = await ok(site, 'POST', '/task-sequences', { type: 'custom', name: 'Apps', bootImageId: boot.id });
  await ok(site, 'POST', `/task-sequences/${ts.id}/edits`, { operations: [{ op: 'addStep', type: 'InstallApplication', properties: { applicationIds: [app.id] } }] });

  t.equal((await prestage(site, { taskSequenceId: ts.id }, (await ok(site, 'POST', '/tokens', { name: 'tech', role: 'technician' })).token)).status, 403);
  const res = await prestage(site, { taskSequenceId: ts.id });
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'application/gzip');
  t.equal(res.headers.get('x-osdeploy-prestage-content'), `${app.id}@1,${pkg.id}@1`, 'the application and its dependency; the boot image has no files');
  const file = path.join(tempDir(t), 'apps.osdpkg.tgz');
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));

  const pointDir = tempDir(t);
  const imported = await runCli(['content', 'prestage-import', file, '--data-dir', pointDir], {}, pointDir);
  t.equal(imported.code, 0, imported.stderr);
  t.match(imported.stdout, new RegExp(`installed application ${app.id} \\(App\\) version 1[\\s\\S]*installed package ${pkg.id}`));
  t.match(imported.stdout, /3 blob\(s\)/, 'the shared file once');

  const point = await startNode(t, { dataDir: pointDir });
  const got = await point.call('GET', `${point.url}/content/${pkg.id}/1/tool.exe`);
  t.equal(got.text, 'MZ tool');
  t.match((await ok(point, 'GET', '/distribution-points/DP1/content')).items, [{ contentId: pkg.id, state: 'installed' }, { contentId: app.id, state: 'installed' }], 'both marked installed at the point');

  // The site learns what the point holds when it validates it, then skips it.
  await ok(site, 'POST', '/distribution-points', { name: 'Factory', url: point.url, token: point.token });
  t.match(await ok(site, 'POST', '/distribution-points/DP2/validate', {}), { ok: true });
  const again = await ok(site, 'POST', '/distributions', { taskSequenceId: ts.id, pointIds: ['DP2'] });
  t.match(again, { job: null, skipped: [{ reason: /no source files/ }, { pointId: 'DP2', reason: 'already holds version 1' }, { pointId: 'DP2', reason: 'already holds version 1' }] });
});

t.test('R-08 a running point imports a prestaged file over its API; a known version transfers nothing', async (t) => {
  const site = await startNode(t);
  const point = await startNode(t);
  const pkg = await ok(site, 'POST', '/content', { kind: 'package', name: 'Tools', sourcePath: folder(t, { 'a.bin': Buffer.alloc(100_000, 1) }) });
  const body = Buffer.from(await (await prestage(site, { contentIds: [pkg.id] })).arrayBuffer());
  const up = await fetch(`${point.url}/api/v1/point/prestage-import`, { method: 'POST', headers: { authorization: `Bearer ${point.token}`, 'content-type': 'application/gzip' }, body });
  t.equal(up.status, 200);
  t.match(await up.json(), { content: [{ id: pkg.id, version: 1 }], stored: 1, bytes: 100_000 });
  await ok(site, 'POST', '/distribution-points', { name: 'Branch', url: point.url, token: point.token });
  const job = await waitJob(site, (await ok(site, 'POST', '/distributions', { contentIds: [pkg.id], pointIds: ['DP2'] })).job.id);
  t.match(job.items, [{ state: 'installed' }], 'the pull finds every blob already there');

  const truncated = body.subarray(0, body.length - 100);
  const bad = await fetch(`${point.url}/api/v1/point/prestage-import`, { method: 'POST', headers: { authorization: `Bearer ${point.token}`, 'content-type': 'application/gzip' }, body: truncated });
  t.equal(bad.status, 422);
  t.match(await bad.json(), { error: 'corrupt', message: /refused/ });
  const client = (await ok(point, 'POST', '/tokens', { name: 'c', role: 'client' })).token;
  t.equal((await fetch(`${point.url}/api/v1/point/prestage-import`, { method: 'POST', headers: { authorization: `Bearer ${client}`, 'content-type': 'application/gzip' }, body })).status, 403, 'clients cannot import');
});

t.test('R-32 the CLI refuses a truncated or lying prestaged file and imports nothing', async (t) => {
  const site = await startNode(t);
  const pkg = await ok(site, 'POST', '/content', { kind: 'package', name: 'Tools', sourcePath: folder(t, { 'a.bin': Buffer.alloc(50_000, 7), 'b.bin': 'bbb' }) });
  const full = Buffer.from(await (await prestage(site, { contentIds: [pkg.id] })).arrayBuffer());
  const dir = tempDir(t);
  const cut = path.join(dir, 'cut.tgz');
  writeFileSync(cut, full.subarray(0, full.length - 40));
  const pointDir = tempDir(t);
  const r = await runCli(['content', 'prestage-import', cut, '--data-dir', pointDir], {}, dir);
  t.equal(r.code, 1);
  t.match(r.stderr, /osdeploy: prestaged content file refused: .*(truncated|unexpected end)/);
  const missing = await runCli(['content', 'prestage-import', path.join(dir, 'nope.tgz'), '--data-dir', pointDir], {}, dir);
  t.match(missing, { code: 1, stderr: /no file/ });
  const point = await startNode(t, { dataDir: pointDir });
  t.same((await ok(point, 'GET', '/point/inventory')).items, [], 'nothing half-imported');
  t.same((await ok(point, 'GET', '/distribution-points/DP1/content')).items, []);
  t.ok(readFileSync(cut).length > 0);
  t.same(((await ok(site, 'GET', `/content/${pkg.id}/versions/1`)) as Json).files.length, 2);
});
