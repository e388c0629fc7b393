/**
 * Issue 14: status messages are written off the event loop that answers boots, by a worker
 * thread with its own connection, in one transaction with the R-19 records they start.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import t from 'tap';
import { openDatabase } from '../../../server/store/db.js';
import { InlineStatusWriter, WorkerStatusWriter, type StatusRow } from '../../../server/store/sqlite/status-writer.js';

const row = (id: string, extra: Partial<StatusRow> = {}): StatusRow => ({
  id, at: 1, computerId: '16777220', deploymentId: 'PS120001', kind: 'progress', doc: JSON.stringify({ id }), requiredPxeStart: false, ...extra,
});

function site(t: { teardown(fn: () => void): void }) {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'osdeploy-status-writer-')), 'site.db');
  const db = openDatabase(file);
  t.teardown(() => db.close());
  return { db, file };
}

const count = (db: ReturnType<typeof openDatabase>, sql: string): number => (db.prepare(sql).get() as { n: number }).n;

for (const kind of ['worker', 'inline'] as const) {
  t.test(`issue 14: the ${kind} status writer stores a batch once, with its R-19 records, in one transaction`, async (t) => {
    const { db, file } = site(t);
    const writer = kind === 'worker' ? new WorkerStatusWriter(db, file) : new InlineStatusWriter(db);
    t.teardown(() => writer.close());

    const first = await writer.write([row('a'), row('b', { kind: 'runStarted', requiredPxeStart: true }), row('a')], 1000);
    t.same(first.inserted, [true, true, false], 'a message id stored twice is a duplicate');
    t.same(first.pxeStartsAdded, [{ computerId: '16777220', deploymentId: 'PS120001' }], 'the R-19 record of the run start');
    if (kind === 'worker') t.not(first.thread, threadId, `written by thread ${first.thread}, not the main thread (${threadId})`);
    else t.equal(first.thread, threadId);
    t.equal(count(db, 'SELECT COUNT(*) AS n FROM status_messages'), 2, 'the main connection sees the commit');
    t.equal(count(db, 'SELECT COUNT(*) AS n FROM required_pxe_starts'), 1);

    const resent = await writer.write([row('b', { kind: 'runStarted', requiredPxeStart: true })], 2000);
    t.same(resent, { inserted: [false], pxeStartsAdded: [], thread: first.thread }, 'a resent batch changes nothing');

    // Fault injection: the second message fails; nothing of the batch is kept.
    db.exec("CREATE TRIGGER fail_c BEFORE INSERT ON status_messages WHEN NEW.id = 'd' BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
    await t.rejects(writer.write([row('c', { deploymentId: 'PS120002', kind: 'runStarted', requiredPxeStart: true }), row('d')], 3000), /injected failure/);
    t.equal(count(db, "SELECT COUNT(*) AS n FROM status_messages WHERE id IN ('c', 'd')"), 0, 'the batch rolled back');
    t.equal(count(db, "SELECT COUNT(*) AS n FROM required_pxe_starts WHERE deployment_id = 'PS120002'"), 0, 'with its R-19 record');
    db.exec('DROP TRIGGER fail_c');
    const after = await writer.write([row('e')], 4000);
    t.same(after.inserted, [true], 'the writer goes on after a refused batch');
  });
}
