import t from 'tap';
import {
  ALL_SYSTEMS_ID,
  ALL_UNKNOWN_COMPUTERS_ID,
  DEFAULT_HIGH_RISK_SETTINGS,
  assessHighRisk,
  builtInCollections,
  createDeployment,
  highRiskCollectionChoices,
  isHighRisk,
  validateHighRiskSettings,
  type Collection,
  type HighRiskSettings,
  type MemberFacts,
} from '../../policy/index.js';
import { SiteBuilder, T0, collection, customTaskSequence, deploymentContext, memberFacts, policyError } from '../fixtures/site-builder.js';

const S: HighRiskSettings = { defaultSize: 10, maxSize: 50, siteSystems: 'block', warnOnServers: true };
const lab = collection('PS100100', { name: 'Lab' });
const [allSystems, allUnknown] = builtInCollections() as [Collection, Collection];
const facts = (count: number, siteSystems = 0, servers = 0): MemberFacts => ({ count, siteSystems, servers });
const REQUIRED_OS = { purpose: 'required', deploysOs: true } as const;
const REQUIRED = { purpose: 'required', assignments: [{ kind: 'asap' }] };

t.test('R-10 only Required deployments of an OS-deploying task sequence are high-risk', async (t) => {
  t.equal(isHighRisk('required', true), true);
  t.equal(isHighRisk('required', false), false);
  t.equal(isHighRisk('available', true), false);
  t.equal(isHighRisk('available', false), false);
  // Not high-risk: even All Systems, far above the maximum, with site systems, is no concern of R-10.
  for (const d of [{ purpose: 'available', deploysOs: true }, { purpose: 'required', deploysOs: false }] as const)
    t.same(assessHighRisk(d, allSystems, facts(5000, 3, 3), S), { kind: 'notHighRisk' }, JSON.stringify(d));
  const avail = createDeployment({}, deploymentContext({ collection: allSystems, members: facts(5000, 1, 1), highRisk: S }));
  t.equal(avail.kind, 'created');
  t.equal(avail.kind === 'created' && avail.deployment.highRisk, null);
  const noOs = createDeployment(REQUIRED, deploymentContext({ taskSequence: customTaskSequence(), collection: allSystems, members: facts(5000), highRisk: S }));
  t.equal(noOs.kind === 'created' && noOs.deployment.highRisk, null, 'a Required custom task sequence with no OS step');
});

t.test('R-10 built-in collections are refused except All Unknown Computers', async (t) => {
  const v = assessHighRisk(REQUIRED_OS, allSystems, facts(3), S);
  t.equal(v.kind, 'refused');
  t.match(v.kind === 'refused' && v.reasons.join(), 'All Systems is a built-in collection');
  t.same(assessHighRisk(REQUIRED_OS, allUnknown, facts(3), S), { kind: 'allowed' });
  const d = createDeployment(REQUIRED, deploymentContext({ collection: allSystems, members: facts(3), highRisk: S }));
  t.same(d.kind === 'refused' && [d.rule, d.reasons.length], ['R-10', 1]);
  const u = createDeployment(REQUIRED, deploymentContext({ collection: allUnknown, members: facts(3), highRisk: S }));
  t.equal(u.kind, 'created');
  t.same(u.kind === 'created' && u.deployment.highRisk, { verdict: 'allowed', reasons: [], memberCount: 3 });
});

t.test('R-10 a collection over the maximum size is refused; over the default size is warned', async (t) => {
  t.same(assessHighRisk(REQUIRED_OS, lab, facts(10), S), { kind: 'allowed' }, 'at the default size');
  const warn = assessHighRisk(REQUIRED_OS, lab, facts(11), S);
  t.equal(warn.kind, 'warn');
  t.match(warn.kind === 'warn' && warn.reasons.join(), 'Lab has 11 members, more than the default size 10');
  t.equal(assessHighRisk(REQUIRED_OS, lab, facts(50), S).kind, 'warn', 'at the maximum size');
  const refused = assessHighRisk(REQUIRED_OS, lab, facts(51), S);
  t.equal(refused.kind, 'refused');
  t.match(refused.kind === 'refused' && refused.reasons.join(), 'more than the maximum size 50');
  const d = createDeployment({ ...REQUIRED, acknowledgeHighRisk: true }, deploymentContext({ members: facts(51), highRisk: S }));
  t.equal(d.kind === 'refused' && d.rule, 'R-10', 'an acknowledgement does not lift a refusal');
});

