/**
 * Issue 14, part 1: the policy state is updated, not rebuilt. Through the real API on a real
 * SQLite site: status traffic never touches it, a change to a policy input is applied as a
 * delta that the next boot decision already sees, a full build runs in slices while the old
 * state keeps answering, and R-19 commits with the status message that starts the run.
 */
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { apiHarness, computer, customTaskSequence, nextMac, type ApiHarness, type Json } from '../../fixtures/api-harness.js';

async function deploy(h: ApiHarness, body: Record<string, unknown>): Promise<string> {
  const res = await h.call('POST', '/deployments', { body });
  if (res.status !== 201) throw new Error(res.body);
  return res.json.id;
}

const boot = async (h: ApiHarness, mac: string): Promise<Json> => {
  const res = await h.call('GET', `/boot-policy?mac=${mac}&arch=x64&source=pxe`, { token: h.tokens.client });
  if (res.status !== 200) throw new Error(`${res.status} ${res.body}`);
  return res.json;
};

const message = (h: ApiHarness, computerId: string, deploymentId: string, runId: string, kind: string, extra: Record<string, unknown> = {}) => ({
  id: randomUUID(), at: h.clock.now(), computerId, deploymentId, runId, kind, ...extra,
});

async function setUp(h: ApiHarness): Promise<{ pc: string; mac: string; dep: string }> {
  const mac = nextMac();
  const pc = await computer(h, 'PC-STATE', { macAddresses: [mac] });
  const { tsId } = await customTaskSequence(h);
  const dep = await deploy(h, { taskSequenceId: tsId, collectionId: 'SMS00001', purpose: 'required', assignments: [{ kind: 'asap' }], availability: 'mediaPxe' });
  return { pc, mac, dep };
}

t.test('issue 14: status messages, tokens and audit never touch the policy state', async (t) => {
  const h = await apiHarness(t);
  const { pc, dep } = await setUp(h);
  h.ctx.snapshot.get();
  const before = h.ctx.snapshot.stats;
  const version = h.ctx.snapshot.version;
  const runId = randomUUID();
  for (let i = 0; i < 20; i++) {
    const res = await h.call('POST', '/status', { token: h.tokens.client, body: { messages: [message(h, pc, dep, runId, i === 0 ? 'runStarted' : 'progress')] } });
    t.equal(res.status, 200, res.body.slice(0, 300));
  }
  t.equal((await h.call('POST', '/tokens', { body: { name: 'x', role: 'technician' } })).status, 201);
  const after = h.ctx.snapshot.stats;
  t.equal(after.builds, before.builds, 'no build');
  t.equal(after.deltas, before.deltas, 'no delta either: nothing a boot reads changed');
  t.equal(h.ctx.snapshot.version, version, 'the policy version is unchanged');
});

t.test('issue 14: a policy change is a delta the very next boot decision sees (read-your-writes)', async (t) => {
  const h = await apiHarness(t);
  const { mac } = await setUp(h);
  h.ctx.snapshot.get();
  const builds = h.ctx.snapshot.stats.builds;
  t.match(await boot(h, mac), { identity: { known: true } });

  const newMac = nextMac();
  t.match(await boot(h, newMac), { identity: { known: false } }, 'an unknown machine');
  const created = await computer(h, 'PC-NEW', { macAddresses: [newMac] });
  t.match(await boot(h, newMac), { identity: { computerId: created, known: true } }, 'known at once after the API acknowledged it');

  const renamed = await h.call('PATCH', `/computers/${created}`, { body: { macAddresses: [nextMac()] } });
  t.equal(renamed.status, 200);
  t.match(await boot(h, newMac), { identity: { known: false } }, 'its old MAC no longer matches');

  const off = await h.call('PATCH', '/settings', { body: { pxe: { unknownComputerSupport: false } } });
  t.equal(off.status, 200);
  t.match(await boot(h, nextMac()), { kind: 'nothing', identity: null }, 'a setting applies to the next boot');
  t.equal(h.ctx.snapshot.stats.builds, builds, 'all of it without a rebuild');
  t.ok(h.ctx.snapshot.stats.deltas >= 3, `${h.ctx.snapshot.stats.deltas} deltas applied`);
});

