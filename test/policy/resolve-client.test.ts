import t from 'tap';
import { resolveClient, setTaskSequenceEnabled, type ClientDecision, type ClientState, type RunRecord } from '../../policy/index.js';
import { CUSTOM_TS_ID, HOUR, INSTALL_TS_ID, MINUTE, SiteBuilder, T0, type DeployInput } from '../fixtures/site-builder.js';

const LAB = 'PS100100';
/** Instant of a UTC wall time, computed independently of the code under test. */
const Z = (s: string): number => Date.parse(`${s}:00Z`);
const utc = (at: string) => ({ at, utc: true });
const local = (at: string) => ({ at, utc: false });
const state = (over: Partial<ClientState> = {}): ClientState => ({ utcOffsetMinutes: 0, history: [], ...over });

/** pc1 in LAB, with the given deployments (custom task sequence unless one is named). */
function site(...inputs: Omit<DeployInput, 'collectionId'>[]) {
  const b = new SiteBuilder();
  b.computer('pc1', { macs: ['00:11:22:33:44:01'] });
  b.collection(LAB, { directMemberIds: ['pc1'] });
  const ids = inputs.map((i) => b.deploy({ taskSequenceId: CUSTOM_TS_ID, availability: 'clients', ...i, collectionId: LAB }).id);
  return { b, ids, site: b.site() };
}

const availableIds = (d: ClientDecision) => d.available.map((o) => o.deployment.id);
const requiredIds = (d: ClientDecision) => d.required.map((o) => o.deployment.id);
const skippedOf = (d: ClientDecision, id: string) => d.skipped.find((s) => s.deploymentId === id)?.reason;

t.test('R-12 deployments available only to media and PXE never reach a full-OS client', async (t) => {
  const { ids, site: s } = site(
    { availability: 'clients' },
    { availability: 'clientsMediaPxe' },
    { availability: 'mediaPxe' },
    { availability: 'mediaPxeHidden' },
    { availability: 'mediaPxe', purpose: 'required' },
  );
  const d = resolveClient(s, 'pc1', state(), T0 + HOUR);
  t.same(availableIds(d), ids.slice(0, 2));
  t.same([d.required, d.upcoming, d.skipped], [[], [], []]);
  t.same(availableIds(resolveClient(s, 'nobody', state(), T0 + HOUR)), [], 'a computer in no collection gets nothing');
});

t.test('R-13 a deployment not yet available is upcoming, not offered', async (t) => {
  const { ids, site: s } = site({ availableFrom: utc('2026-03-05T08:00') });
  const d = resolveClient(s, 'pc1', state(), T0);
  t.same(availableIds(d), []);
  t.same(d.upcoming.map((u) => [u.deployment.id, u.at, u.what]), [[ids[0], Z('2026-03-05T08:00'), 'available']]);
  t.same(availableIds(resolveClient(s, 'pc1', state(), Z('2026-03-05T08:00'))), ids, 'available from that instant');
});

t.test('R-13 an expired deployment is skipped', async (t) => {
  const { ids, site: s } = site({ availableFrom: utc('2026-03-01T00:00'), expiresAt: utc('2026-03-02T10:00') });
  t.same(availableIds(resolveClient(s, 'pc1', state(), Z('2026-03-02T09:59'))), ids);
  const d = resolveClient(s, 'pc1', state(), Z('2026-03-02T10:00'));
  t.same(availableIds(d), []);
  t.equal(skippedOf(d, ids[0]!), 'expired');
});

t.test('R-13 local time follows the client\'s offset; UTC does not', async (t) => {
  const { ids, site: s } = site({ availableFrom: local('2026-03-02T09:30') }, { availableFrom: utc('2026-03-02T09:30') });
  const now = Z('2026-03-02T09:00');
  const east = resolveClient(s, 'pc1', state({ utcOffsetMinutes: 60 }), now); // local 10:00
  const west = resolveClient(s, 'pc1', state({ utcOffsetMinutes: -60 }), now); // local 08:00
  t.same(availableIds(east), [ids[0]], 'local 09:30 has passed at UTC+1');
  t.same(availableIds(west), []);
  t.same(
    west.upcoming.map((u) => [u.deployment.id, u.at]),
    [[ids[1], Z('2026-03-02T09:30')], [ids[0], Z('2026-03-02T10:30')]],
    'the UTC one at 09:30Z for everyone; the local one at 09:30 local = 10:30Z',
  );
  t.same(east.upcoming.map((u) => [u.deployment.id, u.at]), [[ids[1], Z('2026-03-02T09:30')]]);
});

t.test('R-13 a Required deployment is due after its assignment occurrence, not before', async (t) => {
  const { ids, site: s } = site({ purpose: 'required', assignments: [{ kind: 'once', start: utc('2026-03-02T12:00') }] });
  const before = resolveClient(s, 'pc1', state(), Z('2026-03-02T11:59'));
  t.same(requiredIds(before), []);
  t.same(availableIds(before), ids, 'a user may start a Required deployment early');
  t.same(before.upcoming.map((u) => [u.deployment.id, u.at, u.what]), [[ids[0], Z('2026-03-02T12:00'), 'due']]);
  const after = resolveClient(s, 'pc1', state(), Z('2026-03-02T12:00'));
  t.same(requiredIds(after), ids);
  t.equal(after.required[0]!.occurrence, Z('2026-03-02T12:00'));
  t.match(after.required[0]!.reason, 'never run');
  t.same(after.upcoming, []);
});