t.test('R-10 site system servers are blocked or warned per setting', async (t) => {
  const blocked = assessHighRisk(REQUIRED_OS, lab, facts(3, 1), S);
  t.equal(blocked.kind, 'refused');
  t.match(blocked.kind === 'refused' && blocked.reasons.join(), 'site system server');
  const warned = assessHighRisk(REQUIRED_OS, lab, facts(3, 1), { ...S, siteSystems: 'warn', warnOnServers: false });
  t.equal(warned.kind, 'warn');
  t.match(warned.kind === 'warn' && warned.reasons.join(), 'contains 1 site system server');
});

t.test('R-10 servers are warned about only when warnOnServers is set', async (t) => {
  const w = assessHighRisk(REQUIRED_OS, lab, facts(3, 0, 2), S);
  t.equal(w.kind, 'warn');
  t.match(w.kind === 'warn' && w.reasons.join(), 'contains 2 server(s)');
  t.same(assessHighRisk(REQUIRED_OS, lab, facts(3, 0, 2), { ...S, warnOnServers: false }), { kind: 'allowed' });
  const both = assessHighRisk(REQUIRED_OS, lab, facts(20, 0, 2), S);
  t.equal(both.kind === 'warn' && both.reasons.length, 2, 'size and servers both listed');
});

t.test('R-10 member facts come from the real membership, site systems and servers included', async (t) => {
  const b = new SiteBuilder();
  b.settings = { ...b.settings, highRisk: S };
  b.computer('pc1', { macs: ['00:00:00:00:00:01'] });
  b.computer('dp1', { macs: ['00:00:00:00:00:02'], isSiteSystem: true, isServer: true });
  b.computer('srv1', { macs: ['00:00:00:00:00:03'], isServer: true });
  b.collection('PS100100', { directMemberIds: ['pc1', 'dp1'] });
  b.collection('PS100200', { directMemberIds: ['pc1', 'srv1'] });
  t.same(memberFacts(b.collections, b.computers, 'PS100100'), { count: 2, siteSystems: 1, servers: 1 });
  t.throws(() => b.deploy({ collectionId: 'PS100100', purpose: 'required' }), /not created \(refused\).*site system/);
  t.throws(() => b.deploy({ collectionId: 'PS100200', purpose: 'required' }), /needsAcknowledgement.*server/);
  const d = b.deploy({ collectionId: 'PS100200', purpose: 'required', acknowledgeHighRisk: true });
  t.same(d.highRisk, { verdict: 'warned', reasons: ['Collection PS100200 contains 1 server(s)'], memberCount: 2 });
});

t.test('R-10 a warned deployment needs an acknowledgement, then is created with an audit message', async (t) => {
  const ctx = deploymentContext({ id: 'PS120042', now: T0 + 5000, members: facts(20, 0, 1), highRisk: S });
  const first = createDeployment({ ...REQUIRED, comments: 'wave 2' }, ctx);
  t.equal(first.kind, 'needsAcknowledgement');
  const reasons = first.kind === 'needsAcknowledgement' ? first.reasons : [];
  t.equal(reasons.length, 2);
  t.equal(createDeployment({ ...REQUIRED, acknowledgeHighRisk: false }, ctx).kind, 'needsAcknowledgement');
  const second = createDeployment({ ...REQUIRED, comments: 'wave 2', acknowledgeHighRisk: true }, ctx);
  if (second.kind !== 'created') throw new Error(`expected created, got ${second.kind}`);
  t.same(second.deployment.highRisk, { verdict: 'warned', reasons, memberCount: 20 });
  t.equal(second.audit.length, 1);
  const a = second.audit[0]!;
  t.equal(a.action, 'deployment.highRiskAcknowledged');
  t.equal(a.target, 'PS120042');
  t.equal(a.at, T0 + 5000);
  t.same(a.details.reasons, reasons);
  t.equal(a.details.memberCount, 20);
  t.equal(a.details.collectionId, 'PS100100');
  for (const r of reasons) t.match(a.message, r);
  t.equal(policyError(() => createDeployment({ ...REQUIRED, acknowledgeHighRisk: 'yes' }, ctx)).field, 'acknowledgeHighRisk');
});

