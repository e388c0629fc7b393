/**
 * Deployments with R-19's required PXE starts, task sequences (step secrets sealed at rest) and
 * their folders: what goes in comes back, looked up as the site asks, refused where the schema
 * refuses, and rolled back with the transaction. On SQLite, also that the repositories and the
 * site's own helpers (docs.ts, policy-rows.ts) read what the other wrote.
 */
import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import type { Deployment } from '../../../../policy/deployments/model.js';
import type { Folder } from '../../../../policy/folders.js';
import { createTaskSequence } from '../../../../policy/task-sequences/create.js';
import { applyEdits } from '../../../../policy/task-sequences/edit.js';
import type { StepItem, TaskSequence } from '../../../../policy/task-sequences/model.js';
import type { SiteStore } from '../../../../server/site/repos/store.js';
import { onCommittedChanges, type StoreChange } from '../../../../server/store/change-journal.js';
import { getDoc, putDoc } from '../../../../server/store/docs.js';
import { addPxeStart, allPxeStarts } from '../../../../server/store/policy-rows.js';
import type { PgSiteStore } from '../../../../server/store/postgres/store.js';
import { bindSecrets } from '../../../../server/store/secrets/binding.js';
import { SecretCipher } from '../../../../server/store/secrets/cipher.js';
import type { SqliteSiteStore } from '../../../../server/store/sqlite/store.js';
import type { Fresh, Impl } from './harness.js';

const PASSWORD = 'P@ss w0rd ✓ "quoted", \\ and ünïcode';
const PC1 = '16777220';
const PC2 = '16777221';

/** What the store seals documents through: the SQLite connection, or the PostgreSQL pool. */
const holderOf = (store: SiteStore): object => (store.kind === 'sqlite' ? (store as SqliteSiteStore).db : (store as PgSiteStore).pool);

/** Binds a fresh key to the store, as the site does when it opens its database. */
function withKey(store: SiteStore): void {
  bindSecrets(holderOf(store), {
    cipher: new SecretCipher(randomBytes(32), 'the test key'),
    onUnreadable: (what) => {
      throw new Error(`unexpected unreadable secret: ${what}`);
    },
  });
}

/** The stored row as it is on disk, past the repository (sealed document, columns). */
async function rawRow(store: SiteStore, table: string, id: string): Promise<Record<string, unknown> | undefined> {
  const sql = `SELECT * FROM ${table} WHERE id = `;
  if (store.kind === 'sqlite') return (store as SqliteSiteStore).db.prepare(`${sql}?`).get(id) as Record<string, unknown> | undefined;
  return (await (store as PgSiteStore).pool.query<Record<string, unknown>>(`${sql}$1`, [id])).rows[0];
}

/** SQLite's schema has a foreign key from deployments to collections (PostgreSQL's has none yet): seed the rows it needs. */
async function seedCollections(impl: Impl, fresh: Fresh, ...ids: string[]): Promise<void> {
  if (impl.name !== 'sqlite') return;
  for (const id of ids) await fresh.sql('INSERT INTO collections (id, name, doc) VALUES (?, ?, ?)', [id, `collection ${id}`, JSON.stringify({ id })]);
}

function taskSequence(id: string, name: string, folderId: string | null = null, password?: string): TaskSequence {
  const ts = createTaskSequence(id, { type: 'custom', name, bootImageId: 'PS100002', folderId });
  const properties: Record<string, unknown> = { commandLine: 'cmd.exe /c whoami' };
  if (password !== undefined) Object.assign(properties, { runAsUser: true, runAsAccount: 'CONTOSO\\svc', runAsPassword: password });
  return applyEdits(ts, [{ op: 'addStep', type: 'RunCommandLine', name: 'Run as the service account', properties }]);
}

const stepOf = (ts: TaskSequence | null): StepItem | undefined => ts?.items.find((i): i is StepItem => i.kind === 'step');

