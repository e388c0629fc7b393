import t from 'tap';
import {
  AVAILABILITIES,
  DEFAULT_USER_EXPERIENCE,
  createDeployment,
  formatDeploymentId,
  isForClients,
  isHidden,
  isMediaOrPxe,
  type DeploymentDecision,
  type Deployment,
} from '../../policy/index.js';
import {
  OS_IMAGE,
  OS_IMAGE_ID,
  T0,
  TOOLS_PACKAGE,
  TOOLS_PACKAGE_ID,
  contentIndex,
  customTaskSequence,
  deploymentContext,
  policyError,
} from '../fixtures/site-builder.js';

const custom = customTaskSequence();
const customWithTools = customTaskSequence('PS100012', 'Run tools', { packageId: TOOLS_PACKAGE_ID });
const ASAP = [{ kind: 'asap' }];
const ONCE = (at: string) => [{ kind: 'once', start: { at, utc: true } }];

function created(d: DeploymentDecision): Deployment {
  if (d.kind !== 'created') throw new Error(`expected created, got ${d.kind}: ${'reasons' in d ? d.reasons.join('; ') : ''}`);
  return d.deployment;
}

function refusedBy(d: DeploymentDecision): { rule: string; text: string } {
  if (d.kind !== 'refused') throw new Error(`expected refused, got ${d.kind}`);
  return { rule: d.rule, text: d.reasons.join('\n') };
}

t.test('R-09 deployment ids are the site code and a counter', async (t) => {
  t.equal(formatDeploymentId('PS1', 1), 'PS120001');
  t.equal(formatDeploymentId('PS1', 2), 'PS120002');
  t.equal(formatDeploymentId('CM2', 457), 'CM220457');
  const d = created(createDeployment({ comments: 'pilot wave 1' }, deploymentContext({ id: formatDeploymentId('PS1', 7) })));
  t.equal(d.id, 'PS120007');
  t.equal(d.taskSequenceId, 'PS100010');
  t.equal(d.collectionId, 'PS100100');
  t.equal(d.comments, 'pilot wave 1');
});

t.test('R-09 comments are optional text of at most 4096 characters', async (t) => {
  t.equal(created(createDeployment({}, deploymentContext())).comments, '');
  t.equal(created(createDeployment({ comments: 'x'.repeat(4096) }, deploymentContext())).comments.length, 4096);
  t.equal(policyError(() => createDeployment({ comments: 'x'.repeat(4097) }, deploymentContext())).field, 'comments');
  t.equal(policyError(() => createDeployment({ comments: 3 }, deploymentContext())).field, 'comments');
});

t.test('R-11 wake-up packets only for Required deployments', async (t) => {
  const r = refusedBy(createDeployment({ purpose: 'available', sendWakeUpPackets: true }, deploymentContext()));
  t.equal(r.rule, 'R-11');
  t.match(r.text, 'wake-up');
  const d = created(createDeployment({ purpose: 'required', assignments: ASAP, sendWakeUpPackets: true }, deploymentContext({ taskSequence: custom })));
  t.equal(d.sendWakeUpPackets, true);
  t.equal(policyError(() => createDeployment({ sendWakeUpPackets: 'yes' }, deploymentContext())).field, 'sendWakeUpPackets');
});

t.test('R-11 metered-connection download only for task sequences that deploy no OS', async (t) => {
  const r = refusedBy(createDeployment({ purpose: 'required', assignments: ASAP, allowMeteredDownload: true }, deploymentContext()));
  t.equal(r.rule, 'R-11');
  t.match(r.text, 'metered');
  t.equal(refusedBy(createDeployment({ allowMeteredDownload: true }, deploymentContext())).rule, 'R-11', 'Available too');
  t.equal(created(createDeployment({ allowMeteredDownload: true }, deploymentContext({ taskSequence: custom }))).allowMeteredDownload, true);
});

