import t from 'tap';
import {
  ALL_UNKNOWN_COMPUTERS_ID,
  buildSite,
  identify,
  resolveBoot,
  setTaskSequenceEnabled,
  type BootDecision,
  type BootFacts,
} from '../../policy/index.js';
import { CUSTOM_TS_ID, DAY, INSTALL_TS_ID, SiteBuilder, T0, installOsTaskSequence } from '../fixtures/site-builder.js';

const U1 = '4c4c4544-0042-3510-8052-b4c04f4e0001';
const U2 = '4c4c4544-0042-3510-8052-b4c04f4e0002';
const MAC1 = '00:11:22:33:44:01';
const MAC1B = '00:11:22:33:44:02';
const MAC2 = '00:11:22:33:44:99';
const STRANGER = 'de:ad:be:ef:00:01';
const LAB = 'PS100100';

/** pc1 (two MACs, U1) in LAB; pc2 (one MAC, U2) in no custom collection. */
function lab(): SiteBuilder {
  const b = new SiteBuilder();
  b.computer('pc1', { macs: [MAC1, MAC1B], uuid: U1 });
  b.computer('pc2', { macs: [MAC2], uuid: U2 });
  b.collection(LAB, { name: 'Lab', directMemberIds: ['pc1'] });
  return b;
}

const pxe = (over: Partial<BootFacts> = {}): BootFacts => ({ macAddresses: [MAC1], smbiosUuid: U1, architecture: 'x64', source: 'pxe', ...over });
const media = (over: Partial<BootFacts> = {}): BootFacts => pxe({ source: 'media', ...over });
const stranger = (over: Partial<BootFacts> = {}): BootFacts => pxe({ macAddresses: [STRANGER], smbiosUuid: null, ...over });

function offered(d: BootDecision): string[] {
  if (d.kind !== 'offer') throw new Error(`expected an offer list, got ${d.kind}: ${d.kind === 'nothing' ? d.reason : ''}`);
  return d.offers.map((o) => o.deployment.id);
}
function ran(d: BootDecision): [string, string] {
  if (d.kind !== 'run') throw new Error(`expected a run, got ${d.kind}: ${d.kind === 'nothing' ? d.reason : ''}`);
  return [d.deployment.id, d.why];
}
function nothing(d: BootDecision): string {
  if (d.kind !== 'nothing') throw new Error(`expected nothing, got ${d.kind}`);
  return d.reason;
}

t.test('R-17 a machine is known by its SMBIOS UUID or by any of its MAC addresses', async (t) => {
  const site = lab().site();
  t.same(identify(site, pxe({ macAddresses: [STRANGER] })), { computer: site.computers.get('pc1'), known: true, matchedBy: 'smbiosUuid', conflict: null });
  const byMac = identify(site, pxe({ macAddresses: [STRANGER, MAC1B], smbiosUuid: null }));
  t.equal(byMac?.computer.id, 'pc1', 'the second MAC of the machine matches the second MAC of the record');
  t.equal(byMac?.matchedBy, 'macAddress');
  t.equal(identify(site, stranger()), null);
  const d = resolveBoot(site, pxe({ smbiosUuid: '4c4c4544-0000-0000-0000-000000000000', macAddresses: [MAC2] }), T0);
  t.equal(d.kind === 'nothing' && d.identity?.computer.id, 'pc2', 'an unmatched UUID falls back to the MAC');
});

t.test('R-17 the UUID wins when UUID and MAC name different computers, and the conflict is reported', async (t) => {
  const site = lab().site();
  const id = identify(site, pxe({ macAddresses: [MAC2], smbiosUuid: U1 }));
  t.equal(id?.computer.id, 'pc1');
  t.equal(id?.matchedBy, 'smbiosUuid');
  t.match(id?.conflict, /matches pc1.*matches pc2/);
  t.equal(identify(site, pxe({ macAddresses: [MAC1B], smbiosUuid: U1 }))?.conflict, null, 'same computer: no conflict');
});

