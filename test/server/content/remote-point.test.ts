/**
 * R-07 a remote distribution point: a second osdeploy service on its own data directory and
 * port, registered at the site by URL and token, pulling over real HTTP and verifying every hash;
 * status per point and package, validation and repair; R-16 remote points in the policy only
 * when the deployment falls back to them; R-31 the point's tokens are never shown.
 */
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { folder, ok, startNode, waitJob, type Node } from './harness.js';
import type { Json } from '../../fixtures/api-harness.js';

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];
const MAC = '00:15:5d:0d:0e:0f';
const BIG = Buffer.alloc(3 * 1024 * 1024 + 17, 0x5a); // more than one progress step

async function siteWithTs(t: Tap, site: Node) {
  const pkg = await ok(site, 'POST', '/content', { kind: 'package', name: 'Big', sourcePath: folder(t, { 'big.bin': BIG, 'setup.cmd': 'echo hi' }) });
  const app = await ok(site, 'POST', '/content', { kind: 'application', name: 'App', sourcePath: folder(t, { 'app.msi': 'msi' }), dependencies: [pkg.id] });
  const boot = await ok(site, 'POST', '/content', { kind: 'bootImage', name: 'Boot' });
  const ts = await ok(site, 'POST', '/task-sequences', { type: 'custom', name: 'Apps', bootImageId: boot.id });
  await ok(site, 'POST', `/task-sequences/${ts.id}/edits`, { operations: [{ op: 'addStep', type: 'InstallApplication', properties: { applicationIds: [app.id] } }] });
  return { pkgId: pkg.id as string, appId: app.id as string, tsId: ts.id as string };
}

t.test('R-07 register a remote point, distribute over HTTP, every hash verified, status per point and package', async (t) => {
  const site = await startNode(t);
  const remote = await startNode(t);
  const { pkgId, appId, tsId } = await siteWithTs(t, site);

  const bad = await site.call('POST', '/distribution-points', { name: 'Branch', url: remote.url, token: 'osd_wrong' });
  t.match(bad, { status: 422, json: { rule: 'R-07', message: /answered 401.*refused the token/ } });
  const down = await site.call('POST', '/distribution-points', { name: 'Gone', url: 'http://127.0.0.1:1', token: remote.token });
  t.match(down, { status: 422, json: { message: /cannot reach/ } });
  t.match(await site.call('POST', '/distribution-points', { name: 'Bad', url: 'ftp://x', token: 't' }), { status: 400, json: { field: 'url' } });

  const reg = await site.call('POST', '/distribution-points', { name: 'Branch', url: `${remote.url}/`, token: remote.token });
  t.equal(reg.status, 201, reg.text);
  t.match(reg.json, { id: 'DP2', kind: 'remote', url: remote.url, hasToken: true });
  t.notOk(reg.text.includes(remote.token), 'R-31 the token is write-only');
  t.notOk((await site.call('GET', '/distribution-points')).text.includes('osd_'), 'no token in listings');
  t.match(await site.call('POST', '/distribution-points', { name: 'Branch', url: remote.url, token: remote.token }), { status: 409 });

  const started = await ok(site, 'POST', '/distributions', { taskSequenceId: tsId, pointIds: ['DP2'] });
  t.same(started.job.items.map((i: Json) => i.contentId).sort(), [appId, pkgId].sort(), 'the application and its dependency');
  const job = await waitJob(site, started.job.id);
  t.match(job, { state: 'completed', progress: { percent: 100, bytesDone: BIG.length + 7 + 3 } });
  t.same(job.items.map((i: Json) => i.state), ['installed', 'installed']);

  const got = await remote.call('GET', `${remote.url}/content/${pkgId}/1/big.bin`);
  t.equal(got.status, 200, 'the point serves it from its own store');
  t.equal(got.text.length, BIG.length);
  t.match((await ok(remote, 'GET', '/point/inventory')).items, [{ id: pkgId, versions: [{ version: 1 }] }, { id: appId }]);
  t.match((await ok(remote, 'GET', '/distribution-points/DP1/content')).items.map((h: Json) => h.state), ['installed', 'installed'], 'the point marks its own point installed');
  t.match((await ok(site, 'GET', `/distribution-status?pointId=DP2`)).items, [{ state: 'installed' }, { state: 'installed' }]);
  t.same((await ok(site, 'GET', `/distributions/targets?taskSequenceId=${tsId}`)).items.map((p: Json) => p.id), ['DP1'], 'the remote point is not listed any more');
});

