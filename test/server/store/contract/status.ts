/** Status messages (stored once, in arrival order, whole) and R-19's required PXE starts. */
import type { Test } from 'tap';
import { runsOf, type StatusMessage } from '../../../../policy/status.js';
import type { Impl } from './harness.js';

const PC1 = '16777220';
const PC2 = '16777221';
const step = { itemId: 'i1', name: 'Format and Partition Disk', type: 'FormatAndPartitionDisk' };

let clock = 1_700_000_000_000;
const m = (id: string, computerId: string, deploymentId: string, runId: string, kind: StatusMessage['kind'], extra: Partial<StatusMessage> = {}): StatusMessage => {
  clock += 1_000;
  return { id, at: clock - 200, computerId, deploymentId, runId, kind, receivedAt: clock, ...extra };
};

/** Two runs on PC1 (one failed, one still going), one finished run on PC2. */
function messages(): StatusMessage[] {
  return [
    m('a1', PC1, 'PS120001', 'r1', 'runStarted', { source: 'pxe' }),
    m('a2', PC1, 'PS120001', 'r1', 'stepStarted', { step }),
    m('b1', PC2, 'PS120001', 'r2', 'runStarted', { source: 'media' }),
    m('a3', PC1, 'PS120001', 'r1', 'stepFailed', { step, exitCode: 2, outputTail: 'sfdisk: \u0000 bad table\n\u00e9\u2713', durationMs: 1234 }),
    m('a4', PC1, 'PS120001', 'r1', 'runFinished', { outcome: 'failed' }),
    m('b2', PC2, 'PS120001', 'r2', 'stepSucceeded', { step, exitCode: 0 }),
    m('b3', PC2, 'PS120001', 'r2', 'runFinished', { outcome: 'success' }),
    m('c1', PC1, 'PS120002', 'r3', 'runStarted', { source: 'fullOs' }),
    m('c2', PC1, 'PS120002', 'r3', 'progress', { percent: 40, message: 'applying image' }),
  ];
}

export function statusContract(t: Test, impl: Impl): void {
  t.test('a batch is stored in one call, in its order; duplicates (earlier, or twice in the batch) are answered as such', async (t) => {
    const { store } = await impl.fresh(t);
    t.same(await store.status.insertMany([]), []);
    t.equal(await store.status.insert(m('b0', PC1, 'PS120001', 'r9', 'runStarted')), true);
    const batch = [m('b2', PC1, 'PS120001', 'r9', 'stepStarted'), m('b0', PC1, 'PS120001', 'r9', 'runStarted'), m('b1', PC1, 'PS120001', 'r9', 'progress'), m('b2', PC1, 'PS120001', 'r9', 'stepStarted')];
    t.same(await store.status.insertMany(batch), [true, false, true, false]);
    t.same((await store.status.ofComputer(PC1)).map((x) => x.id), ['b0', 'b2', 'b1'], 'arrival order is the batch order');
    t.same(await store.transaction((tx) => tx.status.insertMany([m('b3', PC1, 'PS120001', 'r9', 'progress')])), [true], 'inside a transaction too');
  });

  t.test('status messages: stored once, returned whole in arrival order, and runs derive from them', async (t) => {
    const { store } = await impl.fresh(t);
    const sent = messages();
    for (const x of sent) t.equal(await store.status.insert(x), true, `${x.id} is new`);
    const resend = { ...(sent[0] as StatusMessage), receivedAt: clock + 99_000, message: 'resent' };
    t.equal(await store.status.insert(resend), false, 'a resend of a stored id is a duplicate');

    const pc1 = await store.status.ofComputer(PC1);
    t.same(pc1, sent.filter((x) => x.computerId === PC1), "a computer's messages, whole and in arrival order (the first copy kept)");
    t.equal(pc1[2]?.outputTail, 'sfdisk: \u0000 bad table\n\u00e9\u2713', 'output with NUL and non-ASCII survives');
    t.same((await store.status.ofDeployment('PS120001')).map((x) => x.id), ['a1', 'a2', 'b1', 'a3', 'a4', 'b2', 'b3']);
    t.same(await store.status.ofDeployment('PS999999'), []);

    const runs = runsOf(pc1);
    t.same(runs, runsOf(sent.filter((x) => x.computerId === PC1)), 'runs from stored messages equal runs from the sent ones');
    t.same(
      runs.map((r) => [r.runId, r.deploymentId, r.source, r.state, r.stepsFailed, r.finishedAt === null]),
      [
        ['r1', 'PS120001', 'pxe', 'error', 1, false],
        ['r3', 'PS120002', 'fullOs', 'inProgress', 0, true],
      ],
      "PC1's runs: a failed PXE run, then a full-OS run in progress",
    );
    t.same(runsOf(await store.status.ofComputer(PC2)).map((r) => [r.runId, r.state, r.stepsSucceeded]), [['r2', 'success', 1]]);

    const page = await store.status.page({ deploymentId: 'PS120001' }, { offset: 1, limit: 3 });
    t.same([page.total, page.items.map((x) => x.id)], [7, ['b2', 'a4', 'a3']], 'paged newest first');
    const both = await store.status.page({ computerId: PC1, deploymentId: 'PS120002' }, { offset: 0, limit: 10 });
    t.same(both.items.map((x) => x.id), ['c2', 'c1'], 'both filters at once');
    t.equal((await store.status.page({}, { offset: 0, limit: 0 })).total, 9, 'unfiltered total');
  });

}