t.test('R-14 after a run started at or after the occurrence the deployment is not due again', async (t) => {
  const { ids, site: s } = site({ purpose: 'required', assignments: [{ kind: 'once', start: utc('2026-03-02T12:00') }] });
  const id = ids[0]!;
  const now = Z('2026-03-02T15:00');
  for (const startedAt of [Z('2026-03-02T12:00'), Z('2026-03-02T12:05')]) {
    const d = resolveClient(s, 'pc1', state({ history: [{ deploymentId: id, startedAt, outcome: 'failed' }] }), now);
    t.same(requiredIds(d), []);
    t.match(skippedOf(d, id), 'already ran for the current assignment');
  }
  const early = resolveClient(s, 'pc1', state({ history: [{ deploymentId: id, startedAt: Z('2026-03-02T11:00'), outcome: 'success' }] }), now);
  t.same(requiredIds(early), ids, 'a run the user started before the occurrence does not count for it (rerun: always)');
  const otherDeployment = resolveClient(s, 'pc1', state({ history: [{ deploymentId: 'PS129999', startedAt: Z('2026-03-02T13:00'), outcome: 'success' }] }), now);
  t.same(requiredIds(otherDeployment), ids, 'another deployment\'s run does not count');
});

t.test('R-14 rerun behaviour applies the previous attempt to a new occurrence', async (t) => {
  const cases: [string, RunRecord['outcome'][], boolean][] = [
    ['never', ['success'], false],
    ['never', ['failed'], false],
    ['always', ['success'], true],
    ['always', ['failed'], true],
    ['ifFailed', ['failed'], true],
    ['ifFailed', ['success'], false],
    ['ifFailed', ['failed', 'success'], false],
    ['ifSucceeded', ['success'], true],
    ['ifSucceeded', ['failed'], false],
    ['ifSucceeded', ['success', 'failed'], false],
    ['never', [], true],
  ];
  for (const [rerun, outcomes, due] of cases) {
    const { ids, site: s } = site({ purpose: 'required', rerun, assignments: [{ kind: 'interval', start: utc('2026-03-02T00:00'), every: 1, unit: 'days' }] });
    // Runs on earlier days, the last one the latest; today's occurrence is 2026-03-05 00:00.
    const history = outcomes.map((outcome, i): RunRecord => ({ deploymentId: ids[0]!, startedAt: Z(`2026-03-0${2 + i}T01:00`), outcome }));
    const d = resolveClient(s, 'pc1', state({ history: [...history].reverse() }), Z('2026-03-05T06:00'));
    const label = `${rerun} after ${outcomes.join(', ') || 'no run'}`;
    t.same(requiredIds(d), due ? ids : [], label);
    if (due) t.equal(d.required[0]!.occurrence, Z('2026-03-05T00:00'), label);
    else t.ok(skippedOf(d, ids[0]!), `${label}: skipped with a reason`);
  }
});

t.test('R-14 a running attempt is never due again', async (t) => {
  const { ids, site: s } = site({ purpose: 'required', rerun: 'always', assignments: [{ kind: 'interval', start: utc('2026-03-02T00:00'), every: 1, unit: 'hours' }] });
  const d = resolveClient(s, 'pc1', state({ history: [{ deploymentId: ids[0]!, startedAt: Z('2026-03-02T10:30'), outcome: 'running' }] }), Z('2026-03-02T14:10'));
  t.same(requiredIds(d), []);
  t.equal(skippedOf(d, ids[0]!), 'a run is in progress');
});

t.test('R-13 "as soon as possible" is due once the deployment is available, and once only', async (t) => {
  const { ids, site: s } = site({ purpose: 'required', availableFrom: utc('2026-03-03T08:00'), assignments: [{ kind: 'asap' }] });
  const id = ids[0]!;
  const before = resolveClient(s, 'pc1', state(), Z('2026-03-03T07:00'));
  t.same([requiredIds(before), availableIds(before)], [[], []]);
  const at = resolveClient(s, 'pc1', state(), Z('2026-03-03T09:00'));
  t.same(requiredIds(at), [id]);
  t.equal(at.required[0]!.occurrence, Z('2026-03-03T08:00'));
  const ran = resolveClient(s, 'pc1', state({ history: [{ deploymentId: id, startedAt: Z('2026-03-03T08:01'), outcome: 'success' }] }), Z('2026-03-10T00:00'));
  t.same(requiredIds(ran), [], 'always rerun does not repeat an asap assignment');
  const noFrom = site({ purpose: 'required', assignments: [{ kind: 'asap' }] });
  const created = noFrom.b.deployments[0]!.createdAt;
  t.equal(resolveClient(noFrom.site, 'pc1', state(), created).required[0]?.occurrence, created, 'no availability time: available from creation');
});

