/**
 * R-07 distribution to the site's own point, groups and collection associations; points that
 * hold the current version skipped and not offered; a change redistributed before clients see
 * it (R-16 policy content section); validation finding a corrupted file.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { DistributionService } from '../../../server/site/distribution.js';
import { newJob } from '../../../content/distribution-job.js';
import { apiHarness, collection, computer, type ApiHarness, type Json } from '../../fixtures/api-harness.js';
import { folder } from './harness.js';

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];
const MAC = '00:15:5d:0a:0b:0c';

async function must(h: ApiHarness, method: string, url: string, body?: unknown): Promise<Json> {
  const r = await h.call(method, url, body === undefined ? {} : { body });
  if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.body}`);
  return r.json;
}

async function waitJob(h: ApiHarness, id: string): Promise<Json> {
  for (let i = 0; i < 1500; i++) {
    const j = await must(h, 'GET', `/distribution-jobs/${id}`);
    if (j.state === 'completed' || j.state === 'completedWithFailures') return j;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`job ${id} did not finish`);
}

/** A task sequence referencing a boot image without source files and a package imported from `src`. */
async function scenario(t: Tap) {
  const h = await apiHarness(t);
  const src = folder(t, { 'setup.exe': 'MZ v1', 'lib/shared.dll': 'shared' });
  const pkg = await must(h, 'POST', '/content', { kind: 'package', name: 'Tools', sourcePath: src, allowRunFromDistributionPoint: true });
  const boot = await must(h, 'POST', '/content', { kind: 'bootImage', name: 'Boot' });
  const ts = await must(h, 'POST', '/task-sequences', { type: 'custom', name: 'Tools', bootImageId: boot.id });
  await must(h, 'POST', `/task-sequences/${ts.id}/edits`, { operations: [{ op: 'addStep', type: 'RunCommandLine', properties: { commandLine: 'setup.exe', packageId: pkg.id } }] });
  return { h, src, pkgId: pkg.id as string, bootId: boot.id as string, tsId: ts.id as string };
}

t.test('R-07 the site point exists from the first start and cannot be removed', async (t) => {
  const h = await apiHarness(t);
  const points = await must(h, 'GET', '/distribution-points');
  t.match(points.items, [{ id: 'DP1', kind: 'local', url: null, holdings: { installed: 0 } }]);
  t.equal((await h.call('DELETE', '/distribution-points/DP1')).status, 409);
});

t.test('R-07 distribute a task sequence: a background job, per point and package status, then skipped and not offered', async (t) => {
  const { h, pkgId, tsId } = await scenario(t);
  t.same((await must(h, 'GET', `/distributions/targets?taskSequenceId=${tsId}`)).items.map((p: Json) => p.id), ['DP1'], 'offered before');
  const started = await h.call('POST', '/distributions', { body: { taskSequenceId: tsId, pointIds: ['DP1'] } });
  t.equal(started.status, 202);
  t.match(started.json, { job: { id: 'J1', items: [{ pointId: 'DP1', contentId: pkgId, version: 1 }] }, skipped: [{ contentId: /PS1/, reason: /no source files/ }] });
  const job = await waitJob(h, 'J1');
  t.match(job, { state: 'completed', progress: { percent: 100, counts: { installed: 1 } }, items: [{ state: 'installed', reason: null }] });
  t.match(await h.ctx.store.distributionJobs.get('J1'), { node: h.ctx.node, aliveAt: h.ctx.now() }, 'the job names the node that ran it and its last heartbeat');
  t.match((await must(h, 'GET', `/content/${pkgId}/status`)).items, [{ pointId: 'DP1', version: 1, state: 'installed' }]);

  const again = await h.call('POST', '/distributions', { body: { taskSequenceId: tsId, pointIds: ['DP1'] } });
  t.equal(again.status, 200);
  t.match(again.json, { job: null, message: /already hold/, skipped: [{ reason: /no source files/ }, { pointId: 'DP1', contentId: pkgId, reason: 'already holds version 1' }] });
  t.same((await must(h, 'GET', `/distributions/targets?taskSequenceId=${tsId}`)).items, [], 'that distribution point is not listed');
  t.match((await must(h, 'GET', '/distribution-jobs')).items, [{ id: 'J1', state: 'completed' }]);
  t.match((await must(h, 'GET', '/distribution-points/DP1/content')).items, [{ contentId: pkgId, state: 'installed' }]);
});

