/**
 * Status, registration, R-19 from a PXE run start, deployment counts, computer
 * history, alerts on an injected clock, and the full-OS client policy built from
 * the run history that status messages record.
 */
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { apiHarness, collection, computer, customTaskSequence, nextMac, type ApiHarness, type Json } from '../../fixtures/api-harness.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

async function deploy(h: ApiHarness, body: Record<string, unknown>): Promise<string> {
  const res = await h.call('POST', '/deployments', { body });
  if (res.status !== 201) throw new Error(res.body);
  return res.json.id;
}

/** A message as an engine sends it; `at` on the harness clock. */
const msg = (h: ApiHarness, computerId: string, deploymentId: string, runId: string, kind: string, extra: Record<string, unknown> = {}) => ({
  id: randomUUID(), at: h.clock.now(), computerId, deploymentId, runId, kind, ...extra,
});

async function post(h: ApiHarness, messages: unknown[]): Promise<Json> {
  const res = await h.call('POST', '/status', { token: h.tokens.client, body: { messages } });
  if (res.status !== 200) throw new Error(`${res.status} ${res.body}`);
  return res.json;
}

/** A whole run: started, one step, finished with `outcome` (or still running when null). */
async function run(h: ApiHarness, pc: string, dep: string, outcome: 'success' | 'failed' | null, source = 'media'): Promise<string> {
  const runId = randomUUID();
  const step = { itemId: 'i1', name: 'Say hello', type: 'RunCommandLine' };
  const msgs = [msg(h, pc, dep, runId, 'runStarted', { source }), msg(h, pc, dep, runId, 'stepStarted', { step })];
  if (outcome) {
    msgs.push(msg(h, pc, dep, runId, outcome === 'success' ? 'stepSucceeded' : 'stepFailed', { step, exitCode: outcome === 'success' ? 0 : 1 }));
    msgs.push(msg(h, pc, dep, runId, 'runFinished', { outcome }));
  }
  await post(h, msgs);
  return runId;
}

t.test('R-17 registration creates the computer once and finds it again by MAC or UUID', async (t) => {
  const h = await apiHarness(t);
  const mac = nextMac();
  const uuid = '4c4c4544-0031-3510-8052-b4c04f4d4d99';
  const first = await h.call('POST', '/register', { token: h.tokens.client, body: { macAddresses: [mac.toUpperCase()], smbiosUuid: uuid, architecture: 'x64' } });
  t.equal(first.status, 201);
  t.match(first.json, { created: true, computer: { macAddresses: [mac], smbiosUuid: uuid, architecture: 'x64', name: /^MININT-/ } });
  const again = await h.call('POST', '/register', { token: h.tokens.client, body: { macAddresses: [mac], architecture: 'x64' } });
  t.match(again, { status: 200, json: { created: false, computer: { id: first.json.computer.id } } }, 'by MAC');
  const byUuid = await h.call('POST', '/register', { token: h.tokens.client, body: { macAddresses: [nextMac()], smbiosUuid: uuid, architecture: 'x64' } });
  t.match(byUuid.json, { created: false, computer: { id: first.json.computer.id } }, 'by SMBIOS UUID');
  t.equal((await h.call('POST', '/register', { token: h.tokens.technician, body: { macAddresses: [nextMac()], architecture: 'x64' } })).status, 403, 'not for technicians');
  t.match(await h.call('POST', '/register', { token: h.tokens.client, body: { macAddresses: [], architecture: 'x64' } }), { status: 400, json: { field: 'macAddresses' } });
  t.match(await h.call('POST', '/register', { token: h.tokens.client, body: { macAddresses: [nextMac()], architecture: 'x64', name: 'LAB-PC-7' } }), { status: 201, json: { computer: { name: 'LAB-PC-7' } } });
});

