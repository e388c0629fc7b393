/**
 * Distribution points (tokens sealed at rest in their own column), groups, holdings and jobs:
 * round trips, names refused with `PointNameTaken` and nothing stored, holding filters, job
 * paging newest first, unfinished jobs, deletes, and all or nothing inside `store.transaction`.
 * On SQLite also: the repositories and the site's remaining helpers (store/points.ts, docs.ts)
 * read each other's rows.
 */
import type { Test } from 'tap';
import type { DistributionJob, JobState } from '../../../../content/distribution-job.js';
import type { DistributionPoint, Holding, PointGroup } from '../../../../content/distribution.js';
import { PointNameTaken } from '../../../../server/site/repos/points.js';
import { putDoc } from '../../../../server/store/docs.js';
import { allPoints, holdings, pointSecret } from '../../../../server/store/points.js';
import { sealValue } from '../../../../server/store/secrets/binding.js';
import { pointSecretWhat } from '../../../../server/store/secrets/fields.js';
import type { SqliteSiteStore } from '../../../../server/store/sqlite/store.js';
import { raw, refusal, withKey } from './at-rest.js';
import type { Impl } from './harness.js';

const TOKEN = 'admin-token ✓ "quoted" \\ value';
const CLIENT = 'client-token-0123456789';
const SHA = (n: number): string => n.toString(16).padStart(64, '0');

const point = (id: string, over: Partial<DistributionPoint> = {}): DistributionPoint => ({
  id,
  name: `Point ${id}`,
  kind: 'remote',
  url: `https://${id.toLowerCase()}.example.test`,
  description: '',
  collections: [],
  createdAt: 1_000,
  ...over,
});

const group = (id: string, over: Partial<PointGroup> = {}): PointGroup => ({ id, name: `Group ${id}`, description: '', pointIds: [], collections: [], ...over });

const holding = (pointId: string, contentId: string, version: number, over: Partial<Holding> = {}): Holding => ({
  pointId,
  contentId,
  version,
  manifestSha256: SHA(version),
  state: 'installed',
  reason: null,
  jobId: null,
  updatedAt: 5_000,
  ...over,
});

const job = (id: string, createdAt: number, state: JobState = 'completed'): DistributionJob => ({
  id,
  createdAt,
  createdBy: 'admin',
  summary: `distribute to ${id}`,
  redistribute: false,
  state,
  items: [{ pointId: 'DP2', contentId: 'PS100001', version: 1, manifestSha256: SHA(1), bytes: 10, files: 1, state: state === 'queued' ? 'queued' : 'installed', reason: null, bytesDone: 0, startedAt: null, finishedAt: null }],
  skipped: [],
  finishedAt: null,
});

const ids = (xs: readonly { id: string }[]): string[] => xs.map((x) => x.id);
const keys = (hs: readonly Holding[]): string[] => hs.map((h) => `${h.pointId}/${h.contentId}/${h.version}`);