t.test('R-07 R-16 a changed package reaches clients only after redistribution', async (t) => {
  const { h, src, pkgId, tsId } = await scenario(t);
  const pc = await computer(h, 'PC', { macAddresses: [MAC] });
  const col = await collection(h, 'Lab', { directMemberIds: [pc] });
  await must(h, 'POST', '/deployments', { taskSequenceId: tsId, collectionId: col, purpose: 'required', assignments: [{ kind: 'asap' }], availability: 'mediaPxe', content: { option: 'runFromDistributionPoint' } });
  const policy = async () => (await must(h, 'GET', `/boot-policy?mac=${MAC}`)).content;

  t.match(await policy(), { option: 'runFromDistributionPoint', runFromDistributionPoint: true, packages: [{ kind: 'bootImage', version: null, locations: [] }, { id: pkgId, version: null, locations: [] }] }, 'nothing distributed: no location');
  await waitJob(h, (await must(h, 'POST', '/distributions', { taskSequenceId: tsId, pointIds: ['DP1'] })).job.id);
  const v1 = (await must(h, 'GET', `/content/${pkgId}`)).currentVersion;
  t.match((await policy()).packages[1], {
    id: pkgId, version: 1, manifestSha256: v1.manifestSha256, runFromDistributionPoint: true,
    locations: [{ pointId: 'DP1', local: true, url: `http://192.0.2.10:8080/content/${pkgId}/1/` }],
    programs: [],
  });

  writeFileSync(path.join(src, 'setup.exe'), 'MZ v2');
  await must(h, 'POST', `/content/${pkgId}/import`, {});
  t.match((await policy()).packages[1], { version: 1 }, 'clients keep version 1 until the point holds 2');
  t.same((await must(h, 'GET', `/distributions/targets?contentId=${pkgId}`)).items.map((p: Json) => p.id), ['DP1'], 'offered again');
  const job = await waitJob(h, (await must(h, 'POST', '/distributions', { contentIds: [pkgId], pointIds: ['DP1'] })).job.id);
  t.match(job.items, [{ version: 2, state: 'installed' }]);
  t.match((await policy()).packages[1], { version: 2, locations: [{ url: /\/content\/PS1\w+\/2\/$/ }] });
  t.match((await must(h, 'GET', `/content/${pkgId}/status`)).items, [{ version: 1, state: 'installed' }, { version: 2, state: 'installed' }]);
});

t.test('R-07 validation re-hashes a point: a corrupted file fails the package with the reason', async (t) => {
  const { h, src, pkgId, tsId } = await scenario(t);
  await waitJob(h, (await must(h, 'POST', '/distributions', { taskSequenceId: tsId, pointIds: ['DP1'] })).job.id);
  t.match(await must(h, 'POST', '/distribution-points/DP1/validate', {}), { ok: true, results: [{ id: pkgId, ok: true }] });

  const files = (await must(h, 'GET', `/content/${pkgId}/versions/1`)).files as { path: string; sha256: string }[];
  const exe = files.find((f) => f.path === 'setup.exe')!;
  writeFileSync(h.ctx.library.store.pathOf(exe.sha256), 'MZ v!'); // same length, other bytes
  const report = await must(h, 'POST', '/distribution-points/DP1/validate', { contentId: pkgId });
  t.match(report, { ok: false, results: [{ id: pkgId, version: 1, ok: false, mismatches: [{ path: 'setup.exe', sha256: exe.sha256, reason: 'corrupt' }] }] });
  t.match((await must(h, 'GET', `/content/${pkgId}/status`)).items, [{ state: 'failed', reason: /setup\.exe \(hash mismatch\)/ }]);
  t.same((await must(h, 'GET', `/distributions/targets?contentId=${pkgId}`)).items.map((p: Json) => p.id), ['DP1'], 'offered again once damaged');

  const failed = await waitJob(h, (await must(h, 'POST', '/distributions', { contentIds: [pkgId], pointIds: ['DP1'] })).job.id);
  t.match(failed.items, [{ state: 'failed', reason: /setup\.exe: hash mismatch.*removed; import the source again/ }], 'the damaged site store cannot vouch for it');
  const served = await h.app.inject({ url: `/content/${pkgId}/1/setup.exe`, headers: { authorization: `Bearer ${h.tokens.client}` } });
  t.equal(served.statusCode, 404, 'damaged bytes are no longer served');
  await must(h, 'POST', `/content/${pkgId}/import`, { sourcePath: src });
  const repaired = await waitJob(h, (await must(h, 'POST', '/distributions', { contentIds: [pkgId], pointIds: ['DP1'], redistribute: true })).job.id);
  t.match(repaired, { state: 'completed' }, 'importing the source again restores the blob');
  t.match(await must(h, 'POST', '/distribution-points/DP1/validate', {}), { ok: true });
});