t.test('R-30 status messages are stored once: a resend is a duplicate, a bad one is rejected alone', async (t) => {
  const h = await apiHarness(t);
  const pc = await computer(h, 'PC');
  const { tsId } = await customTaskSequence(h);
  const dep = await deploy(h, { taskSequenceId: tsId, collectionId: await collection(h, 'Lab', { directMemberIds: [pc] }), availability: 'clientsMediaPxe' });
  const runId = randomUUID();
  const batch = [msg(h, pc, dep, runId, 'runStarted', { source: 'media' }), msg(h, pc, dep, runId, 'stepStarted', { step: { itemId: 'i1', name: 'x', type: 'RunCommandLine' } })];
  t.same(await post(h, batch), { accepted: 2, duplicates: 0, rejected: [] });
  t.same(await post(h, batch), { accepted: 0, duplicates: 2, rejected: [] }, 'a resend after a lost answer stores nothing twice');

  const mac = (await h.call('GET', `/computers/${pc}`)).json.macAddresses[0];
  const byMac = msg(h, pc, dep, runId, 'progress', { percent: 50 });
  delete (byMac as Record<string, unknown>).computerId;
  const stranger = { ...msg(h, pc, dep, runId, 'progress'), computerId: undefined, mac: '02:99:99:99:99:99' };
  const unknownObject = msg(h, 'unknown-x64', dep, runId, 'progress');
  const wide = msg(h, pc, dep, runId, 'stepFailed', { outputTail: 'é'.repeat(5000) });
  const r = await post(h, [{ ...byMac, mac }, stranger, unknownObject, wide]);
  t.equal(r.accepted, 1, 'found by MAC');
  t.match(r.rejected, [
    { id: stranger.id, reason: /register the machine first/ },
    { id: unknownObject.id, reason: /register the machine first/ },
    { id: wide.id, reason: /longer than 8192 bytes/ },
  ]);
  t.equal((await h.call('POST', '/status', { token: h.tokens.client, body: { messages: [{ ...msg(h, pc, dep, runId, 'progress'), outputTail: 'x'.repeat(8193) }] } })).status, 400, 'over 8 KiB by schema');
  t.equal((await h.call('POST', '/status', { token: h.tokens.technician, body: { messages: batch } })).status, 403);
  t.equal((await h.call('POST', '/status', { token: h.tokens.client, body: { messages: [{ ...batch[0], kind: 'exploded' }] } })).status, 400);
  // oversized batches and broken bodies are answered, and nothing of them is stored.
  const many = Array.from({ length: 501 }, () => msg(h, pc, dep, runId, 'progress'));
  t.equal((await h.call('POST', '/status', { token: h.tokens.client, body: { messages: many } })).status, 400, 'at most 500 a batch');
  t.equal((await h.call('POST', '/status', { token: h.tokens.client, body: '{"messages": [', headers: { 'content-type': 'application/json' } })).status, 400);
  t.equal((await h.call('POST', '/status', { token: h.tokens.client, body: { messages: [{ ...batch[0], id: '../../etc' }] } })).status, 400, 'ids are plain tokens');

  const listed = await h.call('GET', `/status-messages?computerId=${pc}`);
  t.equal(listed.json.total, 3);
  t.match(listed.json.items[0], { kind: 'progress', computerId: pc, receivedAt: h.clock.now() });
});

t.test('R-19 a run started from PXE of a Required deployment is recorded for the computer', async (t) => {
  const h = await apiHarness(t);
  const mac = nextMac();
  const pc = await computer(h, 'PC', { macAddresses: [mac] });
  const col = await collection(h, 'Lab', { directMemberIds: [pc] });
  const a = await customTaskSequence(h, 'Required one');
  const b = await customTaskSequence(h, 'Available one');
  const required = await deploy(h, { taskSequenceId: a.tsId, collectionId: col, availability: 'mediaPxe', purpose: 'required', assignments: [{ kind: 'asap' }] });
  const available = await deploy(h, { taskSequenceId: b.tsId, collectionId: col, availability: 'mediaPxe' });
  await run(h, pc, available, 'success', 'pxe');
  await run(h, pc, required, null, 'media');
  t.match((await h.call('GET', `/boot-policy?mac=${mac}`)).json, { kind: 'run', deploymentId: required }, 'a media start does not count');
  await run(h, pc, required, null, 'pxe');
  const after = (await h.call('GET', `/boot-policy?mac=${mac}`)).json;
  t.match(after, { kind: 'offer', offers: [{ deploymentId: available }] }, 'the Required one is no longer run from PXE; the Available one is still offered');
  t.match((await h.call('GET', `/computers/${pc}/status`)).json.requiredPxeStarts, [{ deploymentId: required }]);
});

t.test('R-30 a deployment shows counts by state and each computer’s last state; a computer its history', async (t) => {
  const h = await apiHarness(t);
  const [ok, bad, busy, idle] = [await computer(h, 'OK'), await computer(h, 'BAD'), await computer(h, 'BUSY'), await computer(h, 'IDLE')];
  const { tsId } = await customTaskSequence(h);
  const dep = await deploy(h, { taskSequenceId: tsId, collectionId: await collection(h, 'Lab', { directMemberIds: [ok, bad, busy, idle] }), availability: 'clientsMediaPxe' });
  await run(h, ok, dep, 'failed');
  h.clock.advance(HOUR);
  await run(h, ok, dep, 'success');
  await run(h, bad, dep, 'failed');
  await run(h, busy, dep, null);

  t.equal((await h.call('GET', `/deployments/${dep}/status`, { token: h.tokens.technician })).status, 403, 'R-31: status is for administrators');
  const s = (await h.call('GET', `/deployments/${dep}/status`)).json;
  t.same(s.counts, { success: 1, inProgress: 1, error: 1, unknown: 1, total: 4 }, 'each computer once, by its latest run');
  const state = Object.fromEntries(s.computers.map((c: Json) => [c.name, c.state]));
  t.same(state, { OK: 'success', BAD: 'error', BUSY: 'inProgress', IDLE: 'unknown' });
  t.match(s.computers.find((c: Json) => c.name === 'BUSY').last, { kind: 'stepStarted', step: { name: 'Say hello' } });
  t.equal((await h.call('GET', '/deployments/PS129999/status')).status, 404);

  const history = (await h.call('GET', `/computers/${ok}/status?limit=2`)).json;
  t.same(history.runs.map((r: Json) => r.state), ['error', 'success'], 'oldest run first');
  t.equal(history.messages.total, 8);
  t.equal(history.messages.items.length, 2);
  t.equal(history.messages.items[0].kind, 'runFinished', 'newest message first');
});