export function pointContract(t: Test, impl: Impl): void {
  t.test('points: round trip, tokens sealed at rest in their own column, kept, replaced, removed', async (t) => {
    const { store, another } = await impl.fresh(t);
    withKey(store);
    const p = point('DP2', { collections: ['PS100011'], description: 'branch' });
    t.equal(await store.points.get(p.id), null, 'nothing before the put');
    await store.points.put(p, { token: TOKEN, clientToken: CLIENT });
    t.same(await store.points.get(p.id), p, 'read back whole');
    t.same(await store.points.secret(p.id), { token: TOKEN, clientToken: CLIENT }, 'the tokens, opened');

    const [row] = await raw(store, 'SELECT * FROM distribution_points WHERE id = ?', p.id);
    t.match(row, { name: p.name, kind: 'remote', url: p.url }, 'the columns beside the document');
    t.ok(String(row?.secret).startsWith('enc:v1:'), 'the tokens are sealed');
    for (const clear of [TOKEN, CLIENT, 'client-token']) t.notOk(JSON.stringify(row).includes(clear), `no ${clear} anywhere in the row`);

    await store.points.put({ ...p, description: 'edited' });
    t.same(await store.points.secret(p.id), { token: TOKEN, clientToken: CLIENT }, 'a put without tokens keeps them');
    await store.points.put(p, { token: 'other', clientToken: null });
    t.same(await store.points.secret(p.id), { token: 'other', clientToken: null }, 'a put with tokens replaces them');
    await store.points.put(p, null);
    t.equal(await store.points.secret(p.id), null, 'null removes them');
    t.same(await raw(store, 'SELECT secret FROM distribution_points WHERE id = ?', p.id), [{ secret: null }]);
    t.equal(await store.points.secret('DP404'), null, 'an unknown point has none');

    await store.points.put(p, { token: TOKEN, clientToken: CLIENT });
    const unkeyed = await another();
    await t.rejects(unkeyed.points.secret(p.id), /no secret key is loaded/, 'sealed tokens are not read without the key');
    t.same(await unkeyed.points.get(p.id), p, 'the document holds no secret: read without a key');
    const e = await refusal(t, unkeyed.points.put(point('DP3'), { token: TOKEN, clientToken: null }));
    t.match(e, { name: 'SecretError', code: 'no-key' }, 'tokens are never stored in the clear');
    t.equal(await store.points.get('DP3'), null, 'and nothing of that point was stored');
    await unkeyed.points.put(point('DP4', { kind: 'local', url: null }), null);
    t.equal((await store.points.get('DP4'))?.kind, 'local', 'a point without tokens needs no key');
  });

  t.test('points: listed in id order; a name another point has is refused; delete takes its holdings', async (t) => {
    const { store } = await impl.fresh(t);
    for (const id of ['DP2', 'DP10', 'DP1']) await store.points.put(point(id));
    t.same(ids(await store.points.list()), ['DP1', 'DP10', 'DP2'], 'id order, bytewise');

    const e = await refusal(t, store.points.put(point('DP3', { name: 'Point DP2' })));
    t.ok(e instanceof PointNameTaken, 'refused with PointNameTaken');
    t.match(e, { field: 'name', what: 'distribution point', takenName: 'Point DP2', heldBy: 'DP2', message: 'a distribution point named Point DP2 exists' });
    t.equal(await store.points.get('DP3'), null, 'nothing was stored');
    await store.points.put(point('DP3', { name: 'point dp2' }));
    t.equal((await store.points.get('DP3'))?.name, 'point dp2', 'names differing in case are different names');
    await store.points.put({ ...point('DP2'), name: 'Renamed' });
    await store.points.put(point('DP5', { name: 'Point DP2' }));
    t.equal((await store.points.get('DP5'))?.name, 'Point DP2', 'a rename frees the old name');

    await store.holdings.put(holding('DP2', 'PS100001', 1));
    await store.holdings.put(holding('DP1', 'PS100001', 1));
    t.equal(await store.points.delete('DP2'), true, 'delete says it removed the point');
    t.equal(await store.points.delete('DP2'), false, 'and that there was nothing the second time');
    t.equal(await store.points.get('DP2'), null);
    t.same(keys(await store.holdings.list()), ['DP1/PS100001/1'], 'its holdings went with it, the others stay');
    t.same(await raw(store, 'SELECT point_id FROM point_content WHERE point_id = ?', 'DP2'), [], 'no holding row is left');
  });

  t.test('point groups: round trip, listed, a name in use refused, deleted', async (t) => {
    const { store } = await impl.fresh(t);
    const g = group('DPG2', { description: 'all branches', pointIds: ['DP2', 'DP3'], collections: ['PS100011'] });
    await store.pointGroups.put(g);
    await store.pointGroups.put(group('DPG1'));
    t.same(await store.pointGroups.get(g.id), g, 'read back whole');
    t.equal(await store.pointGroups.get('DPG9'), null);
    t.same(ids(await store.pointGroups.list()), ['DPG1', 'DPG2'], 'id order');
    const e = await refusal(t, store.pointGroups.put(group('DPG3', { name: g.name })));
    t.ok(e instanceof PointNameTaken);
    t.match(e, { what: 'distribution point group', heldBy: 'DPG2', message: `a distribution point group named ${g.name} exists` });
    t.equal(await store.pointGroups.get('DPG3'), null, 'nothing was stored');
    await store.points.put(point('DP7', { name: g.name }));
    t.ok(await store.points.get('DP7'), 'a point may have a group’s name');
    await store.pointGroups.put({ ...g, pointIds: ['DP3'] });
    t.same((await store.pointGroups.get(g.id))?.pointIds, ['DP3'], 'replaced');
    t.equal(await store.pointGroups.delete(g.id), true);
    t.equal(await store.pointGroups.delete(g.id), false);
    t.same(ids(await store.pointGroups.list()), ['DPG1']);
  });

  t.test('holdings: upserted per point, content and version; filtered; refused for a point not stored', async (t) => {
    const { store } = await impl.fresh(t);
    for (const id of ['DP1', 'DP2']) await store.points.put(point(id));
    const puts = [holding('DP2', 'PS100002', 1), holding('DP1', 'PS100002', 2), holding('DP1', 'PS100001', 1), holding('DP1', 'PS100002', 1, { state: 'failed', reason: 'hash mismatch', jobId: 'J1' })];
    for (const h of puts) t.equal(await store.holdings.put(h), true);
    const all = await store.holdings.list();
    t.same(keys(all), ['DP1/PS100001/1', 'DP1/PS100002/1', 'DP1/PS100002/2', 'DP2/PS100002/1'], 'by point, content, version');
    t.same(all[1], puts[3], 'read back whole');

    const moved = holding('DP1', 'PS100002', 1, { state: 'installed', manifestSha256: SHA(9), jobId: 'J2', updatedAt: 9_000 });
    t.equal(await store.holdings.put(moved), true);
    t.same((await store.holdings.list({ pointId: 'DP1', contentId: 'PS100002' }))[0], moved, 'a put replaces the holding of that version');
    t.equal((await store.holdings.list()).length, 4, 'and adds none');

    t.same(keys(await store.holdings.list({ pointId: 'DP2' })), ['DP2/PS100002/1'], 'by point');
    t.same(keys(await store.holdings.list({ contentId: 'PS100002' })), ['DP1/PS100002/1', 'DP1/PS100002/2', 'DP2/PS100002/1'], 'by content');
    t.same(keys(await store.holdings.list({ contentIds: ['PS100001', 'PS100009', 'PS100001'] })), ['DP1/PS100001/1'], 'by any of several contents');
    t.same(keys(await store.holdings.list({ pointId: 'DP1', contentIds: ['PS100002'] })), ['DP1/PS100002/1', 'DP1/PS100002/2'], 'filters combine');
    t.same(await store.holdings.list({ contentIds: [] }), [], 'an empty list matches nothing');
    t.same(await store.holdings.list({ pointId: 'DP9' }), []);

    t.equal(await store.holdings.put(holding('DP9', 'PS100001', 1)), false, 'a holding of a point not stored is refused');
    t.same(await store.holdings.list({ pointId: 'DP9' }), [], 'and not stored');
    const inside = await store.transaction(async (tx) => {
      t.equal(await tx.holdings.put(holding('DP9', 'PS100001', 1)), false);
      t.equal(await tx.holdings.put(holding('DP2', 'PS100001', 1)), true);
      return (await tx.holdings.list()).length;
    });
    t.equal(inside, 5, 'inside a transaction the refusal leaves it usable');

    t.equal(await store.holdings.deleteOfContent('PS100002'), 3, 'deleting content forgets its holdings on every point');
    t.equal(await store.holdings.deleteOfContent('PS100002'), 0);
    t.same(keys(await store.holdings.list()), ['DP1/PS100001/1', 'DP2/PS100001/1']);
  });

  t.test('jobs: round trip, paged newest first, unfinished oldest first', async (t) => {
    const { store } = await impl.fresh(t);
    const jobs = [job('J1', 1_000), job('J2', 3_000, 'running'), job('J3', 2_000, 'queued'), job('J10', 3_000, 'completedWithFailures'), job('J4', 500, 'running')];
    for (const j of jobs) await store.distributionJobs.put(j);
    t.same(await store.distributionJobs.get('J3'), jobs[2], 'read back whole');
    t.equal(await store.distributionJobs.get('J99'), null);

    const page = await store.distributionJobs.page({ offset: 0, limit: 10 });
    t.same(ids(page.items), ['J2', 'J10', 'J3', 'J1', 'J4'], 'newest first; the same time by id, descending (bytewise)');
    t.match(page, { total: 5, offset: 0, limit: 10 });
    const second = await store.distributionJobs.page({ offset: 1, limit: 2 });
    t.same(ids(second.items), ['J10', 'J3'], 'offset and limit');
    t.equal(second.total, 5, 'the total counts every job');
    t.same((await store.distributionJobs.page({ offset: 9, limit: 2 })).items, [], 'past the end is empty');
    await t.rejects(store.distributionJobs.page({ offset: 0, limit: -1 }), RangeError, 'a negative limit is refused');

    t.same(ids(await store.distributionJobs.unfinished()), ['J4', 'J3', 'J2'], 'queued and running, oldest first');
    const done: DistributionJob = { ...jobs[1]!, state: 'completed', finishedAt: 4_000 };
    await store.distributionJobs.put(done);
    t.same(await store.distributionJobs.get('J2'), done, 'a put replaces the job');
    t.same(ids(await store.distributionJobs.unfinished()), ['J4', 'J3'], 'a finished job is no longer unfinished');
    t.equal((await store.distributionJobs.page({ offset: 0, limit: 1 })).items[0]?.id, 'J2', 'and keeps its place');
  });

  t.test('distribution: a transaction that throws leaves no point, group, holding, job or token behind', async (t) => {
    const { store } = await impl.fresh(t);
    withKey(store);
    await store.points.put(point('DP1', { kind: 'local', url: null }), null);
    await store.holdings.put(holding('DP1', 'PS100001', 1));
    const boom = new Error('boom');
    await t.rejects(
      store.transaction(async (tx) => {
        await tx.points.put(point('DP2'), { token: TOKEN, clientToken: CLIENT });
        await tx.pointGroups.put(group('DPG1', { pointIds: ['DP2'] }));
        await tx.holdings.put(holding('DP2', 'PS100001', 1, { state: 'inProgress', jobId: 'J1' }));
        await tx.distributionJobs.put(job('J1', 1_000, 'queued'));
        await tx.holdings.deleteOfContent('PS100001');
        t.same(keys(await tx.holdings.list()), [], 'inside, the transaction sees its own writes');
        t.same(await tx.points.secret('DP2'), { token: TOKEN, clientToken: CLIENT });
        throw boom;
      }),
      boom,
    );
    t.same(ids(await store.points.list()), ['DP1'], 'the point is gone');
    t.same(await raw(store, 'SELECT id FROM distribution_points WHERE secret IS NOT NULL'), [], 'and its tokens');
    t.same(await store.pointGroups.list(), [], 'the group too');
    t.same(await store.distributionJobs.unfinished(), [], 'and the job');
    t.same(keys(await store.holdings.list()), ['DP1/PS100001/1'], 'the deleted holding is back, the new one gone');

    await store.transaction(async (tx) => {
      await tx.points.put(point('DP2'), { token: TOKEN, clientToken: CLIENT });
      await tx.distributionJobs.put(job('J1', 1_000, 'queued'));
      await tx.holdings.put(holding('DP2', 'PS100001', 1, { state: 'inProgress', jobId: 'J1' }));
    });
    t.same(await store.points.secret('DP2'), { token: TOKEN, clientToken: CLIENT }, 'a commit makes them visible');
    t.same(ids(await store.distributionJobs.unfinished()), ['J1']);
    t.equal((await store.holdings.list({ pointId: 'DP2' }))[0]?.state, 'inProgress');
  });
}

