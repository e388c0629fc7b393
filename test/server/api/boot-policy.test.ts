import t from 'tap';
import { recordRequiredPxeStart } from '../../../server/site/deployments.js';
import { apiHarness, collection, computer, osTaskSequence, type ApiHarness, type Json } from '../../fixtures/api-harness.js';

const MAC = '00:15:5d:01:02:03';
const UUID = '4c4c4544-0031-3510-8052-b4c04f4d4d31';
const ASAP = [{ kind: 'asap' }];

const boot = async (h: ApiHarness, query: string, token?: string): Promise<Json> => {
  const res = await h.call('GET', `/boot-policy?${query}`, token === undefined ? {} : { token });
  if (res.status !== 200) throw new Error(`${res.status} ${res.body}`);
  return res.json;
};

async function deploy(h: ApiHarness, body: Record<string, unknown>): Promise<string> {
  const res = await h.call('POST', '/deployments', { body });
  if (res.status !== 201) throw new Error(res.body);
  return res.json.id;
}

t.test('R-17 an unknown machine resolves to the Unknown Computer object of its architecture', async (t) => {
  const h = await apiHarness(t);
  const nothing = await boot(h, `mac=${MAC}`);
  t.match(nothing, { kind: 'nothing', identity: { computerId: 'unknown-x64', known: false, matchedBy: 'unknown' } });
  t.equal((await boot(h, `mac=${MAC}&arch=x86`)).identity.computerId, 'unknown-x86');
  t.equal((await boot(h, `mac=${MAC}&arch=arm64`)).identity.computerId, 'unknown-arm64');

  const { tsId } = await osTaskSequence(h);
  const dep = await deploy(h, { taskSequenceId: tsId, collectionId: 'SMS000US', purpose: 'required', assignments: ASAP, availability: 'mediaPxe' });
  const run = await boot(h, `mac=${MAC}&arch=x86`);
  t.match(run, { kind: 'run', why: 'required', deploymentId: dep, taskSequenceId: tsId, identity: { computerId: 'unknown-x86', known: false } });

  await computer(h, 'KNOWN', { macAddresses: [MAC] });
  const known = await boot(h, `mac=${MAC}`);
  t.match(known, { kind: 'nothing', identity: { known: true, matchedBy: 'macAddress' } }, 'a known computer does not get All Unknown Computers’ deployments');

  const off = await h.call('PATCH', '/settings', { body: { pxe: { unknownComputerSupport: false } } });
  t.equal(off.status, 200);
  t.match(await boot(h, 'mac=00:15:5d:09:09:09'), { kind: 'nothing', identity: null, reason: /unknown computer support is off/ });
  t.match(await boot(h, 'mac=00:15:5d:09:09:09&source=media'), { kind: 'run', deploymentId: dep }, 'media keeps its own unknown computer support');
});

t.test('R-17 a known computer is found by MAC and by SMBIOS UUID', async (t) => {
  const h = await apiHarness(t);
  const id = await computer(h, 'PC', { macAddresses: [MAC], smbiosUuid: UUID });
  const other = await computer(h, 'OTHER', { macAddresses: ['00:15:5d:0a:0a:0a'] });
  t.match(await boot(h, 'mac=00-15-5D-01-02-03'), { identity: { computerId: id, known: true, matchedBy: 'macAddress', name: 'PC' } });
  t.match(await boot(h, 'mac=00:15:5d:ff:ff:ff,00155D010203'), { identity: { computerId: id } }, 'any of several MACs');
  t.match(await boot(h, 'mac=00:15:5d:ff:ff:ff&mac=00:15:5d:01:02:03'), { identity: { computerId: id } }, 'repeated mac parameters');
  t.match(await boot(h, `uuid={${UUID.toUpperCase()}}`), { identity: { computerId: id, matchedBy: 'smbiosUuid' } });
  const conflict = await boot(h, `uuid=${UUID}&mac=00:15:5d:0a:0a:0a`);
  t.match(conflict.identity, { computerId: id, matchedBy: 'smbiosUuid', conflict: new RegExp(other) }, 'the UUID wins and the conflict is named');
});