t.test('R-12 availability takes the four values, clients by default', async (t) => {
  t.equal(created(createDeployment({}, deploymentContext())).availability, 'clients');
  for (const a of AVAILABILITIES) t.equal(created(createDeployment({ availability: a }, deploymentContext())).availability, a);
  const e = policyError(() => createDeployment({ availability: 'pxe' }, deploymentContext()));
  t.equal(e.field, 'availability');
  t.match(e.message, 'clients, clientsMediaPxe, mediaPxe, mediaPxeHidden');
  t.same(AVAILABILITIES.map((a) => [isForClients(a), isMediaOrPxe(a), isHidden(a)]), [
    [true, false, false],
    [true, true, false],
    [false, true, false],
    [false, true, true],
  ]);
});

t.test('R-11 purpose is available or required, available by default', async (t) => {
  t.equal(created(createDeployment({}, deploymentContext())).purpose, 'available');
  t.equal(policyError(() => createDeployment({ purpose: 'mandatory' }, deploymentContext())).field, 'purpose');
});

t.test('R-13 a Required deployment needs an assignment; an Available one takes none', async (t) => {
  const r = refusedBy(createDeployment({ purpose: 'required' }, deploymentContext({ taskSequence: custom })));
  t.equal(r.rule, 'R-13');
  t.match(r.text, 'assignment');
  const a = refusedBy(createDeployment({ purpose: 'available', assignments: ASAP }, deploymentContext()));
  t.equal(a.rule, 'R-13');
  t.match(a.text, 'only to Required');
  const d = created(createDeployment({ purpose: 'required', assignments: [...ONCE('2026-03-05T22:00'), { kind: 'logon' }] }, deploymentContext({ taskSequence: custom })));
  t.same(d.assignments, [{ kind: 'once', start: { at: '2026-03-05T22:00', utc: true } }, { kind: 'logon' }]);
});

t.test('R-13 an expiry at or before availability is refused', async (t) => {
  const from = { at: '2026-03-10T08:00', utc: true };
  for (const at of ['2026-03-09T08:00', '2026-03-10T08:00']) {
    const r = refusedBy(createDeployment({ availableFrom: from, expiresAt: { at, utc: true } }, deploymentContext()));
    t.equal(r.rule, 'R-13', at);
    t.match(r.text, 'expires before it becomes available');
  }
  const local = refusedBy(createDeployment({ availableFrom: { at: '2026-03-10T08:00', utc: false }, expiresAt: { at: '2026-03-10T07:59', utc: false } }, deploymentContext()));
  t.equal(local.rule, 'R-13', 'both in local time compare as wall times');
  // UTC against local time: refused when no client offset (±18 h) could put the expiry after availability.
  const mixed = refusedBy(createDeployment({ availableFrom: { at: '2026-03-10T08:00', utc: false }, expiresAt: { at: '2026-03-08T08:00', utc: true } }, deploymentContext()));
  t.equal(mixed.rule, 'R-13', 'a UTC expiry days before a local availability');
  const mixed2 = refusedBy(createDeployment({ availableFrom: from, expiresAt: { at: '2026-03-09T13:00', utc: false } }, deploymentContext()));
  t.equal(mixed2.rule, 'R-13', 'a local expiry more than 18 h before a UTC availability');
  created(createDeployment({ availableFrom: from, expiresAt: { at: '2026-03-10T06:00', utc: false } }, deploymentContext()));
  const d = created(createDeployment({ availableFrom: from, expiresAt: { at: '2026-03-10T08:01', utc: true } }, deploymentContext()));
  t.same([d.availableFrom, d.expiresAt], [from, { at: '2026-03-10T08:01', utc: true }]);
});

