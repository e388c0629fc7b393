/**
 * "A kill -9 at any moment loses nothing that was acknowledged": the real service takes
 * concurrent creates, is killed with SIGKILL while requests are in flight, and its database
 * is then opened directly and checked — every computer that got a 201 is there with its MAC,
 * no change is half-written, and (SQLite) the file passes integrity_check. Three runs, each
 * killed at a different moment, on each engine: SQLite (DATA_DIR/site.db) and PostgreSQL
 * (OSDEPLOY_DATABASE_URL, a fresh test database, queried with `pg`; skipped with the reason
 * where there is no PostgreSQL, except under CI, where the fixture fails instead).
 */
import t, { type Test } from 'tap';
import { postgresSkipReason } from '../../fixtures/postgres.js';
import { startService, tempDataDir } from './harness.js';
import { postgresQuery, postgresSite, sqliteSiteDb, type Query } from './site-db.js';

const LOOPS = 8;
const KILL_AFTER_MS = [450, 1000, 1500];

interface Acked {
  readonly id: string;
  readonly mac: string;
  readonly name: string;
}

const macOf = (run: number, loop: number, n: number): string =>
  ['02', run, loop, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff].map((b) => (typeof b === 'string' ? b : b.toString(16).padStart(2, '0'))).join(':');

/** Starts the service, writes from LOOPS loops, kills it after `killAfter` ms: the acknowledged creates. */
async function killDuringWrites(t: Test, run: number, killAfter: number, dataDir: string, env: Record<string, string> = {}): Promise<Acked[]> {
  const svc = await startService(t, { dataDir, env, lifetimeMs: 20_000, logLevel: 'warn', readyTimeoutMs: 60_000 });
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
  return acked;
}

/** The same checks on either engine: nothing acknowledged is lost, nothing stored is half-written. */
async function checkStored(t: Test, query: Query, acked: readonly Acked[]): Promise<void> {
  const macs = new Map((await query<{ mac: string; id: string }>('SELECT mac, computer_id AS id FROM computer_macs')).map((r) => [r.mac, r.id]));
  const names = new Map((await query<{ id: string; name: string }>('SELECT id, name FROM computers')).map((r) => [r.id, r.name]));
  const lost = acked.filter((a) => names.get(a.id) !== a.name || macs.get(a.mac) !== a.id);
  t.same(lost, [], `all ${acked.length} acknowledged computers are present with their MACs`);

  // Every change is whole: each stored computer has both MAC rows, its audit record, and an id
  // the counter has already handed out.
  const rows = await query<{ id: string; doc: string; macs: number; audits: number }>(
    `SELECT c.id, c.doc, (SELECT CAST(COUNT(*) AS INTEGER) FROM computer_macs m WHERE m.computer_id = c.id) AS macs,
            (SELECT CAST(COUNT(*) AS INTEGER) FROM audit a WHERE a.action = 'computer.created' AND a.target = c.id) AS audits
       FROM computers c WHERE c.name LIKE 'KILL-%'`,
  );
  t.ok(rows.length >= acked.length, `${rows.length} stored (some may have committed without an answer)`);
  const half = rows.filter((r) => r.macs !== 2 || r.audits !== 1 || (JSON.parse(r.doc) as { macAddresses: string[] }).macAddresses.length !== 2);
  t.same(half, [], 'no computer is missing its MAC rows or audit record');
  const [counterRow] = await query<{ value: number | string }>("SELECT value FROM counters WHERE name = 'computer'");
  const counter = Number(counterRow?.value);
  const maxId = Math.max(...rows.map((r) => Number(r.id)));
  t.equal(maxId, 16777219 + counter, 'the id counter matches the last stored computer');
  t.equal(rows.length, counter, 'no gaps and no extras: one computer per counter value');
}

for (const [run, killAfter] of KILL_AFTER_MS.entries()) {
  t.test(`sqlite: SIGKILL after ${killAfter} ms of concurrent writes loses nothing acknowledged`, async (t) => {
    const dataDir = tempDataDir(t, 'osdeploy-kill-');
    const acked = await killDuringWrites(t, run, killAfter, dataDir);
    const { db, query } = sqliteSiteDb(t, dataDir);
    t.equal(db.pragma('integrity_check', { simple: true }), 'ok', 'PRAGMA integrity_check: ok');
    t.same(db.pragma('foreign_key_check'), [], 'no dangling references');
    await checkStored(t, query, acked);
  });
}

const skip = postgresSkipReason();
t.test('postgresql', skip === null ? {} : { skip }, async (t) => {
  for (const [run, killAfter] of KILL_AFTER_MS.entries()) {
    t.test(`SIGKILL after ${killAfter} ms of concurrent writes loses nothing acknowledged`, async (t) => {
      const site = await postgresSite(t);
      const acked = await killDuringWrites(t, run, killAfter, tempDataDir(t, 'osdeploy-kill-pg-'), site.env);
      const query = postgresQuery(t, site.url);
      const dangling = await query("SELECT m.mac FROM computer_macs m LEFT JOIN computers c ON c.id = m.computer_id WHERE c.id IS NULL");
      t.same(dangling, [], 'no dangling references');
      await checkStored(t, query, acked);
    });
  }
});