t.test('R-16/R-30 alerts fire on their thresholds, on the injected clock', async (t) => {
  const h = await apiHarness(t);
  const pcs = [await computer(h, 'A'), await computer(h, 'B'), await computer(h, 'C'), await computer(h, 'D')];
  const { tsId } = await customTaskSequence(h);
  const col = await collection(h, 'Lab', { directMemberIds: pcs });
  const dep = await deploy(h, { taskSequenceId: tsId, collectionId: col, availability: 'clientsMediaPxe', alerts: { successBelow: { percent: 50, afterDays: 2 }, failureAbove: { percent: 30 } } });
  await deploy(h, { taskSequenceId: tsId, collectionId: col, availability: 'clientsMediaPxe' });
  await run(h, pcs[0]!, dep, 'success');
  await run(h, pcs[1]!, dep, 'failed');
  t.same((await h.call('GET', '/alerts')).json.items, [], 'success 25 % but only day 0; failures 25 %');
  h.clock.advance(2 * DAY);
  t.match((await h.call('GET', '/alerts')).json.items, [{ deploymentId: dep, kind: 'successBelow', percent: 25, threshold: 50 }]);
  await run(h, pcs[2]!, dep, 'failed');
  t.match((await h.call('GET', '/alerts')).json.items, [{ kind: 'successBelow' }, { kind: 'failureAbove', percent: 50, threshold: 30, message: /failures 50% are above 30%/ }]);
  await run(h, pcs[1]!, dep, 'success');
  await run(h, pcs[2]!, dep, 'success');
  t.same((await h.call('GET', '/alerts')).json.items, [], 'reruns that succeed clear both');
});

t.test('R-13/R-14 client policy evaluates schedules and rerun rules against the status history', async (t) => {
  const h = await apiHarness(t);
  const pc = await computer(h, 'PC');
  const col = await collection(h, 'Lab', { directMemberIds: [pc] });
  const { tsId } = await customTaskSequence(h);
  const daily = { kind: 'interval', start: { at: '2026-03-02T10:00', utc: true }, every: 1, unit: 'days' };
  const dep = await deploy(h, { taskSequenceId: tsId, collectionId: col, availability: 'clients', purpose: 'required', assignments: [daily], rerun: 'ifFailed' });
  const policy = async () => (await h.call('GET', `/client-policy?computerId=${pc}&utcOffset=0`, { token: h.tokens.client })).json;

  let p = await policy();
  t.same(p.required, [], '09:00: not due yet');
  t.match(p.upcoming, [{ deploymentId: dep, what: 'due', at: Date.UTC(2026, 2, 2, 10) }]);
  t.match(p.available, [{ deploymentId: dep, taskSequence: { id: tsId, items: [{ type: 'RunCommandLine' }] }, builtIns: { _SMSTSMediaType: 'SMS', _SMSTSInWinPE: 'false' } }]);

  h.clock.advance(HOUR + 1);
  p = await policy();
  t.match(p.required, [{ deploymentId: dep, reason: 'assignment reached and never run' }]);
  await run(h, pc, dep, 'failed');
  p = await policy();
  t.same(p.required, [], 'already ran for this occurrence');
  t.match(p.skipped, [{ deploymentId: dep, reason: 'already ran for the current assignment' }]);

  h.clock.advance(DAY);
  t.match((await policy()).required, [{ deploymentId: dep, reason: /previous attempt failed/ }], 'next day: the failed run is retried (rerun if failed)');
  await run(h, pc, dep, 'success');
  h.clock.advance(DAY);
  t.match((await policy()).skipped, [{ deploymentId: dep, reason: /rerun only if failed/ }], 'after a success it is not rerun');

  t.equal((await h.call('GET', `/client-policy?computerId=${pc}`, { token: h.tokens.technician })).status, 403);
  t.equal((await h.call('GET', '/client-policy?computerId=unknown-x64', { token: h.tokens.client })).status, 400);
  t.equal((await h.call('GET', '/client-policy?computerId=424242', { token: h.tokens.client })).status, 404);
});