function deployment(id: string, taskSequenceId: string, collectionId: string, createdAt: number, over: Partial<Deployment> = {}): Deployment {
  return {
    id,
    taskSequenceId,
    collectionId,
    comments: '',
    purpose: 'required',
    availability: 'mediaPxe',
    sendWakeUpPackets: false,
    allowMeteredDownload: false,
    availableFrom: null,
    expiresAt: { at: '2030-01-01T00:00', utc: true },
    assignments: [{ kind: 'asap' }],
    rerun: 'ifFailed',
    userExperience: { allowUserRunIndependently: false, showProgress: true, installOutsideMaintenanceWindow: true, restartOutsideMaintenanceWindow: true, allowOnInternet: false },
    alerts: { successBelow: { percent: 80, afterDays: 3 }, failureAbove: null },
    content: { option: 'downloadAllFirst', useRemoteDistributionPoint: true },
    allowTechnicianMedia: false,
    createdAt,
    highRisk: { verdict: 'warned', reasons: ['deploys an operating system'], memberCount: 3 },
    ...over,
  };
}

const ids = (xs: readonly { id: string }[]): string[] => xs.map((x) => x.id);

export function deploymentContract(t: Test, impl: Impl): void {
  t.test('deployments: round trip, replace, list oldest first, by task sequence and by collection, delete', async (t) => {
    const fresh = await impl.fresh(t);
    const { store } = fresh;
    await seedCollections(impl, fresh, 'PS100014', 'PS100015');
    await store.taskSequences.put(taskSequence('PS100020', 'Install'), 1_000);
    await store.taskSequences.put(taskSequence('PS100021', 'Collect logs'), 1_000);

    const d1 = deployment('PS120001', 'PS100020', 'PS100014', 3_000, { comments: 'NUL\u0000, "quotes" and ünïcode ✓' });
    const d2 = deployment('PS120002', 'PS100021', 'PS100014', 1_000, { purpose: 'available', highRisk: null, availableFrom: { at: '2025-06-01T08:00', utc: false } });
    const d3 = deployment('PS120003', 'PS100020', 'PS100015', 2_000);
    for (const d of [d1, d2, d3]) await store.deployments.put(d);

    t.same(await store.deployments.get('PS120001'), d1, 'every field comes back, odd characters included');
    t.same(await store.deployments.get('PS120002'), d2);
    t.equal(await store.deployments.get('PS129999'), null, 'an unknown id finds nothing');
    t.same(ids(await store.deployments.list()), ['PS120002', 'PS120003', 'PS120001'], 'listed by creation time');
    t.same(ids(await store.deployments.ofTaskSequence('PS100020')), ['PS120003', 'PS120001'], "a task sequence's deployments, oldest first");
    t.same(ids(await store.deployments.ofCollection('PS100014')), ['PS120002', 'PS120001'], "a collection's deployments, oldest first");
    t.same(await store.deployments.ofTaskSequence('PS100099'), []);
    t.same(await store.deployments.ofCollection('PS100099'), []);

    const moved = { ...d1, collectionId: 'PS100015', comments: 'moved' };
    await store.deployments.put(moved);
    t.same(await store.deployments.get('PS120001'), moved, 'put replaces the whole deployment');
    t.same(ids(await store.deployments.ofCollection('PS100015')), ['PS120003', 'PS120001'], 'and its columns with it');
    t.same(ids(await store.deployments.ofCollection('PS100014')), ['PS120002']);

    await t.rejects(store.deployments.put(deployment('PS120004', 'PS100099', 'PS100014', 4_000)), 'a deployment of an unknown task sequence is refused');
    t.equal(await store.deployments.get('PS120004'), null, 'and nothing of it was stored');
    await t.rejects(store.taskSequences.delete('PS100021'), 'a deployed task sequence cannot be deleted');
    t.ok(await store.taskSequences.get('PS100021'), 'and it is still there');

    t.equal(await store.deployments.delete('PS120002'), true, 'delete says it removed the deployment');
    t.equal(await store.deployments.delete('PS120002'), false, 'and that there was nothing the second time');
    t.equal(await store.deployments.get('PS120002'), null);
    t.equal(await store.taskSequences.delete('PS100021'), true, 'a task sequence without deployments can go');
  });

  t.test('R-19 starts: remembered once, listed, cleared by computer or one deployment, and go with their deployment', async (t) => {
    const fresh = await impl.fresh(t);
    const { store } = fresh;
    await seedCollections(impl, fresh, 'PS100014');
    await store.taskSequences.put(taskSequence('PS100020', 'Install'), 1_000);
    await store.deployments.put(deployment('PS120001', 'PS100020', 'PS100014', 1_000));
    await store.deployments.put(deployment('PS120002', 'PS100020', 'PS100014', 2_000));

    t.equal(await store.deployments.addPxeStart({ computerId: PC1, deploymentId: 'PS120001', startedAt: 5_000 }), true, 'a first start is remembered');
    t.equal(await store.deployments.addPxeStart({ computerId: PC1, deploymentId: 'PS120001', startedAt: 9_000 }), false, 'a second start of the same pair is not');
    t.equal(await store.deployments.addPxeStart({ computerId: PC1, deploymentId: 'PS120002', startedAt: 4_000 }), true);
    t.equal(await store.deployments.addPxeStart({ computerId: PC2, deploymentId: 'PS120001', startedAt: 6_000 }), true);
    t.equal(await store.deployments.addPxeStart({ computerId: PC2, deploymentId: 'PS120002', startedAt: 7_000 }), true);

    const pc1 = [
      { computerId: PC1, deploymentId: 'PS120002', startedAt: 4_000 },
      { computerId: PC1, deploymentId: 'PS120001', startedAt: 5_000 },
    ];
    t.same(await store.deployments.pxeStartsOf(PC1), pc1, "a computer's starts, oldest first; the first start time stays");
    t.same(await store.deployments.pxeStartsOf('16777299'), []);
    t.same(
      (await store.deployments.pxeStarts()).map((s) => `${s.computerId}/${s.deploymentId}`),
      [`${PC1}/PS120001`, `${PC1}/PS120002`, `${PC2}/PS120001`, `${PC2}/PS120002`],
      'every start, by computer then deployment',
    );

    t.same(await store.deployments.deletePxeStarts(PC1, 'PS120002'), [pc1[0]], "clearing one deployment's start returns it");
    t.same(await store.deployments.deletePxeStarts(PC1, 'PS120002'), [], 'and nothing the second time');
    t.same(await store.deployments.deletePxeStarts(PC1), [pc1[1]], "clearing a computer returns what was left of its starts");
    t.same(await store.deployments.pxeStartsOf(PC1), []);
    t.same(await store.deployments.deletePxeStarts('16777299'), [], 'an unknown computer has nothing to clear');
    t.equal(await store.deployments.addPxeStart({ computerId: PC1, deploymentId: 'PS120001', startedAt: 8_000 }), true, 'a cleared start can be remembered again');

    t.equal(await store.deployments.delete('PS120001'), true);
    t.same(
      await store.deployments.pxeStarts(),
      [{ computerId: PC2, deploymentId: 'PS120002', startedAt: 7_000 }],
      "a deleted deployment's starts went with it, every computer's; others stay",
    );
    const both = await store.deployments.deletePxeStarts(PC2);
    t.same(both, [{ computerId: PC2, deploymentId: 'PS120002', startedAt: 7_000 }]);
  });

  t.test('deployments, starts, task sequences and folders written in a transaction that throws leave nothing behind', async (t) => {
    const fresh = await impl.fresh(t);
    const { store } = fresh;
    withKey(store);
    await seedCollections(impl, fresh, 'PS100014');
    await store.taskSequences.put(taskSequence('PS100020', 'Install'), 1_000);
    await store.deployments.put(deployment('PS120001', 'PS100020', 'PS100014', 1_000));
    await store.deployments.addPxeStart({ computerId: PC1, deploymentId: 'PS120001', startedAt: 5_000 });
    const boom = new Error('refused');
    await t.rejects(
      store.transaction(async (tx) => {
        await tx.folders.insert({ id: 'f1', name: 'Servers', parentId: null });
        await tx.taskSequences.put(taskSequence('PS100021', 'Join', 'f1', PASSWORD), 2_000);
        await tx.deployments.put(deployment('PS120002', 'PS100021', 'PS100014', 2_000));
        await tx.deployments.addPxeStart({ computerId: PC2, deploymentId: 'PS120002', startedAt: 6_000 });
        t.same(ids(await tx.deployments.list()), ['PS120001', 'PS120002'], 'the transaction sees its own writes');
        t.same(await tx.deployments.deletePxeStarts(PC1), [{ computerId: PC1, deploymentId: 'PS120001', startedAt: 5_000 }]);
        await tx.deployments.put({ ...(await tx.deployments.get('PS120001'))!, comments: 'changed' });
        t.equal(await tx.deployments.delete('PS120001'), true);
        await tx.taskSequences.put({ ...(await tx.taskSequences.get('PS100020'))!, name: 'Renamed' }, 3_000);
        throw boom;
      }),
      boom,
      'the error comes back as it was thrown',
    );
    t.same(await store.folders.list(), [], 'no folder');
    t.same(ids(await store.taskSequences.list()), ['PS100020'], 'no new task sequence');
    t.equal((await store.taskSequences.get('PS100020'))?.name, 'Install', 'the replaced one is as it was');
    t.same(ids(await store.deployments.list()), ['PS120001'], 'the deleted deployment is back, the new one is not');
    t.equal((await store.deployments.get('PS120001'))?.comments, '', 'unchanged');
    t.same(await store.deployments.pxeStarts(), [{ computerId: PC1, deploymentId: 'PS120001', startedAt: 5_000 }], 'the cleared start is back, the new one is not');

    await store.transaction(async (tx) => {
      await tx.folders.insert({ id: 'f1', name: 'Servers', parentId: null });
      await tx.taskSequences.put(taskSequence('PS100021', 'Join', 'f1', PASSWORD), 2_000);
      await tx.deployments.put(deployment('PS120002', 'PS100021', 'PS100014', 2_000));
    });
    t.equal(stepOf(await store.taskSequences.get('PS100021'))?.properties.runAsPassword, PASSWORD, 'a commit keeps everything, the secret readable');
    t.same(ids(await store.deployments.ofTaskSequence('PS100021')), ['PS120002']);
  });
}