t.test('R-13 schedule validation errors propagate with their field names', async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ availableFrom: { at: '2026-02-30T08:00', utc: true } }, 'availableFrom.at'],
    [{ availableFrom: { at: '2026-03-01T08:00' } }, 'availableFrom.utc'],
    [{ expiresAt: '2026-03-01T08:00' }, 'expiresAt'],
    [{ purpose: 'required', assignments: { kind: 'asap' } }, 'assignments'],
    [{ purpose: 'required', assignments: [{ kind: 'asap' }, { kind: 'once', start: { at: '2026-03-01T25:00', utc: true } }] }, 'assignments[1].start.at'],
    [{ purpose: 'required', assignments: [{ kind: 'hourly' }] }, 'assignments[0].kind'],
    [{ purpose: 'required', assignments: [{ kind: 'weekly', start: { at: '2026-03-01T08:00', utc: true }, everyWeeks: 9, days: ['mon'] }] }, 'assignments[0].everyWeeks'],
  ];
  for (const [body, field] of cases) {
    const e = policyError(() => createDeployment(body, deploymentContext({ taskSequence: custom })));
    t.equal(e.code, 'invalid', field);
    t.equal(e.field, field);
    t.match(e.message, field);
  }
});

t.test('R-14 rerun behaviour defaults to always and takes the four values', async (t) => {
  t.equal(created(createDeployment({}, deploymentContext())).rerun, 'always');
  for (const rerun of ['never', 'always', 'ifFailed', 'ifSucceeded']) t.equal(created(createDeployment({ rerun }, deploymentContext())).rerun, rerun);
  t.equal(policyError(() => createDeployment({ rerun: 'sometimes' }, deploymentContext())).field, 'rerun');
});

t.test('R-16 download-all-first is refused when the deployment is available to media or PXE', async (t) => {
  for (const availability of ['clientsMediaPxe', 'mediaPxe', 'mediaPxeHidden']) {
    const r = refusedBy(createDeployment({ availability, content: { option: 'downloadAllFirst' } }, deploymentContext()));
    t.equal(r.rule, 'R-16', availability);
    t.match(r.text, 'download all content');
  }
  const d = created(createDeployment({ availability: 'clients', content: { option: 'downloadAllFirst', useRemoteDistributionPoint: true } }, deploymentContext()));
  t.same(d.content, { option: 'downloadAllFirst', useRemoteDistributionPoint: true });
});

t.test('R-16 run from the distribution point only when every package allows it', async (t) => {
  const body = { content: { option: 'runFromDistributionPoint' } };
  const r = refusedBy(createDeployment(body, deploymentContext({ taskSequence: customWithTools })));
  t.equal(r.rule, 'R-16');
  t.match(r.text, `Tools (${TOOLS_PACKAGE_ID})`);
  const noOsShare = contentIndex([{ ...OS_IMAGE, allowRunFromDistributionPoint: false }]);
  const r2 = refusedBy(createDeployment(body, deploymentContext({ content: noOsShare })));
  t.match(r2.text, `Windows 11 Enterprise (${OS_IMAGE_ID})`);
  t.notMatch(r2.text, 'Boot image', 'the boot image is not a package share');
  t.equal(created(createDeployment(body, deploymentContext())).content.option, 'runFromDistributionPoint', 'the OS image allows it');
  const allAllow = contentIndex([{ ...TOOLS_PACKAGE, allowRunFromDistributionPoint: true }]);
  t.equal(created(createDeployment(body, deploymentContext({ taskSequence: customWithTools, content: allAllow }))).content.option, 'runFromDistributionPoint');
});

t.test('R-04 a task sequence with a missing or unusable reference is refused, naming it', async (t) => {
  const full = contentIndex();
  const index = { get: (id: string) => (id === OS_IMAGE_ID ? undefined : full.get(id)) };
  const r = refusedBy(createDeployment({}, deploymentContext({ content: index })));
  t.equal(r.rule, 'R-04');
  t.match(r.text, OS_IMAGE_ID);
  t.match(r.text, /osImageId/);
  const retired = contentIndex([{ ...TOOLS_PACKAGE, usable: false, unusableReason: 'retired' }]);
  const r2 = refusedBy(createDeployment({}, deploymentContext({ taskSequence: customWithTools, content: retired })));
  t.equal(r2.rule, 'R-04');
  t.match(r2.text, 'retired');
  t.match(r2.text, TOOLS_PACKAGE_ID);
});

t.test('R-28 a task sequence whose passwords an import stripped is refused', async (t) => {
  const ts = { ...custom, strippedSecrets: ['i1.runAsPassword'] };
  const r = refusedBy(createDeployment({}, deploymentContext({ taskSequence: ts })));
  t.equal(r.rule, 'R-28');
  t.match(r.text, 'i1.runAsPassword');
});