t.test('R-17 an unknown machine resolves to the Unknown Computer object of its architecture and gets All Unknown Computers deployments', async (t) => {
  const b = lab();
  const toUnknown = b.deploy({ collectionId: ALL_UNKNOWN_COMPUTERS_ID, availability: 'mediaPxe' });
  const toLab = b.deploy({ collectionId: LAB, taskSequenceId: CUSTOM_TS_ID });
  const site = b.site();
  for (const arch of ['x86', 'x64', 'arm64'] as const) {
    const d = resolveBoot(site, stranger({ architecture: arch }), T0);
    t.same(offered(d), [toUnknown.id], arch);
    t.equal(d.kind === 'offer' && d.identity.computer.id, `unknown-${arch}`);
    t.same(d.kind === 'offer' && [d.identity.known, d.identity.matchedBy], [false, 'unknown']);
  }
  t.same(offered(resolveBoot(site, pxe(), T0)), [toLab.id], 'a known computer does not get the unknown computers\' deployment');
});

t.test('R-17 R-18 with unknown computer support off an unknown machine gets nothing', async (t) => {
  const b = lab();
  b.deploy({ collectionId: ALL_UNKNOWN_COMPUTERS_ID, availability: 'mediaPxe' });
  b.settings = { ...b.settings, pxe: { ...b.settings.pxe, unknownComputerSupport: false } };
  const site = b.site();
  const d = resolveBoot(site, stranger(), T0);
  t.equal(d.kind, 'nothing');
  t.equal(d.kind === 'nothing' && d.identity, null);
  t.match(nothing(d), 'unknown computer support is off for pxe boots');
  t.equal(resolveBoot(site, stranger({ source: 'media' }), T0).kind, 'offer', 'media has its own setting, on by default');
  t.match(nothing(resolveBoot(site, stranger({ source: 'media', mediaUnknownComputerSupport: false }), T0)), 'off for media boots');
});

t.test('R-12 deployments available to clients only are never offered to PXE or media', async (t) => {
  const b = lab();
  const clientsOnly = b.deploy({ collectionId: LAB, availability: 'clients' });
  b.deploy({ collectionId: LAB, taskSequenceId: CUSTOM_TS_ID, purpose: 'required', availability: 'clients' });
  const site = b.site();
  for (const f of [pxe(), media()]) t.match(nothing(resolveBoot(site, f, T0)), 'no deployment for computer pc1 is available to media and PXE', f.source);
  const b2 = lab();
  const both = b2.deploy({ collectionId: LAB, availability: 'clientsMediaPxe' });
  const only = b2.deploy({ collectionId: LAB, taskSequenceId: CUSTOM_TS_ID, availability: 'mediaPxe' });
  t.same(offered(resolveBoot(b2.site(), media(), T0)).sort(), [both.id, only.id].sort());
  t.equal(clientsOnly.availability, 'clients');
});

t.test('R-15 PXE and media ignore availability, expiry and assignment times', async (t) => {
  const b = lab();
  const future = b.deploy({ collectionId: LAB, availableFrom: { at: '2027-01-01T00:00', utc: true } });
  const expired = b.deploy({ collectionId: LAB, taskSequenceId: CUSTOM_TS_ID, availableFrom: { at: '2025-01-01T00:00', utc: true }, expiresAt: { at: '2025-02-01T00:00', utc: true } });
  const site = b.site();
  for (const f of [pxe(), media()]) t.same(offered(resolveBoot(site, f, T0)).sort(), [future.id, expired.id].sort(), f.source);
  const b2 = lab();
  const later = b2.deploy({ collectionId: LAB, taskSequenceId: CUSTOM_TS_ID, purpose: 'required', assignments: [{ kind: 'once', start: { at: '2027-06-01T22:00', utc: true } }] });
  t.same(ran(resolveBoot(b2.site(), pxe(), T0)), [later.id, 'required'], 'a Required deployment runs before its assignment time');
  t.same(ran(resolveBoot(b2.site(), pxe(), T0 + 3650 * DAY)), [later.id, 'required'], 'and the clock passed in changes nothing');
});

t.test('R-05 a disabled task sequence is deployed but not run', async (t) => {
  const b = lab();
  const d = b.deploy({ collectionId: LAB, purpose: 'required' });
  const enabled = b.site();
  b.taskSequence(setTaskSequenceEnabled(b.taskSequences.find((x) => x.id === INSTALL_TS_ID)!, false));
  const disabled = b.site();
  t.match(nothing(resolveBoot(disabled, pxe(), T0)), '1 skipped: task sequence disabled');
  t.same(ran(resolveBoot(enabled, pxe(), T0)), [d.id, 'required'], 'enabling again needs no redeploy');
});