export function taskSequenceContract(t: Test, impl: Impl): void {
  t.test('task sequences: a step password is sealed at rest and opened on read', async (t) => {
    const { store, another } = await impl.fresh(t);
    withKey(store);
    const ts = taskSequence('PS100020', 'Join the domain', null, PASSWORD);
    await store.taskSequences.put(ts, 1_234);

    const row = await rawRow(store, 'task_sequences', 'PS100020');
    const doc = String(row?.doc);
    t.notOk(doc.includes('P@ss w0rd'), 'the stored document does not hold the password');
    t.match(doc, /"runAsPassword":"enc:v1:/, 'it holds a sealed value in its place');
    t.match(row, { name: 'Join the domain', folder_id: null, updated_at: 1_234 }, 'the columns beside the document');
    t.same(await store.taskSequences.get('PS100020'), ts, 'read back whole, the password opened');
    t.equal(stepOf(await store.taskSequences.get('PS100020'))?.properties.runAsPassword, PASSWORD);
    t.same((await store.taskSequences.list())[0], ts, 'lists open it too');

    await store.taskSequences.put(ts, 2_000);
    t.equal(stepOf(await store.taskSequences.get('PS100020'))?.properties.runAsPassword, PASSWORD, 'a document put again is sealed once, not twice');

    // A second connection or pool with no key bound: it can neither seal nor open.
    const unkeyed = await another();
    await t.rejects(unkeyed.taskSequences.get('PS100020'), /no secret key is loaded/, 'a sealed document is not read without the key');
    await t.rejects(unkeyed.taskSequences.put(taskSequence('PS100021', 'Other', null, 'x'), 1), /no secret key is loaded/, 'a secret is never stored in the clear');
    t.equal(await store.taskSequences.get('PS100021'), null, 'and nothing of it was stored');
    t.same(ids(await unkeyed.taskSequences.byName('Nothing')), [], 'documents without secrets need no key');
  });

  t.test('task sequences: listed by name, looked up by name and folder, replaced, deleted', async (t) => {
    const { store } = await impl.fresh(t);
    await store.folders.insert({ id: 'f1', name: 'Servers', parentId: null });
    await store.folders.insert({ id: 'f2', name: 'Lab', parentId: 'f1' });
    const a = taskSequence('PS100023', 'Zeta');
    const b = taskSequence('PS100022', 'alpha', 'f1');
    const c = taskSequence('PS100021', 'Beta', 'f1');
    const d = taskSequence('PS100020', 'Beta', 'f2');
    for (const x of [a, b, c, d]) await store.taskSequences.put(x, 1_000);

    t.same(ids(await store.taskSequences.list()), ['PS100020', 'PS100021', 'PS100023', 'PS100022'], 'by name bytewise (upper case first), then id');
    t.same(await store.taskSequences.get('PS100022'), b);
    t.equal(await store.taskSequences.get('PS100099'), null);
    t.same(ids(await store.taskSequences.byName('Beta')), ['PS100020', 'PS100021'], 'every task sequence of that name, by id');
    t.same(await store.taskSequences.byName('beta'), [], 'names match exactly');
    t.same(ids(await store.taskSequences.inFolder(null)), ['PS100023'], 'the top level');
    t.same(ids(await store.taskSequences.inFolder('f1')), ['PS100021', 'PS100022'], "a folder's own, not its subfolders'");
    t.same(ids(await store.taskSequences.inFolder('f9')), []);

    const movedA = { ...a, folderId: 'f2', description: 'moved' };
    await store.taskSequences.put(movedA, 2_000);
    t.same(await store.taskSequences.get('PS100023'), movedA, 'put replaces the whole task sequence');
    t.same(ids(await store.taskSequences.inFolder(null)), [], 'and its folder column with it');
    t.same(ids(await store.taskSequences.inFolder('f2')), ['PS100020', 'PS100023']);

    await t.rejects(store.taskSequences.put(taskSequence('PS100024', 'Lost', 'f9'), 1_000), 'a task sequence in an unknown folder is refused');
    t.equal(await store.taskSequences.get('PS100024'), null, 'and nothing of it was stored');

    t.equal(await store.taskSequences.delete('PS100023'), true);
    t.equal(await store.taskSequences.delete('PS100023'), false);
    t.same(ids(await store.taskSequences.list()), ['PS100020', 'PS100021', 'PS100022']);
  });

  t.test('folders: insert, get, list, rename and move, delete only when empty', async (t) => {
    const { store } = await impl.fresh(t);
    const top: Folder = { id: 'f1', name: 'Servers', parentId: null };
    const sub: Folder = { id: 'f2', name: 'Lab ✓', parentId: 'f1' };
    const other: Folder = { id: 'f10', name: 'Desktops', parentId: null };
    for (const f of [top, sub, other]) await store.folders.insert(f);
    t.same(await store.folders.get('f2'), sub, 'a folder comes back as it went in');
    t.equal(await store.folders.get('f9'), null);
    t.same(await store.folders.list(), [top, other, sub], 'listed by id, bytewise');
    await t.rejects(store.folders.insert({ id: 'f1', name: 'Again', parentId: null }), 'an id already stored is refused');
    await t.rejects(store.folders.insert({ id: 'f3', name: 'Orphan', parentId: 'f9' }), 'a folder in an unknown parent is refused');
    t.equal(await store.folders.get('f3'), null);

    t.equal(await store.folders.update({ id: 'f2', name: 'Lab machines', parentId: 'f10' }), true, 'renamed and moved');
    t.same(await store.folders.get('f2'), { id: 'f2', name: 'Lab machines', parentId: 'f10' });
    t.equal(await store.folders.update({ id: 'f2', name: 'Lab machines', parentId: null }), true, 'moved to the top level');
    t.equal((await store.folders.get('f2'))?.parentId, null);
    t.equal(await store.folders.update({ id: 'f9', name: 'Nobody', parentId: null }), false, 'an unknown folder is not updated');
    await t.rejects(store.folders.update({ id: 'f2', name: 'Lab machines', parentId: 'f9' }), 'a move into an unknown parent is refused');

    await store.folders.update({ id: 'f2', name: 'Lab machines', parentId: 'f1' });
    await t.rejects(store.folders.delete('f1'), 'a folder with subfolders is not deleted');
    await store.taskSequences.put(taskSequence('PS100020', 'Filed', 'f10'), 1_000);
    await t.rejects(store.folders.delete('f10'), 'a folder holding a task sequence is not deleted');
    t.same(ids(await store.folders.list()), ['f1', 'f10', 'f2'], 'both are still there');
    t.equal(await store.folders.delete('f2'), true, 'an empty folder is');
    t.equal(await store.folders.delete('f2'), false);
    t.equal(await store.folders.delete('f1'), true, 'and then its parent');
  });
}

/** SQLite: the repositories and the site's own helpers share the tables, sealing and change journal. */
export function deploymentSqliteOnly(t: Test, impl: Impl): void {
  t.test("the repositories read what today's site code wrote, and the other way round", async (t) => {
    const fresh = await impl.fresh(t);
    const store = fresh.store as SqliteSiteStore;
    const db = store.db;
    withKey(store);
    const changes: StoreChange[] = [];
    onCommittedChanges(db, (c) => changes.push(...c));
    await seedCollections(impl, fresh, 'PS100014');

    // As task-sequences.ts writes them.
    db.prepare('INSERT INTO folders (id, name, parent_id) VALUES (?, ?, ?)').run('f1', 'Servers', null);
    const old = taskSequence('PS100020', 'Written by the site', 'f1', PASSWORD);
    putDoc(db, 'task_sequences', old.id, { name: old.name, folder_id: old.folderId, updated_at: 1_000 }, old);
    t.same(await store.folders.get('f1'), { id: 'f1', name: 'Servers', parentId: null }, 'a folder the site made');
    t.same(await store.taskSequences.get('PS100020'), old, "a task sequence the site sealed, opened by the repository");
    t.same(ids(await store.taskSequences.byName('Written by the site')), ['PS100020']);

    const mine = taskSequence('PS100021', 'Written by the repository', 'f1', PASSWORD);
    changes.length = 0;
    await store.taskSequences.put(mine, 2_000);
    t.same(getDoc<TaskSequence>(db, 'task_sequences', 'PS100021'), mine, 'the site reads what the repository sealed');
    t.same(changes, [{ kind: 'doc', table: 'task_sequences', id: 'PS100021', doc: mine }], 'and the policy state is told, with what was written');

    // As deployments.ts writes them.
    const d = deployment('PS120001', 'PS100020', 'PS100014', 1_000);
    putDoc(db, 'deployments', d.id, { task_sequence_id: d.taskSequenceId, collection_id: d.collectionId, created_at: d.createdAt }, d);
    t.same(await store.deployments.get('PS120001'), d, 'a deployment the site stored');
    t.same(ids(await store.deployments.ofCollection('PS100014')), ['PS120001']);
    const d2 = deployment('PS120002', 'PS100021', 'PS100014', 2_000);
    await store.deployments.put(d2);
    t.same(getDoc<Deployment>(db, 'deployments', 'PS120002'), d2, 'the site reads what the repository stored');

    addPxeStart(db, PC1, 'PS120001', 5_000);
    t.same(await store.deployments.pxeStartsOf(PC1), [{ computerId: PC1, deploymentId: 'PS120001', startedAt: 5_000 }], 'an R-19 start the site recorded');
    changes.length = 0;
    await store.deployments.addPxeStart({ computerId: PC2, deploymentId: 'PS120002', startedAt: 6_000 });
    t.same(allPxeStarts(db), [
      { computerId: PC1, deploymentId: 'PS120001' },
      { computerId: PC2, deploymentId: 'PS120002' },
    ], 'the site reads the one the repository recorded');
    await store.deployments.deletePxeStarts(PC1);
    await store.deployments.delete('PS120002');
    t.same(
      changes,
      [
        { kind: 'pxeStart', computerId: PC2, deploymentId: 'PS120002', present: true },
        { kind: 'pxeStart', computerId: PC1, deploymentId: 'PS120001', present: false },
        { kind: 'pxeStart', computerId: PC2, deploymentId: 'PS120002', present: false },
        { kind: 'doc', table: 'deployments', id: 'PS120002', doc: null },
      ],
      'every change to a policy input is reported',
    );
  });
}
