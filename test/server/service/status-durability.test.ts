/**
 * Issue 14: status batches are written by a worker thread, and the API answers only after that
 * transaction committed. "A kill -9 at any moment loses nothing that was acknowledged": the real
 * service takes concurrent status batches (with run starts that record R-19), is killed with
 * SIGKILL mid-traffic, and its database is then opened directly: every acknowledged message is
 * there, every acknowledged PXE start of a Required deployment has its R-19 record, and nothing
 * is half-written. On each engine: SQLite (DATA_DIR/site.db, which also passes integrity_check)
 * and PostgreSQL (OSDEPLOY_DATABASE_URL, a fresh test database, queried with `pg`; skipped with
 * the reason where there is no PostgreSQL, except under CI, where the fixture fails instead).
 */
import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import { postgresSkipReason } from '../../fixtures/postgres.js';
import { api, startService, tempDataDir } from './harness.js';
import { postgresQuery, postgresSite, sqliteSiteDb, type Query } from './site-db.js';

const LOOPS = 4;
const BATCH = 25;
const COMPUTERS = 40;
const KILL_AFTER_MS = [400, 1200];

interface Acked {
  readonly deploymentId: string;
  readonly ids: readonly string[];
  readonly starts: ReadonlySet<string>;
}

/** Sets up a Required deployment, sends status batches from LOOPS loops, kills the service after `killAfter` ms. */
async function killDuringStatus(t: Test, killAfter: number, dataDir: string, env: Record<string, string> = {}): Promise<Acked> {
  const svc = await startService(t, { dataDir, env, lifetimeMs: 30_000, logLevel: 'warn', readyTimeoutMs: 60_000 });
  const admin = (method: string, url: string, body?: unknown) => api<Record<string, unknown>>(svc.url, svc.adminToken, method, url, body);

  const rows = Array.from({ length: COMPUTERS }, (_, i) => ({ name: `STATUS-${i}`, macAddresses: [`02:5a:00:00:00:${i.toString(16).padStart(2, '0')}`] }));
  const imported = await admin('POST', '/computers/import', { computers: rows });
  t.ok([200, 201].includes(imported.status), 'computers imported');
  const ids = (imported.body.computers as { id: string }[]).map((c) => c.id);
  const col = await admin('POST', '/collections', { name: 'Imaging', directMemberIds: ids });
  const boot = await admin('POST', '/content', { kind: 'bootImage', name: 'Boot' });
  const ts = await admin('POST', '/task-sequences', { type: 'custom', name: 'Image', bootImageId: boot.body.id });
  const dep = await admin('POST', '/deployments', { taskSequenceId: ts.body.id, collectionId: col.body.id, purpose: 'required', assignments: [{ kind: 'asap' }], availability: 'mediaPxe' });
  t.equal(dep.status, 201, 'a Required deployment to the machines');
  const deploymentId = String(dep.body.id);
  const client = await admin('POST', '/tokens', { name: 'relay', role: 'client', scope: 'site' });
  const token = String(client.body.token);

  const ackedIds: string[] = [];
  const ackedStarts = new Set<string>();
  let failures = 0;
  let stopping = false;
  let next = 0;
  const loop = async (): Promise<void> => {
    while (!stopping) {
      const batch = Array.from({ length: BATCH }, () => {
        const n = next++;
        const computerId = ids[n % COMPUTERS]!;
        // Each computer's first message starts its run from PXE; the rest is progress.
        const kind = n < COMPUTERS ? 'runStarted' : 'progress';
        return { id: randomUUID(), at: Date.now(), computerId, deploymentId, runId: `run-${computerId}`, kind, ...(kind === 'runStarted' ? { source: 'pxe' } : {}) };
      });
      try {
        const r = await api<{ accepted: number }>(svc.url, token, 'POST', '/status', { messages: batch });
        if (r.status !== 200) {
          failures++;
          continue;
        }
        for (const m of batch) {
          ackedIds.push(m.id);
          if (m.kind === 'runStarted') ackedStarts.add(m.computerId);
        }
      } catch {
        failures++;
        return; // the process is gone: this batch was never acknowledged
      }
    }
  };
  const loops = Array.from({ length: LOOPS }, () => loop());
  await new Promise((r) => setTimeout(r, killAfter));
  svc.proc.kill('SIGKILL');
  const exit = await svc.exited;
  stopping = true;
  await Promise.all(loops);
  t.equal(exit.signal, 'SIGKILL', 'the service was killed');
  t.ok(ackedIds.length > 0, `${ackedIds.length} messages were acknowledged before the kill`);
  t.ok(failures > 0, 'batches were in flight when the process died');
  return { deploymentId, ids: ackedIds, starts: ackedStarts };
}

/** The same checks on either engine. */
async function checkStored(t: Test, query: Query, acked: Acked): Promise<void> {
  const stored = new Set((await query<{ id: string }>('SELECT id FROM status_messages')).map((r) => r.id));
  t.same(acked.ids.filter((id) => !stored.has(id)), [], `all ${acked.ids.length} acknowledged messages are stored`);
  const r19 = new Set((await query<{ c: string }>('SELECT computer_id AS c FROM required_pxe_starts WHERE deployment_id = $1', [acked.deploymentId])).map((r) => r.c));
  t.same([...acked.starts].filter((c) => !r19.has(c)), [], `every acknowledged PXE start has its R-19 record (${acked.starts.size})`);
  // Whole or nothing: an R-19 record exists only with the run-start message that made it.
  const startsStored = new Set(
    (await query<{ c: string }>("SELECT computer_id AS c FROM status_messages WHERE kind = 'runStarted' AND deployment_id = $1", [acked.deploymentId])).map((r) => r.c),
  );
  t.same([...r19].filter((c) => !startsStored.has(c)), [], 'no R-19 record without its run-start message');
}

for (const killAfter of KILL_AFTER_MS) {
  t.test(`issue 14, sqlite: SIGKILL after ${killAfter} ms of status traffic loses no acknowledged message or R-19 record`, async (t) => {
    const dataDir = tempDataDir(t, 'osdeploy-status-kill-');
    const acked = await killDuringStatus(t, killAfter, dataDir);
    const { db, query } = sqliteSiteDb(t, dataDir);
    t.equal(db.pragma('integrity_check', { simple: true }), 'ok', 'PRAGMA integrity_check: ok');
    await checkStored(t, query, acked);
  });
}

const skip = postgresSkipReason();
t.test('issue 14, postgresql', skip === null ? {} : { skip }, async (t) => {
  for (const killAfter of KILL_AFTER_MS) {
    t.test(`SIGKILL after ${killAfter} ms of status traffic loses no acknowledged message or R-19 record`, async (t) => {
      const site = await postgresSite(t);
      const acked = await killDuringStatus(t, killAfter, tempDataDir(t, 'osdeploy-status-kill-pg-'), site.env);
      await checkStored(t, postgresQuery(t, site.url), acked);
    });
  }
});