/** SQLite only: the repositories and the site's remaining helpers read each other's rows. */
export function pointRecordsSqliteOnly(t: Test, impl: Impl): void {
  t.test('distribution: the repositories read what the site code wrote, and the reverse', async (t) => {
    const { store } = await impl.fresh(t);
    withKey(store);
    const db = (store as SqliteSiteStore).db;
    // As the site stored them before the repositories: docs.ts rows, the tokens sealed into the column.
    const old = point('DP2');
    putDoc(db, 'distribution_points', old.id, { name: old.name, kind: old.kind, url: old.url }, old);
    db.prepare('UPDATE distribution_points SET secret = ? WHERE id = ?').run(sealValue(db, JSON.stringify({ token: TOKEN, clientToken: CLIENT }), pointSecretWhat(old.id)), old.id);
    putDoc(db, 'distribution_point_groups', 'DPG1', { name: 'Group DPG1' }, group('DPG1'));
    putDoc(db, 'distribution_jobs', 'J1', { state: 'running', created_at: 1_000 }, job('J1', 1_000, 'running'));
    db.prepare('INSERT INTO point_content (point_id, content_id, version, manifest_sha256, state, reason, job_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
      old.id, 'PS100001', 1, SHA(1), 'inProgress', null, 'J1', 2_000,
    );

    t.same(await store.points.get(old.id), old, "the repository reads the site's point");
    t.same(await store.points.secret(old.id), { token: TOKEN, clientToken: CLIENT }, 'and its tokens');
    t.same(ids(await store.pointGroups.list()), ['DPG1']);
    t.same(ids(await store.distributionJobs.unfinished()), ['J1']);
    t.same(await store.holdings.list(), [holding(old.id, 'PS100001', 1, { state: 'inProgress', jobId: 'J1', updatedAt: 2_000 })]);
    t.ok((await refusal(t, store.points.put(point('DP3', { name: old.name })))) instanceof PointNameTaken, "a name the site code stored is held against the repository's puts");

    const p = point('DP3');
    await store.points.put(p, { token: 'fresh', clientToken: null });
    await store.holdings.put(holding(p.id, 'PS100001', 2));
    t.same(allPoints(db), [old, p], "the site's helpers read the repository's points");
    t.same(pointSecret(db, p.id), { token: 'fresh', clientToken: null }, 'and their tokens');
    t.same(keys(holdings(db, { contentIds: ['PS100001'] })), ['DP2/PS100001/1', 'DP3/PS100001/2'], 'and holdings');
  });
}