t.test('R-13 logon and logoff assignments are due after the event, once it falls within availability', async (t) => {
  const { ids, site: s } = site(
    { purpose: 'required', availableFrom: utc('2026-03-03T00:00'), assignments: [{ kind: 'logon' }] },
    { purpose: 'required', availableFrom: utc('2026-03-03T00:00'), assignments: [{ kind: 'logoff' }] },
  );
  const [onLogon, onLogoff] = ids as [string, string];
  const now = Z('2026-03-04T12:00');
  t.same(requiredIds(resolveClient(s, 'pc1', state(), now)), [], 'no event yet');
  const early = resolveClient(s, 'pc1', state({ lastLogon: Z('2026-03-02T08:00'), lastLogoff: Z('2026-03-02T18:00') }), now);
  t.same(requiredIds(early), [], 'events before availability do not count');
  const d = resolveClient(s, 'pc1', state({ lastLogon: Z('2026-03-04T08:00'), lastLogoff: Z('2026-03-03T18:00') }), now);
  t.same(requiredIds(d), [onLogoff, onLogon], 'oldest occurrence first');
  t.same(d.required.map((r) => r.occurrence), [Z('2026-03-03T18:00'), Z('2026-03-04T08:00')]);
  const ranAfter = resolveClient(s, 'pc1', state({ lastLogon: Z('2026-03-04T08:00'), history: [{ deploymentId: onLogon, startedAt: Z('2026-03-04T08:02'), outcome: 'success' }] }), now);
  t.same(requiredIds(ranAfter), []);
  const again = resolveClient(s, 'pc1', state({ lastLogon: Z('2026-03-04T11:00'), history: [{ deploymentId: onLogon, startedAt: Z('2026-03-04T08:02'), outcome: 'success' }] }), now);
  t.same(requiredIds(again), [onLogon], 'the next logon makes it due again (always rerun)');
  const future = resolveClient(s, 'pc1', state({ lastLogon: now + MINUTE }), now);
  t.same(requiredIds(future), [], 'an event after now is not yet one');
});

t.test('R-13 an assignment starting before availability lets the client download from that start', async (t) => {
  const { ids, site: s } = site(
    { purpose: 'required', availableFrom: utc('2026-03-03T00:00'), assignments: [{ kind: 'once', start: utc('2026-03-02T20:00') }, { kind: 'logon' }] },
    { purpose: 'required', availableFrom: utc('2026-03-03T00:00'), assignments: [{ kind: 'once', start: utc('2026-03-04T20:00') }] },
  );
  const waiting = resolveClient(s, 'pc1', state(), Z('2026-03-02T21:00'));
  t.same(waiting.upcoming.map((u) => [u.deployment.id, u.what, u.at, u.downloadFrom]), [
    [ids[0], 'available', Z('2026-03-03T00:00'), Z('2026-03-02T20:00')],
    [ids[1], 'available', Z('2026-03-03T00:00'), Z('2026-03-03T00:00')],
  ], 'the download may start before availability');
  const d = resolveClient(s, 'pc1', state(), Z('2026-03-03T01:00'));
  t.same(d.available.map((o) => [o.deployment.id, o.downloadFrom]), [[ids[0], Z('2026-03-02T20:00')], [ids[1], Z('2026-03-03T00:00')]]);
  t.same(requiredIds(d), [ids[0]], 'due from availability');
  t.equal(d.required[0]!.occurrence, Z('2026-03-03T00:00'), 'an occurrence before availability counts from availability');
  t.same(d.upcoming.map((u) => [u.deployment.id, u.what, u.at]), [[ids[1], 'due', Z('2026-03-04T20:00')]]);
});

t.test('R-14 Available deployments stay offered after they ran: the user can always rerun', async (t) => {
  const { ids, site: s } = site({ rerun: 'never' }, { taskSequenceId: INSTALL_TS_ID, rerun: 'ifFailed' });
  const history: RunRecord[] = [
    { deploymentId: ids[0]!, startedAt: T0 + HOUR, outcome: 'success' },
    { deploymentId: ids[1]!, startedAt: T0 + HOUR, outcome: 'success' },
  ];
  const d = resolveClient(s, 'pc1', state({ history }), T0 + 2 * HOUR);
  t.same(availableIds(d), ids);
  t.same([d.required, d.skipped], [[], []]);
});

t.test('R-05 a disabled task sequence is skipped for full-OS clients', async (t) => {
  const { b, ids } = site({ purpose: 'required' });
  b.taskSequence(setTaskSequenceEnabled(b.taskSequences.find((x) => x.id === CUSTOM_TS_ID)!, false));
  const d = resolveClient(b.site(), 'pc1', state(), T0 + HOUR);
  t.same([availableIds(d), requiredIds(d)], [[], []]);
  t.equal(skippedOf(d, ids[0]!), 'task sequence disabled');
});
