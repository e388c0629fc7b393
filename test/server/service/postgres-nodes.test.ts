/**
 * Issue 14, several site nodes on one PostgreSQL, with real processes: two `osdeploy serve`
 * on one database (OSDEPLOY_DATABASE_URL, one secret key). A write on A reaches the boot
 * decisions of B through LISTEN/NOTIFY as a delta; a node restarted mid-run starts from what
 * the database holds; a node that loses the database keeps its policy state, says so in
 * /healthz, refuses writes with 503, and catches up once the database is back.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import t from 'tap';
import { postgresSkipReason, testPostgres } from '../../fixtures/postgres.js';
import { api, startService, tempDataDir, type Service } from './harness.js';

const skip = postgresSkipReason();

interface Health {
  status: string;
  policy: { version: number; deltas: number; builds: number };
  database: { kind: string; reachable: boolean; since?: number };
}

const health = async (node: Service): Promise<Health> => (await (await fetch(`${node.url}/healthz`, { signal: AbortSignal.timeout(5000) })).json()) as Health;

/** The known computer B's policy state resolves the MAC to (boot-policy answers from it), or null. */
async function bootComputer(node: Service, token: string, mac: string): Promise<string | null> {
  const r = await api<{ identity: { computerId: string; known: boolean } | null }>(node.url, token, 'GET', `/boot-policy?mac=${encodeURIComponent(mac)}&arch=x64`);
  if (r.status !== 200) throw new Error(`boot-policy answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body.identity?.known ? r.body.identity.computerId : null;
}

async function until<T>(what: string, fn: () => Promise<T | null | false>, ms = 10_000): Promise<{ value: T; waited: number }> {
  const started = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== null && v !== false) return { value: v, waited: Date.now() - started };
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('two nodes on one PostgreSQL database', skip === null ? {} : { skip }, async (top) => {
  const t = top;
  const server = await testPostgres(t);
  const env = { OSDEPLOY_DATABASE_URL: server.url, OSDEPLOY_SECRET_KEY: randomBytes(32).toString('base64') };
  const a = await startService(t, { dataDir: tempDataDir(t, 'osdeploy-node-a-'), env, lifetimeMs: 170_000, logLevel: 'warn', readyTimeoutMs: 60_000 });
  t.ok(a.adminToken, 'the first node made the site admin token');
  const bDir = tempDataDir(t, 'osdeploy-node-b-');
  let b = await startService(t, { dataDir: bDir, env, lifetimeMs: 170_000, logLevel: 'warn', readyTimeoutMs: 60_000 });
  t.equal(b.adminToken, '', 'the second node found it in the shared database and made none');
  t.match(await health(b), { status: 'ok', database: { kind: 'postgres', reachable: true } });

  // One token, made on A, works on B: tokens live in the shared database.
  const client = await api<{ token: string }>(a.url, a.adminToken, 'POST', '/tokens', { name: 'relay', role: 'client', scope: 'site' });
  t.equal(client.status, 201);
  const relay = client.body.token;

  t.test('a write on A is in the boot decisions of B', async (t) => {
    const mac = '02:00:00:aa:00:01';
    t.equal(await bootComputer(b, relay, mac), null, 'B does not know the machine yet');
    const created = await api<{ id: string }>(a.url, a.adminToken, 'POST', '/computers', { name: 'NODE-TEST-1', macAddresses: [mac] });
    t.equal(created.status, 201);
    const seen = await until('B resolves the new computer', async () => ((await bootComputer(b, relay, mac)) === created.body.id ? true : null));
    t.comment(`B answered boots with A's write after ${seen.waited} ms`);
    const h = await health(b);
    t.equal(h.policy.builds, 1, 'as a delta: B built its policy state once, at start');
    t.ok(h.policy.deltas >= 1);
  });

  t.test('ids come from the database: two nodes never hand out the same one', async (t) => {
    const made = await Promise.all(
      Array.from({ length: 20 }, (_, i) => api<{ id: string }>(i % 2 ? a.url : b.url, a.adminToken, 'POST', '/collections', { name: `Both nodes ${i}` })),
    );
    t.same(made.map((r) => r.status), Array(20).fill(201));
    t.equal(new Set(made.map((r) => r.body.id)).size, 20, '20 distinct collection ids');
  });

  t.test('a node restarted mid-run starts from what the database holds', async (t) => {
    await b.stop('SIGKILL');
    const mac = '02:00:00:aa:00:02';
    const created = await api<{ id: string }>(a.url, a.adminToken, 'POST', '/computers', { name: 'NODE-TEST-2', macAddresses: [mac] });
    t.equal(created.status, 201, 'A takes writes while B is down');
    // Torn down with the whole test, not this subtest: the next one uses it.
    b = await startService(top, { dataDir: bDir, env, lifetimeMs: 120_000, logLevel: 'warn', readyTimeoutMs: 60_000 });
    t.equal(await bootComputer(b, relay, mac), created.body.id, 'B, back, resolves what A wrote meanwhile');
  });

  t.test('a node that loses the database keeps answering from its policy state, refuses writes with 503, and catches up', async (t) => {
    // The outage is made from another database of the server (a database cannot shut itself out).
    const other = new URL(server.url);
    const dbName = other.pathname.slice(1);
    other.pathname = '/postgres';
    const adminPool = new pg.Pool({ connectionString: other.toString(), max: 1 });
    t.teardown(() => adminPool.end());
    const known = '02:00:00:aa:00:01';
    const before = await bootComputer(b, relay, known);
    const script = async (): Promise<{ status: number; text: string }> => {
      const r = await fetch(`${b.url}/boot.ipxe?mac=${encodeURIComponent(known)}&arch=x64`, { signal: AbortSignal.timeout(5000) });
      return { status: r.status, text: await r.text() };
    };
    const scriptBefore = await script();
    // The database goes away: no new connections, and every existing one is cut.
    await adminPool.query(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS false`);
    let restored = false;
    const restore = async () => {
      if (restored) return;
      restored = true;
      await adminPool.query(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS true`);
    };
    t.teardown(restore);
    await adminPool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName]);
    await until('B says the database is unreachable', async () => (await health(b)).database.reachable === false);
    const h = await health(b);
    t.match(h, { status: 'ok', database: { kind: 'postgres', reachable: false } }, '/healthz says so');
    const write = await fetch(`${b.url}/api/v1/computers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'DURING-OUTAGE', macAddresses: ['02:00:00:aa:00:09'] }),
      signal: AbortSignal.timeout(15_000),
    });
    t.equal(write.status, 503, 'a write is refused with 503');
    t.match(await write.json(), { error: 'database-unavailable' });
    t.ok(before, 'B knew the machine before the outage');
    t.same(await script(), scriptBefore, 'B still answers the boot (its iPXE script) from its policy state');
    t.ok((await health(b)).policy.builds >= 1, 'and keeps its policy state through it (boots need no database)');

    await restore();
    await until('B reconnects', async () => (await health(b)).database.reachable === true, 20_000);
    const mac = '02:00:00:aa:00:03';
    const created = await api<{ id: string }>(a.url, a.adminToken, 'POST', '/computers', { name: 'AFTER-OUTAGE', macAddresses: [mac] });
    t.equal(created.status, 201, 'writes work again');
    await until('B hears writes again', async () => ((await bootComputer(b, relay, mac)) === created.body.id ? true : null));
    t.pass('B answers boots with writes made after the outage');
  });
});