t.test('issue 14: R-19 commits with the run-start message, or neither does', async (t) => {
  const h = await apiHarness(t);
  const { pc, mac, dep } = await setUp(h);
  t.match(await boot(h, mac), { kind: 'run', deploymentId: dep });

  // Fault injection: the R-19 insert fails inside the status transaction (a trigger in the
  // database itself, so the status writer's own connection meets it too).
  h.db.exec("CREATE TRIGGER fail_r19 BEFORE INSERT ON required_pxe_starts BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  const started = message(h, pc, dep, randomUUID(), 'runStarted', { source: 'pxe' });
  const res = await h.call('POST', '/status', { token: h.tokens.client, body: { messages: [started] } });
  t.not(res.status, 200, `the batch is refused (${res.status})`);
  const stored = h.db.prepare('SELECT COUNT(*) AS n FROM status_messages WHERE id = ?').get(started.id) as { n: number };
  t.equal(stored.n, 0, 'the run-start message was not stored without its R-19 record');
  t.match(await boot(h, mac), { kind: 'run', deploymentId: dep }, 'nothing half-recorded changed the boot');

  h.db.exec('DROP TRIGGER fail_r19');
  const again = await h.call('POST', '/status', { token: h.tokens.client, body: { messages: [started] } });
  t.equal(again.status, 200);
  t.equal(again.json.accepted, 1);
  const r19 = h.db.prepare('SELECT COUNT(*) AS n FROM required_pxe_starts WHERE computer_id = ? AND deployment_id = ?').get(pc, dep) as { n: number };
  t.equal(r19.n, 1, 'both committed together');
  t.not((await boot(h, mac)).deploymentId, dep, 'and the next PXE boot no longer runs it (R-19)');
});

t.test('issue 14: a full build runs in slices while the old state answers; changes during it are kept', async (t) => {
  const h = await apiHarness(t);
  const { mac } = await setUp(h);
  // Enough computers that the build takes many slices.
  const rows = Array.from({ length: 6000 }, (_, i) => ({ name: `BULK-${i}`, macAddresses: [nextMac()] }));
  const imported = await h.call('POST', '/computers/import', { body: { computers: rows } });
  t.ok([200, 201].includes(imported.status), imported.body.slice(0, 200));
  const old = h.ctx.snapshot.get();
  const building = h.ctx.snapshot.rebuild({ sliceMs: 0 });
  t.ok(h.ctx.snapshot.stats.building, 'building');
  t.equal(h.ctx.snapshot.get(), old, 'the previous state answers while the build runs');
  t.match(await boot(h, mac), { identity: { known: true } }, 'boots are answered during the build');
  const lateMac = nextMac();
  const late = await computer(h, 'PC-LATE', { macAddresses: [lateMac] });
  t.match(await boot(h, lateMac), { identity: { computerId: late } }, 'a change during the build is seen at once');
  await building;
  t.not(h.ctx.snapshot.get(), old, 'the new state took over');
  t.notOk(h.ctx.snapshot.stats.building);
  t.match(await boot(h, lateMac), { identity: { computerId: late } }, 'and it has the change made during the build');
  t.equal(h.ctx.snapshot.get().computers.size >= 6002, true, 'every computer is in it');
  t.ok(h.ctx.snapshot.stats.lastBuildSlices > 3, `built in ${h.ctx.snapshot.stats.lastBuildSlices} slices, yielding to the event loop between them`);
});

t.test('issue 14: a write that rolls back changes nothing in the policy state', async (t) => {
  const h = await apiHarness(t);
  const mac = nextMac();
  const before = h.ctx.snapshot.get().computers.size;
  const deltas = h.ctx.snapshot.stats.deltas;
  // Fault injection: the database refuses the second row after the first was written.
  h.db.exec("CREATE TEMP TRIGGER fail_bad BEFORE INSERT ON main.computers WHEN NEW.name = 'BAD' BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  const res = await h.call('POST', '/computers/import', { body: { computers: [{ name: 'GOOD-1', macAddresses: [mac] }, { name: 'BAD', macAddresses: [nextMac()] }] } });
  t.not(res.status, 200, `refused (${res.status})`);
  t.not(res.status, 201);
  t.equal((h.db.prepare("SELECT COUNT(*) AS n FROM computers WHERE name = 'GOOD-1'").get() as { n: number }).n, 0, 'the transaction rolled back');
  t.equal(h.ctx.snapshot.get().computers.size, before, 'no computer appeared');
  t.equal(h.ctx.snapshot.stats.deltas, deltas, 'nothing was applied');
  t.match(await boot(h, mac), { identity: { known: false } }, 'the first row of the refused import is unknown to boots');
});