t.test('R-07 groups and collection associations reach their points; unknown targets and unimported content refused', async (t) => {
  const { h, pkgId, tsId } = await scenario(t);
  const col = await collection(h, 'Branch');
  const group = await must(h, 'POST', '/distribution-point-groups', { name: 'All sites', pointIds: ['DP1'] });
  t.match(group, { id: 'DPG1', pointIds: ['DP1'] });
  t.match(await must(h, 'PUT', `/collections/${col}/distribution-points/${group.id}`), { collectionId: col, groupIds: ['DPG1'], pointIds: [] });
  const viaCollection = await must(h, 'POST', '/distributions', { taskSequenceId: tsId, collectionIds: [col] });
  t.match((await waitJob(h, viaCollection.job.id)).items, [{ pointId: 'DP1', state: 'installed' }]);
  t.match(await must(h, 'POST', '/distributions', { contentIds: [pkgId], groupIds: ['DPG1'] }), { job: null });
  t.match(await must(h, 'DELETE', `/collections/${col}/distribution-points/${group.id}`), { groupIds: [] });

  t.match(await h.call('POST', '/distributions', { body: { taskSequenceId: tsId, pointIds: ['DP9'] } }), { status: 404, json: { field: 'pointIds', message: /no distribution point DP9/ } });
  t.match(await h.call('POST', '/distributions', { body: { taskSequenceId: tsId, collectionIds: [col] } }), { status: 404, json: { message: /no associated/ } });
  t.match(await h.call('POST', '/distributions', { body: { taskSequenceId: tsId } }), { status: 400, json: { field: 'pointIds' } });
  t.match(await h.call('POST', '/distributions', { body: { taskSequenceId: tsId, contentIds: [pkgId], pointIds: ['DP1'] } }), { status: 400 });
  t.match(await h.call('PUT', `/collections/SMS99999/distribution-points/DP1`), { status: 404 });
  const unimported = await h.call('POST', '/content', { body: { kind: 'package', name: 'Later', sourcePath: folder(t, { 'x': 'x' }) } });
  await h.ctx.library.records.put({ ...(await h.ctx.library.records.get(unimported.json.id))!, versions: [] });
  t.match(await h.call('POST', '/distributions', { body: { contentIds: [unimported.json.id], pointIds: ['DP1'] } }), { status: 422, json: { rule: 'R-07', message: /import its source first/ } });
  t.equal((await h.call('POST', '/distributions', { token: h.tokens.technician, body: { taskSequenceId: tsId, pointIds: ['DP1'] } })).status, 403);
});

t.test('R-07 a job the last run left unfinished is failed with the reason at the next start', async (t) => {
  const { h, pkgId } = await scenario(t);
  const v = (await h.ctx.library.records.get(pkgId))!.versions[0]!;
  const job = newJob('J77', h.ctx.now(), 'test', 'left running', [{ pointId: 'DP1', contentId: pkgId, version: 1, manifestSha256: v.manifestSha256, bytes: v.totalSize, files: 2 }], []);
  await h.ctx.store.distributionJobs.put({ ...job, state: 'running' });
  await h.ctx.store.holdings.put({ pointId: 'DP1', contentId: pkgId, version: 1, manifestSha256: v.manifestSha256, state: 'inProgress', reason: null, jobId: 'J77', updatedAt: 0 });
  const restarted = new DistributionService(h.ctx, { publicUrl: () => 'http://x', log: h.app.log as never });
  t.teardown(() => restarted.close());
  await restarted.start();
  t.match(await h.ctx.store.distributionJobs.get('J77'), { state: 'completedWithFailures', items: [{ state: 'failed', reason: /interrupted/ }] });
  t.match(await h.ctx.store.holdings.list({ contentId: pkgId }), [{ state: 'failed', reason: /interrupted/ }]);
});

t.test('R-07 several nodes: a starting node leaves a job another live node runs, and fails it once that node\'s heartbeat is stale', async (t) => {
  const { h, pkgId } = await scenario(t);
  const v = (await h.ctx.library.records.get(pkgId))!.versions[0]!;
  const job = newJob('J78', h.ctx.now(), 'test', 'running on node A', [{ pointId: 'DP1', contentId: pkgId, version: 1, manifestSha256: v.manifestSha256, bytes: v.totalSize, files: 2 }], []);
  const running = { ...job, state: 'running' as const, items: [{ ...job.items[0]!, state: 'inProgress' as const, startedAt: h.ctx.now() }], node: 'node-A', aliveAt: h.ctx.now() };
  await h.ctx.store.distributionJobs.put(running);
  await h.ctx.store.holdings.put({ pointId: 'DP1', contentId: pkgId, version: 1, manifestSha256: v.manifestSha256, state: 'inProgress', reason: null, jobId: 'J78', updatedAt: 0 });
  const startNode = async (node: string) => {
    const service = new DistributionService({ ...h.ctx, node }, { publicUrl: () => 'http://x', log: h.app.log as never });
    t.teardown(() => service.close());
    await service.start();
  };

  h.clock.advance(90_000);
  await startNode('node-B');
  t.same(await h.ctx.store.distributionJobs.get('J78'), running, 'heartbeat 90 s old: node A still runs it, untouched');
  t.match(await h.ctx.store.holdings.list({ contentId: pkgId }), [{ state: 'inProgress', reason: null }]);

  h.clock.advance(31_000);
  await startNode('node-C');
  const reason = /^interrupted: node node-A that ran it stopped \(last heartbeat 2026-03-02T09:00:00\.000Z\); distribute again$/;
  t.match(await h.ctx.store.distributionJobs.get('J78'), { state: 'completedWithFailures', node: 'node-A', items: [{ state: 'failed', reason }] }, 'no heartbeat for over 2 minutes: failed, with the reason');
  t.match(await h.ctx.store.holdings.list({ contentId: pkgId }), [{ state: 'failed', reason }]);
});