t.test('R-07 a source that lies (damaged bytes at the site) fails the remote with a hash mismatch', async (t) => {
  const site = await startNode(t);
  const remote = await startNode(t);
  const pkg = await ok(site, 'POST', '/content', { kind: 'package', name: 'Damaged', sourcePath: folder(t, { 'a.bin': 'AAAAAAAAAA' }) });
  const [file] = (await ok(site, 'GET', `/content/${pkg.id}/versions/1`)).files;
  writeFileSync(site.service.ctx.library.store.pathOf(file.sha256), 'BBBBBBBBBB');
  await ok(site, 'POST', '/distribution-points', { name: 'Branch', url: remote.url, token: remote.token });
  const job = await waitJob(site, (await ok(site, 'POST', '/distributions', { contentIds: [pkg.id], pointIds: ['DP2'] })).job.id);
  t.match(job, { state: 'completedWithFailures', items: [{ state: 'failed', reason: /hash mismatch/ }] });
  t.match((await ok(site, 'GET', `/content/${pkg.id}/status`)).items, [{ pointId: 'DP2', state: 'failed', reason: /hash mismatch/ }]);
  t.same((await ok(remote, 'GET', '/point/inventory')).items, [], 'nothing recorded at the point');
  t.equal((await remote.call('GET', `${remote.url}/content/sha256/${file.sha256}`)).status, 404, 'and no blob kept');
});

t.test('R-07 validate a remote point, find a corrupted file, redistribute to repair it', async (t) => {
  const site = await startNode(t);
  const remote = await startNode(t);
  const { pkgId } = await siteWithTs(t, site);
  await ok(site, 'POST', '/distribution-points', { name: 'Branch', url: remote.url, token: remote.token });
  await waitJob(site, (await ok(site, 'POST', '/distributions', { contentIds: [pkgId], pointIds: ['DP2'] })).job.id);
  t.match(await ok(site, 'POST', '/distribution-points/DP2/validate', { contentId: pkgId }), { ok: true, results: [{ id: pkgId, ok: true }] });

  const cmd = (await ok(site, 'GET', `/content/${pkgId}/versions/1`)).files.find((f: Json) => f.path === 'setup.cmd');
  writeFileSync(remote.service.ctx.library.store.pathOf(cmd.sha256), 'echo no');
  const report = await ok(site, 'POST', '/distribution-points/DP2/validate', {});
  t.match(report, { ok: false, results: [{ id: pkgId, ok: false, mismatches: [{ path: 'setup.cmd', reason: 'corrupt' }] }] });
  t.match((await ok(site, 'GET', `/content/${pkgId}/status`)).items, [{ pointId: 'DP2', state: 'failed', reason: /setup\.cmd \(hash mismatch\)/ }]);

  const repair = await waitJob(site, (await ok(site, 'POST', '/distributions', { contentIds: [pkgId], pointIds: ['DP2'], redistribute: true })).job.id);
  t.match(repair, { state: 'completed' });
  t.equal((await remote.call('GET', `${remote.url}/content/${pkgId}/1/setup.cmd`)).text, 'echo hi', 'the damaged file was replaced');
  t.match(await ok(site, 'POST', '/distribution-points/DP2/validate', {}), { ok: true });
});

t.test('R-16 remote points appear in the policy only with fallback; their client token only for the client role', async (t) => {
  const site = await startNode(t);
  const remote = await startNode(t);
  const { pkgId, tsId } = await siteWithTs(t, site);
  await ok(site, 'POST', '/distribution-points', { name: 'Branch', url: remote.url, token: remote.token });
  await waitJob(site, (await ok(site, 'POST', '/distributions', { taskSequenceId: tsId, pointIds: ['DP1', 'DP2'] })).job.id);
  const pc = await ok(site, 'POST', '/computers', { name: 'PC', macAddresses: [MAC] });
  const col = await ok(site, 'POST', '/collections', { name: 'Lab', directMemberIds: [pc.id] });
  const client = (await ok(site, 'POST', '/tokens', { name: 'pxe', role: 'client' })).token;
  const policy = async (token: string) => {
    const r = await site.call('GET', `/boot-policy?mac=${MAC}`, undefined, token);
    if (r.status !== 200) throw new Error(r.text);
    return r.json.content.packages.find((p: Json) => p.id === pkgId);
  };
  const dep = await ok(site, 'POST', '/deployments', { taskSequenceId: tsId, collectionId: col.id, purpose: 'required', assignments: [{ kind: 'asap' }], availability: 'mediaPxe' });
  t.same((await policy(client)).locations.map((l: Json) => l.pointId), ['DP1'], 'no fallback: the local point only');
  await ok(site, 'DELETE', `/deployments/${dep.id}`);
  await ok(site, 'POST', '/deployments', { taskSequenceId: tsId, collectionId: col.id, purpose: 'required', assignments: [{ kind: 'asap' }], availability: 'mediaPxe', content: { option: 'downloadAsNeeded', useRemoteDistributionPoint: true } });
  const withFallback = await policy(client);
  t.match(withFallback.locations, [{ pointId: 'DP1', local: true }, { pointId: 'DP2', local: false, url: `${remote.url}/content/${pkgId}/1/`, token: /^osd_/ }]);
  const people = await policy(site.token);
  t.notOk('token' in people.locations[1], 'people never see the point token');

  const viaRemote = await fetch(`${withFallback.locations[1].url}big.bin`, { headers: { authorization: `Bearer ${withFallback.locations[1].token}`, range: 'bytes=0-9' } });
  t.equal(viaRemote.status, 206, 'the minted client token opens content at the point');
  t.equal((await viaRemote.text()).length, 10);
});