t.test('R-12/R-20 a hidden deployment is never offered; it runs through SMSTSPreferredAdvertID with unattended media', async (t) => {
  const h = await apiHarness(t);
  const pc = await computer(h, 'PC', { macAddresses: [MAC] });
  const col = await collection(h, 'Lab', { directMemberIds: [pc] });
  const visible = await osTaskSequence(h, 'Visible');
  const hidden = await osTaskSequence(h, 'Hidden');
  const clientsOnly = await osTaskSequence(h, 'Clients only');
  const v = await deploy(h, { taskSequenceId: visible.tsId, collectionId: col, availability: 'clientsMediaPxe' });
  const x = await deploy(h, { taskSequenceId: hidden.tsId, collectionId: col, availability: 'mediaPxeHidden' });
  await deploy(h, { taskSequenceId: clientsOnly.tsId, collectionId: col, availability: 'clients' });

  const offer = await boot(h, `mac=${MAC}`);
  t.equal(offer.kind, 'offer');
  t.same(offer.offers.map((o: Json) => o.deploymentId), [v], 'neither the hidden nor the clients-only deployment is offered');
  t.notOk(JSON.stringify(offer).includes(x), 'the hidden deployment id is not in the answer');

  const preferred = await boot(h, `mac=${MAC}&source=media&preferred=${x}&unattended=true`);
  t.match(preferred, { kind: 'run', why: 'preferred', deploymentId: x, taskSequenceId: hidden.tsId });
  const attended = await boot(h, `mac=${MAC}&source=media&preferred=${x}`);
  t.match(attended, { kind: 'offer', note: /unattended deployment is not allowed/ }, 'without unattended media: the normal list');
  t.same(attended.offers.map((o: Json) => o.deploymentId), [v]);
  const wrong = await boot(h, `mac=${MAC}&preferred=PS129999&unattended=true`);
  t.match(wrong, { kind: 'offer', note: /does not name a deployment/ });

  await h.call('PATCH', `/collections/${col}`, { body: { variables: [{ name: 'SMSTSPreferredAdvertID', value: x }] } });
  t.match(await boot(h, `mac=${MAC}&unattended=true`), { kind: 'run', why: 'preferred', deploymentId: x }, 'a collection variable may name it');

  await h.call('POST', `/task-sequences/${hidden.tsId}/disable`);
  t.match(await boot(h, `mac=${MAC}&unattended=true`), { kind: 'offer' }, 'R-05: a disabled task sequence does not run');
});

t.test('R-15 PXE and media ignore schedules', async (t) => {
  const h = await apiHarness(t);
  const pc = await computer(h, 'PC', { macAddresses: [MAC] });
  const col = await collection(h, 'Lab', { directMemberIds: [pc] });
  const { tsId } = await osTaskSequence(h);
  const dep = await deploy(h, {
    taskSequenceId: tsId, collectionId: col, availability: 'mediaPxe',
    availableFrom: { at: '2030-01-01T00:00', utc: true }, expiresAt: { at: '2030-02-01T00:00', utc: true },
  });
  const res = await boot(h, `mac=${MAC}`);
  t.match(res, { kind: 'offer', offers: [{ deploymentId: dep }] }, 'offered before its available time');
  t.notOk(JSON.stringify(res).includes('2030'), 'the policy carries no schedule');
});

t.test('R-19 a Required PXE deployment runs once until cleared', async (t) => {
  const h = await apiHarness(t);
  const pc = await computer(h, 'PC', { macAddresses: [MAC] });
  const col = await collection(h, 'Lab', { directMemberIds: [pc] });
  const { tsId } = await osTaskSequence(h);
  const dep = await deploy(h, { taskSequenceId: tsId, collectionId: col, purpose: 'required', assignments: ASAP, availability: 'mediaPxe' });
  t.match(await boot(h, `mac=${MAC}`), { kind: 'run', why: 'required', deploymentId: dep });

  await recordRequiredPxeStart(h.ctx, pc, dep);
  t.match(await boot(h, `mac=${MAC}`), { kind: 'nothing', reason: /already started from PXE \(R-19\)/ });
  t.match(await boot(h, `mac=${MAC}&source=media`), { kind: 'run', deploymentId: dep }, 'media boots are not affected');

  t.equal((await h.call('POST', `/computers/${pc}/clear-required-pxe`, { token: h.tokens.technician })).status, 403);
  const cleared = await h.call('POST', `/computers/${pc}/clear-required-pxe`);
  t.equal(cleared.status, 200);
  t.same(cleared.json, { cleared: 1 });
  t.match(await boot(h, `mac=${MAC}`), { kind: 'run', deploymentId: dep }, 'runs again after the clear');
  t.equal((await h.call('POST', '/computers/424242/clear-required-pxe')).status, 404);
  t.match((await h.call('GET', `/audit?action=deployment.requiredPxeCleared`)).json.items[0], { target: `computer ${pc}`, details: { cleared: 1 } });
});

