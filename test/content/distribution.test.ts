/** R-07 distribution planning, targets, jobs and transfers, pure or on in-memory stores. */
import { Readable } from 'node:stream';
import t from 'tap';
import { failUnfinished, newJob, progressOf, updateItem } from '../../content/distribution-job.js';
import { bestLocations, holdsAll, offeredPoints, planDistribution, resolveTargets, type DistributionPoint, type Holding, type PointGroup } from '../../content/distribution.js';
import { createContent, importFolder } from '../../content/library.js';
import { MemoryContentStore } from '../../content/memory-store.js';
import type { ContentObject } from '../../content/model.js';
import { copyBlobs, installVersion, mergeVersion, storeSource, type BlobSource } from '../../content/transfer.js';
import { LATER, memoryLibrary, NOW, pkg } from './library-fixture.js';
import { collect, rejectsCode, sha256Of } from './store-contract.js';

const point = (id: string, extra: Partial<DistributionPoint> = {}): DistributionPoint => ({ id, name: id, kind: 'remote', url: `http://${id}`, description: '', collections: [], createdAt: 0, ...extra });
const POINTS = [point('DP1', { kind: 'local', url: null }), point('DP2', { collections: ['C1'] }), point('DP3'), point('DP4')];
const GROUPS: PointGroup[] = [{ id: 'DPG1', name: 'branch', description: '', pointIds: ['DP3', 'DP4'], collections: ['C2'] }];

async function imported(t: Tap, id = 'P1') {
  const lib = memoryLibrary();
  await createContent(lib, pkg(id));
  await importFolder(lib, id, t.testdir({ 'a.txt': 'alpha', 'b.txt': 'beta' }), NOW);
  return { lib, object: (await lib.records.get(id))! };
}
type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

const holding = (pointId: string, o: ContentObject, state: Holding['state'] = 'installed', version = o.versions.at(-1)!): Holding => ({
  pointId, contentId: o.id, version: version.version, manifestSha256: version.manifestSha256, state, reason: null, jobId: 'J1', updatedAt: 0,
});

t.test('R-07 targets: points, groups and the points of collections, each once; unknown ids named', async (t) => {
  t.same(resolveTargets({ pointIds: ['DP2'], groupIds: ['DPG1'], collectionIds: ['C1', 'C2'] }, POINTS, GROUPS), { pointIds: ['DP2', 'DP3', 'DP4'], problems: [] });
  const bad = resolveTargets({ pointIds: ['DP9'], groupIds: ['DPG9'], collectionIds: ['C9'] }, POINTS, GROUPS);
  t.same(bad.pointIds, []);
  t.same(bad.problems.map((p) => p.field), ['pointIds', 'groupIds', 'collectionIds']);
  t.match(bad.problems[2]!.reason, /no associated distribution point/);
});

t.test('R-07 a point that holds the current version is skipped and not offered; a new version is planned again', async (t) => {
  const { lib, object } = await imported(t);
  const held = [holding('DP2', object)];
  const plan = planDistribution([object], ['DP2', 'DP3'], held);
  t.same(plan.items.map((i) => i.pointId), ['DP3']);
  t.match(plan.skipped, [{ pointId: 'DP2', contentId: 'P1', reason: 'already holds version 1' }]);
  t.same(offeredPoints(POINTS, [object], held).map((p) => p.id), ['DP1', 'DP3', 'DP4'], 'that distribution point is not listed');
  t.ok(holdsAll('DP2', [object], held));
  t.same(planDistribution([object], ['DP2'], held, true).items.map((i) => i.pointId), ['DP2'], 'redistribute sends it again');
  t.same(planDistribution([object], ['DP2'], [holding('DP2', object, 'inProgress')], true).items, [], 'never twice at once');
  t.same(planDistribution([object], ['DP2'], [holding('DP2', object, 'failed')]).items.length, 1, 'a failed point is planned again');

  await importFolder(lib, 'P1', t.testdir({ 'a.txt': 'alpha 2' }), LATER);
  const v2 = (await lib.records.get('P1'))!;
  t.same(planDistribution([v2], ['DP2'], held).items.map((i) => i.version), [2], 'a changed package must be redistributed');
  t.same(offeredPoints(POINTS, [v2], held).map((p) => p.id), ['DP1', 'DP2', 'DP3', 'DP4']);
});

t.test('R-04 R-07 content with no version cannot be distributed; one without source files has nothing to send', async (t) => {
  const none = { ...pkg('P2'), versions: [] } as ContentObject;
  const noSource = { ...pkg('P3'), withoutSource: true, versions: [] } as ContentObject;
  const plan = planDistribution([none, noSource], ['DP1'], []);
  t.match(plan.problems, [{ contentId: 'P2', reason: /no content version/ }]);
  t.match(plan.skipped, [{ contentId: 'P3', reason: /no source files/ }]);
});