t.test('R-09 unknown settings are refused at every level', async (t) => {
  const cases: [unknown, string][] = [
    [{ purpose: 'available', deadline: '2026-01-01' }, 'deadline'],
    [{ userExperience: { showProgress: true, beep: true } }, 'userExperience.beep'],
    [{ alerts: { successBelow: { percent: 50, afterDays: 3, email: 'x' } } }, 'alerts.successBelow.email'],
    [{ content: { option: 'downloadAsNeeded', multicast: true } }, 'content.multicast'],
  ];
  for (const [body, field] of cases) {
    const e = policyError(() => createDeployment(body, deploymentContext()));
    t.equal(e.code, 'invalid', field);
    t.equal(e.field, field);
  }
  t.equal(policyError(() => createDeployment([], deploymentContext())).field, 'body');
  t.equal(policyError(() => createDeployment(null, deploymentContext())).field, 'body');
});

t.test('R-16 defaults: user experience, alerts and content settings are kept', async (t) => {
  const d = created(createDeployment({}, deploymentContext()));
  t.same(d.userExperience, DEFAULT_USER_EXPERIENCE);
  t.equal(d.userExperience.showProgress, true);
  t.same(d.alerts, { successBelow: null, failureAbove: null });
  t.same(d.content, { option: 'downloadAsNeeded', useRemoteDistributionPoint: false });
  t.same([d.availableFrom, d.expiresAt, d.assignments, d.highRisk], [null, null, [], null]);
  t.equal(d.createdAt, T0);
  t.equal(d.sendWakeUpPackets, false);
  t.equal(d.allowMeteredDownload, false);
  t.equal(d.allowTechnicianMedia, false, 'R-31: only administrators build media with secrets, by default');
  const set = created(createDeployment({
    userExperience: { showProgress: false, allowUserRunIndependently: true },
    alerts: { successBelow: { percent: 90, afterDays: 7 }, failureAbove: { percent: 5 } },
  }, deploymentContext()));
  t.same(set.userExperience, { ...DEFAULT_USER_EXPERIENCE, showProgress: false, allowUserRunIndependently: true });
  t.same(set.alerts, { successBelow: { percent: 90, afterDays: 7 }, failureAbove: { percent: 5 } });
});

t.test('R-16 alert and user experience values are checked', async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ alerts: { successBelow: { percent: 101, afterDays: 1 } } }, 'alerts.successBelow.percent'],
    [{ alerts: { successBelow: { percent: 50, afterDays: -1 } } }, 'alerts.successBelow.afterDays'],
    [{ alerts: { failureAbove: { percent: 2.5 } } }, 'alerts.failureAbove.percent'],
    [{ userExperience: { showProgress: 'no' } }, 'userExperience.showProgress'],
    [{ content: { option: 'multicast' } }, 'content.option'],
  ];
  for (const [body, field] of cases) t.equal(policyError(() => createDeployment(body, deploymentContext())).field, field);
});

t.test('R-31 allowTechnicianMedia: a boolean, for deployments media can run', async (t) => {
  t.equal(created(createDeployment({ availability: 'mediaPxeHidden', allowTechnicianMedia: true }, deploymentContext())).allowTechnicianMedia, true);
  t.equal(created(createDeployment({ availability: 'clientsMediaPxe', allowTechnicianMedia: false }, deploymentContext())).allowTechnicianMedia, false);
  t.equal(policyError(() => createDeployment({ availability: 'mediaPxe', allowTechnicianMedia: 'yes' }, deploymentContext())).field, 'allowTechnicianMedia');
  const r = refusedBy(createDeployment({ availability: 'clients', allowTechnicianMedia: true }, deploymentContext()));
  t.equal(r.rule, 'R-31');
  t.match(r.text, /allowTechnicianMedia applies to media/);
  t.equal(created(createDeployment({ availability: 'clients', allowTechnicianMedia: false }, deploymentContext())).allowTechnicianMedia, false, 'false is always fine');
});