t.test('R-18 a machine with nothing to run gets kind nothing and a reason', async (t) => {
  const site = lab().site();
  const d = resolveBoot(site, pxe(), T0);
  t.equal(d.kind, 'nothing');
  t.equal(d.kind === 'nothing' && d.identity?.computer.id, 'pc1');
  t.match(nothing(d), 'no deployment for computer pc1');
  t.match(nothing(resolveBoot(site, stranger({ architecture: 'arm64' }), T0)), 'ARM64 Unknown Computer');
});

t.test('R-11 a Required deployment runs without a choice, the oldest first', async (t) => {
  const b = lab();
  b.deploy({ collectionId: LAB, taskSequenceId: CUSTOM_TS_ID });
  const older = b.deploy({ collectionId: LAB, purpose: 'required' });
  const newer = b.deploy({ collectionId: LAB, taskSequenceId: CUSTOM_TS_ID, purpose: 'required' });
  t.ok(older.createdAt < newer.createdAt);
  const data = b.data();
  for (const deployments of [data.deployments, [...data.deployments].reverse()]) {
    const d = resolveBoot(buildSite({ ...data, deployments }), pxe(), T0);
    t.same(ran(d), [older.id, 'required']);
    t.equal(d.kind === 'run' && d.taskSequence.id, INSTALL_TS_ID);
  }
});

t.test('R-12 available deployments are offered sorted by task sequence name', async (t) => {
  const b = lab();
  b.taskSequence(installOsTaskSequence('PS100020', 'Zulu image'));
  b.taskSequence(installOsTaskSequence('PS100021', 'alpha image'));
  const z = b.deploy({ collectionId: LAB, taskSequenceId: 'PS100020' });
  const c = b.deploy({ collectionId: LAB, taskSequenceId: CUSTOM_TS_ID }); // "Collect logs"
  const i = b.deploy({ collectionId: LAB }); // "Install Windows 11"
  const a = b.deploy({ collectionId: ALL_UNKNOWN_COMPUTERS_ID, taskSequenceId: 'PS100021' });
  const d = resolveBoot(b.site(), pxe(), T0);
  t.same(offered(d), [c.id, i.id, z.id]);
  t.equal(d.kind === 'offer' && d.note, null);
  t.notOk(offered(d).includes(a.id));
});

t.test('R-19 a Required deployment started from PXE is ignored by later PXE boots until the record is cleared', async (t) => {
  const b = lab();
  const req = b.deploy({ collectionId: LAB, purpose: 'required' });
  const avail = b.deploy({ collectionId: LAB, taskSequenceId: CUSTOM_TS_ID });
  b.requiredPxeStarts.push({ computerId: 'pc1', deploymentId: req.id });
  const started = b.site();
  const d = resolveBoot(started, pxe(), T0);
  t.same(offered(d), [avail.id], 'PXE: the Required one is neither run nor offered');
  t.same(ran(resolveBoot(started, media(), T0)), [req.id, 'required'], 'media boots still run it');
  b.deployments.splice(1, 1);
  t.match(nothing(resolveBoot(b.site(), pxe(), T0)), 'Required deployment already started from PXE (R-19)');
  b.requiredPxeStarts.length = 0;
  t.same(ran(resolveBoot(b.site(), pxe(), T0)), [req.id, 'required'], 'cleared: it runs again');
  const other = lab();
  const r2 = other.deploy({ collectionId: LAB, purpose: 'required' });
  other.requiredPxeStarts.push({ computerId: 'pc2', deploymentId: r2.id });
  t.same(ran(resolveBoot(other.site(), pxe(), T0)), [r2.id, 'required'], 'another computer\'s record does not count');
});

/** LAB gets a hidden Available and a visible Available deployment; returns their ids. */
function hiddenLab(b = lab()) {
  const hidden = b.deploy({ collectionId: LAB, availability: 'mediaPxeHidden' });
  const visible = b.deploy({ collectionId: LAB, taskSequenceId: CUSTOM_TS_ID, availability: 'mediaPxe' });
  return { b, hidden, visible };
}
const prefer = (id: string) => ({ mediaVariables: { SMSTSPreferredAdvertID: id } });