t.test('R-23/R-24 variables and built-ins: the client sees hidden values, people do not', async (t) => {
  const h = await apiHarness(t);
  const SECRET = 'LocalAdmin-Pa55-0c7b';
  const pc = await computer(h, 'PC', {
    macAddresses: [MAC], smbiosUuid: UUID,
    variables: [{ name: 'AdminPassword', value: SECRET, hidden: true }, { name: 'OSDComputerName', value: 'PC-NEW' }],
  });
  const col = await collection(h, 'Lab', { directMemberIds: [pc] });
  const { tsId, bootImageId } = await osTaskSequence(h);
  const dep = await deploy(h, { taskSequenceId: tsId, collectionId: col, purpose: 'required', assignments: ASAP, availability: 'mediaPxe' });

  const client = await h.call('GET', `/boot-policy?mac=${MAC}&uuid=${UUID}&uefi=true`, { token: h.tokens.client });
  t.equal(client.status, 200);
  t.same(client.json.variables, [
    { name: 'AdminPassword', value: SECRET, hidden: true },
    { name: 'OSDComputerName', value: 'PC-NEW', hidden: false },
  ]);
  t.equal((await h.call('GET', `/boot-policy?mac=${MAC}&uuid=${UUID}`, { token: h.tokens.technician })).status, 403, 'technicians do not read machines’ policy (R-31)');
  for (const token of [h.tokens.admin]) {
    const person = await h.call('GET', `/boot-policy?mac=${MAC}&uuid=${UUID}`, { token });
    t.equal(person.status, 200);
    t.same(person.json.variables[0], { name: 'AdminPassword', value: null, hidden: true });
    t.notOk(person.body.includes(SECRET), 'the hidden value is not in the raw answer');
  }

  t.match(client.json.builtIns, {
    _SMSTSAdvertID: dep,
    _SMSTSPackageID: tsId,
    _SMSTSBootImageID: bootImageId,
    _SMSTSMediaType: 'PXE',
    _SMSTSLaunchMode: 'PXE',
    _SMSTSMacAddresses: MAC.toUpperCase(),
    _SMSTSClientGUID: pc,
    _SMSTSUUID: UUID,
    _SMSTSSiteCode: 'PS1',
    _SMSTSMP: 'http://192.0.2.10:8080',
    _SMSTSBootUEFI: 'true',
    _SMSTSInWinPE: 'true',
  });
  const media = await boot(h, `mac=${MAC}&source=media&mediaForm=cd`, h.tokens.client);
  t.match(media.builtIns, { _SMSTSMediaType: 'BootMedia', _SMSTSLaunchMode: 'CD', _SMSTSBootUEFI: 'false' });
  t.notOk(Object.keys(client.json.builtIns).some((k) => !k.startsWith('_SMSTS')), 'built-ins all start with _SMSTS');
});

t.test('bad boot queries are 400s naming the parameter', async (t) => {
  const h = await apiHarness(t);
  for (const [query, field] of [
    ['mac=zz', 'mac'],
    ['mac=00:15:5d:01:02', 'mac'],
    ['uuid=not-a-uuid', 'uuid'],
    [`mac=${MAC}&arch=mips`, 'arch'],
    [`mac=${MAC}&source=usb`, 'source'],
    [`mac=${MAC}&mediaForm=floppy`, 'mediaForm'],
    ['', 'mac'],
    [`mac=${MAC}&colour=red`, 'querystring.colour'],
    [`mac=${MAC}&arch=${'x'.repeat(20)}`, 'querystring.arch'],
  ]) {
    const res = await h.call('GET', `/boot-policy?${query}`, { token: h.tokens.client });
    t.equal(res.status, 400, `${query || '(none)'} → 400`);
    t.equal(res.json.field, field, `${query || '(none)'} names ${field}`);
  }
  const many = Array.from({ length: 33 }, (_, i) => `00:15:5d:00:00:${i.toString(16).padStart(2, '0')}`).join(',');
  t.equal((await h.call('GET', `/boot-policy?mac=${many}`)).status, 400, 'at most 32 MAC addresses');
});

t.test('R-17 placeholder SMBIOS UUIDs (all zero, all FF) are no identity, not an error', async (t) => {
  const h = await apiHarness(t);
  for (const uuid of ['00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF']) {
    const r = await h.call('GET', `/boot-policy?mac=52:54:00:aa:bb:01&uuid=${uuid}&arch=x64`, { token: h.tokens.client });
    t.equal(r.status, 200, uuid);
    t.equal((r.json as { identity: { matchedBy: string } }).identity.matchedBy, 'unknown', 'the MAC still identifies (here: nobody)');
  }
  const bad = await h.call('GET', '/boot-policy?mac=52:54:00:aa:bb:01&uuid=not-a-uuid&arch=x64', { token: h.tokens.client });
  t.equal(bad.status, 400);
});
