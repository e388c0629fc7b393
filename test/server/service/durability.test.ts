/**
 * "A kill -9 at any moment loses nothing that was acknowledged": the real service takes
 * concurrent creates, is killed with SIGKILL while requests are in flight, and its database
 * is then opened directly and checked — every computer that got a 201 is there with its MAC,
 * the file passes integrity_check, and no change is half-written. Three runs, each killed at
 * a different moment.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import t from 'tap';
import { startService, tempDataDir } from './harness.js';

const LOOPS = 8;
const KILL_AFTER_MS = [450, 1000, 1500];

interface Acked {
  readonly id: string;
  readonly mac: string;
  readonly name: string;
}

const macOf = (run: number, loop: number, n: number): string =>
  ['02', run, loop, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff].map((b) => (typeof b === 'string' ? b : b.toString(16).padStart(2, '0'))).join(':');

for (const [run, killAfter] of KILL_AFTER_MS.entries()) {
  t.test(`SIGKILL after ${killAfter} ms of concurrent writes loses nothing acknowledged`, async (t) => {
    const dataDir = tempDataDir(t, 'osdeploy-kill-');
    const svc = await startService(t, { dataDir, lifetimeMs: 20_000, logLevel: 'warn' });
    const acked: Acked[] = [];
    let attempts = 0;
    let failures = 0;
    let stopping = false;

    const loop = async (l: number): Promise<void> => {
      for (let n = 0; !stopping; n++) {
        const mac = macOf(run, l, n);
        const name = `KILL-${run}-${l}-${n}`;
        attempts++;
        try {
          const r = await fetch(`${svc.url}/api/v1/computers`, {
            method: 'POST',
            headers: { authorization: `Bearer ${svc.adminToken}`, 'content-type': 'application/json' },
            // Two MACs: each create is a multi-row change (computer, two MAC rows, audit).
            body: JSON.stringify({ name, macAddresses: [mac, mac.replace(/^02/, '06')], variables: [{ name: 'Loop', value: String(l) }] }),
            signal: AbortSignal.timeout(5000),
          });
          const body = (await r.json()) as { id?: string };
          if (r.status === 201 && body.id) acked.push({ id: body.id, mac, name });
          else failures++;
        } catch {
          // The process is gone (or going): this request was never acknowledged.
          failures++;
          return;
        }
      }
    };
    const loops = Array.from({ length: LOOPS }, (_, l) => loop(l));

    await new Promise((r) => setTimeout(r, killAfter));
    svc.proc.kill('SIGKILL');
    const exit = await svc.exited;
    stopping = true;
    await Promise.all(loops);
    t.equal(exit.signal, 'SIGKILL', 'the service was killed');
    t.ok(acked.length > 0, `some creates were acknowledged before the kill (${acked.length} of ${attempts}, ${failures} cut off)`);
    t.ok(failures > 0, 'requests were in flight when the process died');

    const db = new Database(path.join(dataDir, 'site.db'));
    t.teardown(() => db.close());
    t.equal(db.pragma('integrity_check', { simple: true }), 'ok', 'PRAGMA integrity_check: ok');
    t.same(db.pragma('foreign_key_check'), [], 'no dangling references');

    const macs = new Map((db.prepare('SELECT mac, computer_id AS id FROM computer_macs').all() as { mac: string; id: string }[]).map((r) => [r.mac, r.id]));
    const names = new Map((db.prepare('SELECT id, name FROM computers').all() as { id: string; name: string }[]).map((r) => [r.id, r.name]));
    const lost = acked.filter((a) => names.get(a.id) !== a.name || macs.get(a.mac) !== a.id);
    t.same(lost, [], `all ${acked.length} acknowledged computers are present with their MACs`);

    // Every change is whole: each stored computer has both MAC rows, its audit record, and an id
    // the counter has already handed out.
    const rows = db
      .prepare(
        `SELECT c.id, c.doc, (SELECT COUNT(*) FROM computer_macs m WHERE m.computer_id = c.id) AS macs,
                (SELECT COUNT(*) FROM audit a WHERE a.action = 'computer.created' AND a.target = c.id) AS audits
           FROM computers c WHERE c.name LIKE 'KILL-%'`,
      )
      .all() as { id: string; doc: string; macs: number; audits: number }[];
    t.ok(rows.length >= acked.length, `${rows.length} stored (some may have committed without an answer)`);
    const half = rows.filter((r) => r.macs !== 2 || r.audits !== 1 || (JSON.parse(r.doc) as { macAddresses: string[] }).macAddresses.length !== 2);
    t.same(half, [], 'no computer is missing its MAC rows or audit record');
    const counter = (db.prepare("SELECT value FROM counters WHERE name = 'computer'").get() as { value: number }).value;
    const maxId = Math.max(...rows.map((r) => Number(r.id)));
    t.equal(maxId, 16777219 + counter, 'the id counter matches the last stored computer');
    t.equal(rows.length, counter, 'no gaps and no extras: one computer per counter value');
  });
}