t.test('R-20 a hidden deployment never appears in a list of choices', async (t) => {
  const { b, hidden, visible } = hiddenLab();
  for (const f of [pxe(), media(), media({ allowUnattended: true })]) {
    const ids = offered(resolveBoot(b.site(), f, T0));
    t.same(ids, [visible.id]);
    t.notOk(ids.includes(hidden.id));
  }
});

t.test('R-20 a hidden deployment runs when media names it in SMSTSPreferredAdvertID and allows unattended deployment', async (t) => {
  const { b, hidden } = hiddenLab();
  const site = b.site();
  t.same(ran(resolveBoot(site, media({ ...prefer(hidden.id), allowUnattended: true }), T0)), [hidden.id, 'preferred']);
  const lower = media({ mediaVariables: { smstspreferredadvertid: hidden.id }, allowUnattended: true });
  t.same(ran(resolveBoot(site, lower, T0)), [hidden.id, 'preferred'], 'the variable name is case-insensitive');
});

t.test('R-20 preferred but unattended deployment not allowed: the normal list, hidden excluded, with a note', async (t) => {
  const { b, hidden, visible } = hiddenLab();
  for (const allowUnattended of [false, undefined]) {
    const d = resolveBoot(b.site(), media({ ...prefer(hidden.id), allowUnattended }), T0);
    t.same(offered(d), [visible.id]);
    t.match(d.kind === 'offer' && d.note, `SMSTSPreferredAdvertID=${hidden.id} targets this machine but unattended deployment is not allowed`);
  }
});

t.test('R-20 a collection variable can name the preferred deployment', async (t) => {
  const b = new SiteBuilder();
  b.computer('pc1', { macs: [MAC1], uuid: U1 });
  b.collection(LAB, { directMemberIds: ['pc1'], variables: [{ name: 'SMSTSPreferredAdvertID', value: 'PS120001' }] });
  const { hidden } = hiddenLab(b);
  t.equal(hidden.id, 'PS120001');
  t.same(ran(resolveBoot(b.site(), media({ allowUnattended: true }), T0)), [hidden.id, 'preferred']);
  const other = resolveBoot(b.site(), media({ ...prefer('PS120002'), allowUnattended: true }), T0);
  t.same(ran(other), ['PS120002', 'preferred'], 'the media variable comes before the collection variable');
});

t.test('R-20 a preferred deployment that does not target the machine gives the normal list with a note', async (t) => {
  const { b, visible } = hiddenLab();
  const elsewhere = b.deploy({ collectionId: ALL_UNKNOWN_COMPUTERS_ID, availability: 'mediaPxeHidden' });
  const clientsOnly = b.deploy({ collectionId: LAB, taskSequenceId: CUSTOM_TS_ID, availability: 'clients' });
  for (const id of [elsewhere.id, clientsOnly.id, 'PS129999']) {
    const d = resolveBoot(b.site(), media({ ...prefer(id), allowUnattended: true }), T0);
    t.same(offered(d), [visible.id], id);
    t.match(d.kind === 'offer' && d.note, `SMSTSPreferredAdvertID=${id} does not name a deployment for this machine`);
  }
});

t.test('R-20 a hidden Required deployment does not run by itself', async (t) => {
  const b = lab();
  const hiddenReq = b.deploy({ collectionId: LAB, purpose: 'required', availability: 'mediaPxeHidden' });
  t.match(nothing(resolveBoot(b.site(), pxe(), T0)), '1 hidden deployment(s) run only through SMSTSPreferredAdvertID');
  const visible = b.deploy({ collectionId: LAB, taskSequenceId: CUSTOM_TS_ID, availability: 'mediaPxe' });
  t.same(offered(resolveBoot(b.site(), pxe(), T0)), [visible.id], 'not run, not listed');
  t.same(ran(resolveBoot(b.site(), media({ ...prefer(hiddenReq.id), allowUnattended: true }), T0)), [hiddenReq.id, 'preferred']);
});