t.test('R-16 best locations: the newest version installed on allowed points, in the given order', async (t) => {
  const { object } = await imported(t);
  const v1 = object.versions[0]!;
  const v2 = { ...v1, version: 2, manifestSha256: sha256Of('other') };
  const held = [holding('DP3', object, 'installed', v1), holding('DP2', object, 'installed', v2), holding('DP1', object, 'installed', v2), holding('DP4', object, 'failed', v2)];
  t.same(bestLocations('P1', ['DP1', 'DP2', 'DP3', 'DP4'], held), { version: 2, manifestSha256: v2.manifestSha256, pointIds: ['DP1', 'DP2'] });
  t.same(bestLocations('P1', ['DP3'], held)?.version, 1, 'only allowed points count');
  t.equal(bestLocations('P1', ['DP4'], held), null, 'a failed holding is no location');
});

t.test('R-07 job items move queued → inProgress → installed | failed, with progress', async (t) => {
  const items = [
    { pointId: 'DP1', contentId: 'P1', version: 1, manifestSha256: 'm', bytes: 100, files: 1 },
    { pointId: 'DP2', contentId: 'P1', version: 1, manifestSha256: 'm', bytes: 300, files: 2 },
  ];
  let job = newJob('J1', 0, 'admin', 'test', items, []);
  t.equal(job.state, 'queued');
  job = updateItem(job, 0, { kind: 'start' }, 1);
  job = updateItem(job, 0, { kind: 'progress', bytesDone: 50 }, 2);
  t.equal(job.state, 'running');
  t.same(progressOf(job), { bytesDone: 50, bytesTotal: 400, percent: 12, counts: { queued: 1, inProgress: 1, installed: 0, failed: 0 } });
  job = updateItem(job, 0, { kind: 'installed' }, 3);
  job = updateItem(job, 1, { kind: 'failed', reason: 'hash mismatch' }, 4);
  t.equal(job.state, 'completedWithFailures');
  t.equal(job.finishedAt, 4);
  t.equal(progressOf(job).percent, 100);
  t.same(updateItem(job, 1, { kind: 'installed' }, 5), job, 'a finished item never changes');
  const interrupted = failUnfinished(newJob('J2', 0, 'a', 's', items, []), 'interrupted', 9);
  t.same(interrupted.items.map((i) => [i.state, i.reason]), [['failed', 'interrupted'], ['failed', 'interrupted']]);
  t.equal(newJob('J3', 5, 'a', 's', [], []).state, 'completed', 'nothing to do is done at once');
});

t.test('R-07 a copy verifies every hash: a lying source fails and stores nothing', async (t) => {
  const { lib, object } = await imported(t);
  const v = object.versions[0]!;
  const target = new MemoryContentStore();
  const progress: number[] = [];
  const r = await copyBlobs(v.files, storeSource(lib.store), target, { onProgress: (b) => progress.push(b) });
  t.same(r, { blobs: 2, copied: 2, bytesCopied: 9 });
  t.equal(progress.at(-1), 9);
  t.same(await copyBlobs(v.files, storeSource(lib.store), target), { blobs: 2, copied: 0, bytesCopied: 0 }, 'present blobs are not sent again');

  const liar: BlobSource = { open: async () => Readable.from([Buffer.from('not alpha')]) };
  const empty = new MemoryContentStore();
  await rejectsCode(t, copyBlobs(v.files, liar, empty), 'size-mismatch', 'wrong length');
  const sameLength: BlobSource = { open: async (b) => Readable.from([Buffer.alloc(b.size, 0x41)]) };
  await rejectsCode(t, copyBlobs(v.files, sameLength, empty), 'hash-mismatch', 'right length, wrong bytes');
  t.equal((await collect(empty.list())).length, 0, 'nothing stored');

  await target.corruptForTest(v.files[0]!.sha256);
  t.same((await copyBlobs(v.files, storeSource(lib.store), target, { verifyExisting: true })).copied, 1, 'a damaged blob is replaced on redistribute');
  t.ok(await target.verify(v.files[0]!.sha256));
});

t.test('R-07 installing a version at a point records it only after its blobs are in', async (t) => {
  const { lib, object } = await imported(t);
  const pointLib = memoryLibrary();
  const v = object.versions[0]!;
  const broken: BlobSource = { open: async () => Readable.from([Buffer.from('x')]) };
  await rejectsCode(t, installVersion(pointLib, object, v, broken), 'size-mismatch');
  t.equal(await pointLib.records.get('P1'), undefined, 'no record after a failed copy');
  await installVersion(pointLib, object, v, storeSource(lib.store));
  t.same((await pointLib.records.get('P1'))!.versions, [v]);
  const lying = { ...v, manifestSha256: sha256Of('lie') };
  await rejectsCode(t, installVersion(pointLib, object, lying, storeSource(lib.store)), 'corrupt', 'a manifest hash that does not match its files');
  const hostile = { ...v, files: [{ path: '../etc/passwd', sha256: v.files[0]!.sha256, size: 5 }] };
  await rejectsCode(t, installVersion(pointLib, object, hostile, storeSource(lib.store)), 'hostile-path');
  t.same(mergeVersion(undefined, { ...object, withoutSource: true } as ContentObject, v).withoutSource, undefined);
});
