/**
 * Issue 14: status batches are written by a worker thread, and the API answers only after that
 * transaction committed. "A kill -9 at any moment loses nothing that was acknowledged": the real
 * service takes concurrent status batches (with run starts that record R-19), is killed with
 * SIGKILL mid-traffic, and its database is then opened directly: every acknowledged message is
 * there, every acknowledged PXE start of a Required deployment has its R-19 record, and nothing
 * is half-written.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import t from 'tap';
import { api, startService, tempDataDir } from './harness.js';

const LOOPS = 4;
const BATCH = 25;
const COMPUTERS = 40;

for (const killAfter of [400, 1200]) {
  t.test(`issue 14: SIGKILL after ${killAfter} ms of status traffic loses no acknowledged message or R-19 record`, async (t) => {
    const dataDir = tempDataDir(t, 'osdeploy-status-kill-');
    const svc = await startService(t, { dataDir, lifetimeMs: 30_000, logLevel: 'warn' });
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

    const db = new Database(path.join(dataDir, 'site.db'));
    t.teardown(() => db.close());
    t.equal(db.pragma('integrity_check', { simple: true }), 'ok', 'PRAGMA integrity_check: ok');
    const stored = new Set((db.prepare('SELECT id FROM status_messages').all() as { id: string }[]).map((r) => r.id));
    t.same(ackedIds.filter((id) => !stored.has(id)), [], `all ${ackedIds.length} acknowledged messages are stored`);
    const r19 = new Set((db.prepare('SELECT computer_id AS c FROM required_pxe_starts WHERE deployment_id = ?').all(deploymentId) as { c: string }[]).map((r) => r.c));
    t.same([...ackedStarts].filter((c) => !r19.has(c)), [], `every acknowledged PXE start has its R-19 record (${ackedStarts.size})`);
    // Whole or nothing: an R-19 record exists only with the run-start message that made it.
    const startsStored = new Set((db.prepare("SELECT computer_id AS c FROM status_messages WHERE kind = 'runStarted' AND deployment_id = ?").all(deploymentId) as { c: string }[]).map((r) => r.c));
    t.same([...r19].filter((c) => !startsStored.has(c)), [], 'no R-19 record without its run-start message');
  });
}