t.test('R-10 an allowed high-risk deployment writes no audit message but records the member count', async (t) => {
  const d = createDeployment({ ...REQUIRED, acknowledgeHighRisk: true }, deploymentContext({ members: facts(7), highRisk: S }));
  if (d.kind !== 'created') throw new Error(d.kind);
  t.same(d.audit, []);
  t.same(d.deployment.highRisk, { verdict: 'allowed', reasons: [], memberCount: 7 });
});

t.test('R-10 the Select Collection window hides built-ins, collections over the maximum and, unless unchecked, over the default', async (t) => {
  const c = (id: string, count: number, siteSystems = 0) => ({ collection: collection(id), members: facts(count, siteSystems) });
  const candidates = [
    { collection: allSystems, members: facts(5) },
    { collection: allUnknown, members: facts(3) },
    c('SMALL', 10),
    c('MEDIUM', 11),
    c('MAX', 50),
    c('HUGE', 51),
    c('DPS', 2, 1),
  ];
  const ids = (hide?: boolean, s: HighRiskSettings = S) => highRiskCollectionChoices(candidates, s, hide).map((x) => x.collection.id);
  t.same(ids(), [ALL_UNKNOWN_COMPUTERS_ID, 'SMALL'], 'hidden above the default size by default');
  t.same(ids(true), [ALL_UNKNOWN_COMPUTERS_ID, 'SMALL']);
  t.same(ids(false), [ALL_UNKNOWN_COMPUTERS_ID, 'SMALL', 'MEDIUM', 'MAX'], 'unchecked: up to the maximum size');
  t.same(ids(false, { ...S, siteSystems: 'warn' }), [ALL_UNKNOWN_COMPUTERS_ID, 'SMALL', 'MEDIUM', 'MAX', 'DPS'], 'warned site systems are shown');
  t.notOk(ids(false).includes(ALL_SYSTEMS_ID));
});

t.test('R-10 validateHighRiskSettings fills defaults and refuses bad values', async (t) => {
  t.same(validateHighRiskSettings({}), DEFAULT_HIGH_RISK_SETTINGS);
  t.same(DEFAULT_HIGH_RISK_SETTINGS, { defaultSize: 100, maxSize: 1000, siteSystems: 'block', warnOnServers: true });
  t.same(validateHighRiskSettings({ defaultSize: 5, maxSize: 5, siteSystems: 'warn', warnOnServers: false }), { defaultSize: 5, maxSize: 5, siteSystems: 'warn', warnOnServers: false });
  const cases: [unknown, string][] = [
    [null, 'highRisk'],
    ['big', 'highRisk'],
    [{ minSize: 3 }, 'highRisk.minSize'],
    [{ defaultSize: -1 }, 'highRisk.defaultSize'],
    [{ maxSize: 2.5 }, 'highRisk.maxSize'],
    [{ maxSize: '1000' }, 'highRisk.maxSize'],
    [{ defaultSize: 200, maxSize: 100 }, 'highRisk.defaultSize'],
    [{ siteSystems: 'allow' }, 'highRisk.siteSystems'],
    [{ warnOnServers: 'yes' }, 'highRisk.warnOnServers'],
  ];
  for (const [input, field] of cases) {
    const e = policyError(() => validateHighRiskSettings(input));
    t.equal(e.code, 'invalid', JSON.stringify(input));
    t.equal(e.field, field);
  }
});
