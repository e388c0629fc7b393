import t from 'tap';
import { apiHarness, type ApiHarness, type Json } from '../../fixtures/api-harness.js';
import { getDoc } from '../../../server/store/docs.js';

async function content(h: ApiHarness, kind: string, name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await h.call('POST', '/content', { body: { kind, name, ...extra } });
  if (res.status !== 201) throw new Error(res.body);
  return res.json.id;
}

/** Every step of a task sequence view, depth first. */
function steps(items: readonly Json[]): Json[] {
  return items.flatMap((i) => (i.kind === 'group' ? [i, ...steps(i.children)] : [i])).filter((i) => i.kind === 'step');
}
const stepTypes = (ts: Json): string[] => steps(ts.items).map((s) => s.type);

async function createTs(h: ApiHarness, body: Record<string, unknown>): Promise<Json> {
  const res = await h.call('POST', '/task-sequences', { body });
  if (res.status !== 201) throw new Error(res.body);
  return res.json;
}

async function customTs(h: ApiHarness, name = 'Custom'): Promise<Json> {
  return createTs(h, { type: 'custom', name });
}

const edit = (h: ApiHarness, id: string, operations: unknown[]) => h.call('POST', `/task-sequences/${id}/edits`, { body: { operations } });

t.test('R-01 each of the six types generates its standard steps', async (t) => {
  const h = await apiHarness(t);
  const boot = await content(h, 'bootImage', 'Boot image (x64)');
  const os = await content(h, 'osImage', 'Windows 11');
  const upgrade = await content(h, 'osUpgradePackage', 'Windows 11 upgrade');
  const usmt = await content(h, 'package', 'USMT');

  const install = await createTs(h, { type: 'installOs', name: 'Install', bootImageId: boot, osImageId: os, userState: { usmtPackageId: usmt } });
  t.match(install, { type: 'installOs', bootImageId: boot, enabled: true, deploysOs: true, folderPath: '/' });
  t.ok(stepTypes(install).includes('ApplyOperatingSystemImage'));
  t.ok(stepTypes(install).includes('CaptureUserState') && stepTypes(install).includes('RestoreUserState'), 'migrate user data');
  t.equal(steps(install.items).find((s) => s.type === 'ApplyOperatingSystemImage').properties.osImageId, os);

  const up = await createTs(h, { type: 'upgradeOs', name: 'Upgrade', osUpgradePackageId: upgrade });
  t.ok(stepTypes(up).includes('UpgradeOperatingSystem'));
  t.equal(up.bootImageId, null, 'an upgrade needs no boot image');

  const capture = await createTs(h, {
    type: 'buildCaptureOs', name: 'Build', bootImageId: boot, osImageId: os, capture: { destination: '\\\\srv\\cap\\ref.wim', account: 'CONTOSO\\cap', password: 'CapturePw-1' },
  });
  t.ok(stepTypes(capture).includes('CaptureOperatingSystemImage'));
  const state = await createTs(h, { type: 'userState', name: 'State', userState: { usmtPackageId: usmt } });
  t.same(stepTypes(state).filter((s) => s.endsWith('UserState')), ['CaptureUserState', 'RestoreUserState']);
  t.equal(state.deploysOs, false);
  const vhd = await createTs(h, { type: 'vhd', name: 'VHD', bootImageId: boot, osImageId: os });
  t.ok(stepTypes(vhd).includes('PrepareWindowsForCapture'));
  const custom = await createTs(h, { type: 'custom', name: 'Custom' });
  t.same(custom.items, [], 'custom has no steps');

  const ids = [install, up, capture, state, vhd, custom].map((x) => x.id);
  t.equal(new Set(ids).size, 6, 'six distinct ids');
  t.equal((await h.call('GET', '/task-sequences')).json.items.length, 6);

  const missing = await h.call('POST', '/task-sequences', { body: { type: 'installOs', name: 'X', bootImageId: boot } });
  t.equal(missing.status, 400);
  t.match(missing.json, { field: 'osImageId', rule: 'R-01' });
  const noBoot = await h.call('POST', '/task-sequences', { body: { type: 'vhd', name: 'X', osImageId: os } });
  t.match(noBoot.json, { field: 'bootImageId', rule: 'R-01' });
  const badType = await h.call('POST', '/task-sequences', { body: { type: 'installLinux', name: 'X' } });
  t.equal(badType.status, 400);
  t.equal(badType.json.field, 'body.type');
  t.equal((await h.call('GET', '/task-sequences')).json.items.length, 6, 'the refused ones were not stored');
});

t.test('R-03/R-31 step secrets are write-only: never in a response, named in secretsSet', async (t) => {
  const h = await apiHarness(t);
  const JOIN = 'DomainJoin-Pa55-91c2';
  const KEY = 'ABCDE-FGHIJ-KLMNO-PQRST-UVWXY';
  const RUNAS = 'RunAs-Pa55-44e0';
  const boot = await content(h, 'bootImage', 'Boot');
  const os = await content(h, 'osImage', 'Win');
  const created = await h.call('POST', '/task-sequences', {
    body: { type: 'installOs', name: 'Join', bootImageId: boot, osImageId: os, productKey: KEY, join: { mode: 'domain', domain: 'contoso.com', account: 'CONTOSO\\join', password: JOIN } },
  });
  t.equal(created.status, 201);
  const net = steps(created.json.items).find((s) => s.type === 'ApplyNetworkSettings');
  t.match(net.properties, { mode: 'domain', domain: 'contoso.com', domainJoinAccount: 'CONTOSO\\join' });
  t.notOk('domainJoinPassword' in net.properties);
  t.same(net.secretsSet, ['domainJoinPassword']);
  t.same(steps(created.json.items).find((s) => s.type === 'ApplyWindowsSettings').secretsSet, ['productKey']);

  const id = created.json.id;
  const added = await edit(h, id, [
    { op: 'addStep', type: 'RunCommandLine', name: 'As admin', properties: { commandLine: 'whoami', runAsUser: true, runAsAccount: 'CONTOSO\\svc', runAsPassword: RUNAS } },
  ]);
  t.equal(added.status, 200);
  const runAs = steps(added.json.items).find((s) => s.name === 'As admin');
  t.same(runAs.secretsSet, ['runAsPassword']);
  const renamed = await edit(h, id, [{ op: 'setProperties', itemId: runAs.id, properties: { commandLine: 'hostname' } }]);
  t.same(steps(renamed.json.items).find((s) => s.id === runAs.id).secretsSet, ['runAsPassword'], 'a later edit keeps the secret');

  const copy = await h.call('POST', `/task-sequences/${id}/copy`);
  const responses = [
    created, added, renamed, copy,
    await h.call('GET', `/task-sequences/${id}`),
    await h.call('GET', '/task-sequences'),
    await h.call('GET', `/task-sequences/${id}/references`),
    await h.call('GET', '/audit'),
    await h.call('GET', `/task-sequences/${id}`, { token: h.tokens.technician }),
  ];
  for (const [i, res] of responses.entries()) {
    t.ok(res.status < 300, `response ${i} succeeded`);
    for (const secret of [JOIN, KEY, RUNAS]) t.notOk(res.body.includes(secret), `response ${i} does not hold ${secret.slice(0, 8)}…`);
  }
  const stored = h.db.prepare('SELECT doc FROM task_sequences WHERE id = ?').get(id) as { doc: string };
  t.notOk(stored.doc.includes(JOIN), 'the secret is encrypted at rest (R-31)');
  t.ok(JSON.stringify(getDoc(h.db, 'task_sequences', id)).includes(JOIN), 'the secret is stored for the task sequence engine');
});

t.test('R-02 edits: add step and group, move across groups, rename, disable, condition, continue on error, properties', async (t) => {
  const h = await apiHarness(t);
  const ts = await customTs(h);
  const r1 = await edit(h, ts.id, [
    { op: 'addGroup', name: 'Prepare' },
    { op: 'addStep', type: 'RunCommandLine', name: 'Inside', properties: { commandLine: 'a.cmd' }, position: { parentId: 'i1' } },
    { op: 'addStep', type: 'RunCommandLine', name: 'Partition disk 0', properties: { commandLine: 'b.cmd' } },
  ]);
  t.equal(r1.status, 200, r1.body);
  t.match(r1.json.items, [{ kind: 'group', id: 'i1', name: 'Prepare', children: [{ id: 'i2', name: 'Inside' }] }, { kind: 'step', id: 'i3', name: 'Partition disk 0', type: 'RunCommandLine' }]);

  const up = await edit(h, ts.id, [{ op: 'moveUp', itemId: 'i3' }]);
  t.same(up.json.items[0].children.map((c: Json) => c.id), ['i2', 'i3'], 'moving up after a group enters it as its last child');
  t.equal(up.json.items.length, 1);
  const out = await edit(h, ts.id, [{ op: 'moveUp', itemId: 'i2' }]);
  t.same(out.json.items.map((c: Json) => c.id), ['i2', 'i1'], 'the first child moving up leaves the group');
  const down = await edit(h, ts.id, [{ op: 'moveDown', itemId: 'i2' }]);
  t.same(down.json.items[0].children.map((c: Json) => c.id), ['i2', 'i3'], 'moving down before a group enters it first');

  const condition = { kind: 'variable', name: '_SMSTSInWinPE', operator: 'equals', value: 'true' };
  const r2 = await edit(h, ts.id, [
    { op: 'rename', itemId: 'i1', name: 'Prepare disk' },
    { op: 'setEnabled', itemId: 'i2', enabled: false },
    { op: 'setContinueOnError', itemId: 'i3', continueOnError: true },
    { op: 'setCondition', itemId: 'i1', condition },
    { op: 'setProperties', itemId: 'i3', properties: { timeoutMinutes: 30 } },
    { op: 'setDescription', itemId: 'i3', description: 'wipes disk 0' },
  ]);
  t.equal(r2.status, 200, r2.body);
  const group = r2.json.items[0];
  t.match(group, { name: 'Prepare disk', condition });
  t.match(group.children, [{ id: 'i2', enabled: false }, { id: 'i3', continueOnError: true, description: 'wipes disk 0', properties: { commandLine: 'b.cmd', timeoutMinutes: 30 } }]);

  const removed = await edit(h, ts.id, [{ op: 'remove', itemId: 'i1' }]);
  t.same(removed.json.items, [], 'removing a group removes its children');
  const next = await edit(h, ts.id, [{ op: 'addGroup' }]);
  t.equal(next.json.items[0].id, 'i4', 'item ids are never reused');
  t.equal(next.json.items[0].name, 'New Group');
});

t.test('R-02 a failing edit list leaves the task sequence unchanged', async (t) => {
  const h = await apiHarness(t);
  const ts = await customTs(h, 'Atomic');
  await edit(h, ts.id, [{ op: 'addStep', type: 'RunCommandLine', properties: { commandLine: 'x' } }]);
  const before = await h.call('GET', `/task-sequences/${ts.id}`);

  const unknownType = await edit(h, ts.id, [{ op: 'rename', itemId: 'i1', name: 'changed' }, { op: 'addStep', type: 'NoSuchStep' }]);
  t.equal(unknownType.status, 400);
  t.match(unknownType.json, { rule: 'R-03', field: 'operations[1].type' });
  t.match(unknownType.json.message, /operation 1/);
  const firstUp = await edit(h, ts.id, [{ op: 'addGroup' }, { op: 'moveUp', itemId: 'i1' }, { op: 'moveUp', itemId: 'i1' }]);
  t.equal(firstUp.status, 422, 'the first item cannot move up');
  t.equal(firstUp.json.rule, 'R-02');
  const badProp = await edit(h, ts.id, [{ op: 'setProperties', itemId: 'i1', properties: { colour: 'red' } }]);
  t.equal(badProp.status, 400);
  t.equal(badProp.json.field, 'operations[0].properties.colour');
  const missingItem = await edit(h, ts.id, [{ op: 'setEnabled', itemId: 'i99', enabled: false }]);
  t.equal(missingItem.status, 404);
  const badCondition = await edit(h, ts.id, [{ op: 'setCondition', itemId: 'i1', condition: { kind: 'variable', name: 'X', operator: 'resembles', value: 'y' } }]);
  t.equal(badCondition.status, 400);
  for (const body of [{ operations: [] }, { operations: [{ op: 'explode' }] }, {}]) {
    const res = await h.call('POST', `/task-sequences/${ts.id}/edits`, { body });
    t.equal(res.status, 400, `${JSON.stringify(body)} → 400`);
  }
  t.equal((await edit(h, 'PS1FFFFF', [{ op: 'addGroup' }])).status, 404);

  t.same((await h.call('GET', `/task-sequences/${ts.id}`)).json, before.json, 'nothing of any refused list was kept');
});

t.test('R-03 the step catalog declares typed properties and secrets', async (t) => {
  const h = await apiHarness(t);
  t.equal((await h.call('GET', '/step-types', { token: h.tokens.technician })).status, 403, 'R-31: authoring is for administrators');
  const res = await h.call('GET', '/step-types');
  t.equal(res.status, 200);
  const all = res.json.categories.flatMap((c: Json) => c.steps);
  t.ok(res.json.categories.length >= 4, 'grouped by category');
  const byType = new Map<string, Json>(all.map((s: Json) => [s.type, s]));
  const secretsOf = (type: string) => byType.get(type).properties.filter((p: Json) => p.secret).map((p: Json) => p.name);
  t.same(secretsOf('JoinDomainOrWorkgroup'), ['password']);
  t.same(secretsOf('RunCommandLine'), ['runAsPassword']);
  t.same(secretsOf('ApplyNetworkSettings'), ['domainJoinPassword']);
  t.match(byType.get('RunCommandLine').properties.find((p: Json) => p.name === 'commandLine'), { kind: 'text', required: true });
  t.equal((await h.call('GET', '/step-types', { token: h.tokens.client })).status, 403);
});

t.test('R-04 references: all content, transitively, and the bad ones named', async (t) => {
  const h = await apiHarness(t);
  const boot = await content(h, 'bootImage', 'Boot');
  const base = await content(h, 'application', 'Runtime');
  const app = await content(h, 'application', 'Office', { dependencies: [base] });
  const ts = await createTs(h, { type: 'custom', name: 'Apps', bootImageId: boot });
  await edit(h, ts.id, [{ op: 'addStep', type: 'InstallApplication', properties: { applicationIds: [app] } }]);

  const ok = await h.call('GET', `/task-sequences/${ts.id}/references`);
  t.equal(ok.status, 200);
  t.equal(ok.json.ok, true);
  t.same(ok.json.content.map((c: Json) => c.id), [boot, app, base], 'dependencies followed');

  await edit(h, ts.id, [{ op: 'addStep', type: 'RunCommandLine', properties: { commandLine: 'x', packageId: 'PS1FFFFF' } }]);
  t.equal((await h.call('PATCH', `/content/${base}`, { body: { usable: false, unusableReason: 'source folder missing' } })).status, 200);
  const bad = await h.call('GET', `/task-sequences/${ts.id}/references`);
  t.equal(bad.json.ok, false);
  t.match(bad.json.problems, [
    { via: `dependency of ${app}`, id: base, reason: /not usable: source folder missing/ },
    { via: 'i2.packageId', id: 'PS1FFFFF', reason: /does not exist/ },
  ]);
  t.equal((await h.call('GET', '/task-sequences/PS1FFFFF/references')).status, 404);
  const inUse = await h.call('DELETE', `/content/${app}`);
  t.equal(inUse.status, 409, 'referenced content cannot be deleted');
});

t.test('R-05 copy, disable, enable, move and properties', async (t) => {
  const h = await apiHarness(t);
  const boot = await content(h, 'bootImage', 'Boot');
  const boot2 = await content(h, 'bootImage', 'Boot 2');
  const ts = await createTs(h, { type: 'custom', name: 'Original', bootImageId: boot });
  await edit(h, ts.id, [{ op: 'addStep', type: 'RunCommandLine', properties: { commandLine: 'x' } }]);
  const folder = (await h.call('POST', '/folders', { body: { name: 'Lab' } })).json.id;
  const original = (await h.call('POST', `/task-sequences/${ts.id}/move`, { body: { folderId: folder } })).json;
  t.match(original, { folderId: folder, folderPath: '/Lab' });

  const copy = await h.call('POST', `/task-sequences/${ts.id}/copy`);
  t.equal(copy.status, 201);
  t.not(copy.json.id, ts.id);
  t.match(copy.json, { name: 'Original - Copy', folderId: null });
  t.same(copy.json.items, original.items, 'the copy has the same steps');
  const named = await h.call('POST', `/task-sequences/${ts.id}/copy`, { body: { name: 'Named copy' } });
  t.equal(named.json.name, 'Named copy');

  const disabled = await h.call('POST', `/task-sequences/${ts.id}/disable`);
  t.equal(disabled.json.enabled, false);
  t.equal((await h.call('POST', `/task-sequences/${ts.id}/enable`)).json.enabled, true);

  const props = await h.call('PATCH', `/task-sequences/${ts.id}`, { body: { name: 'Renamed', description: 'why', bootImageId: boot2 } });
  t.equal(props.status, 200);
  t.match(props.json, { name: 'Renamed', description: 'why', bootImageId: boot2 });
  t.same(props.json.items, original.items, 'properties never touch the steps');
  for (const key of ['items', 'steps']) {
    const res = await h.call('PATCH', `/task-sequences/${ts.id}`, { body: { [key]: [] } });
    t.equal(res.status, 400, `${key} refused`);
    t.match(res.json.message, /R-05/);
  }
  t.equal((await h.call('PATCH', `/task-sequences/${ts.id}`, { body: { type: 'installOs' } })).status, 400);
  t.equal((await h.call('POST', `/task-sequences/${ts.id}/move`, { body: { folderId: 'f999' } })).status, 404);
  t.equal((await h.call('POST', `/task-sequences/${ts.id}/move`, { body: { folderId: null } })).json.folderPath, '/');
  t.equal((await h.call('POST', '/task-sequences/PS1FFFFF/copy')).status, 404);

  t.equal((await h.call('DELETE', `/task-sequences/${named.json.id}`)).status, 204);
  t.equal((await h.call('GET', `/task-sequences/${named.json.id}`)).status, 404);
});

t.test('R-05 folders nest; a duplicate name is 409; a non-empty folder cannot be deleted', async (t) => {
  const h = await apiHarness(t);
  const servers = await h.call('POST', '/folders', { body: { name: 'Servers' } });
  t.equal(servers.status, 201);
  const win = await h.call('POST', '/folders', { body: { name: 'Windows', parentId: servers.json.id } });
  t.equal(win.status, 201);
  const deep = await h.call('POST', '/folders', { body: { name: '2025', parentId: win.json.id } });
  const list = await h.call('GET', '/folders');
  t.same(list.json.items.map((f: Json) => f.path), ['/Servers', '/Servers/Windows', '/Servers/Windows/2025']);

  const dup = await h.call('POST', '/folders', { body: { name: 'servers' } });
  t.equal(dup.status, 409);
  t.equal(dup.json.field, 'name');
  t.equal((await h.call('POST', '/folders', { body: { name: 'Windows' } })).status, 201, 'the same name under another parent is fine');
  t.equal((await h.call('POST', '/folders', { body: { name: 'a/b' } })).status, 400);
  t.equal((await h.call('PATCH', `/folders/${servers.json.id}`, { body: { parentId: deep.json.id } })).status, 409, 'not into its own subfolder');

  const ts = await customTs(h);
  await h.call('POST', `/task-sequences/${ts.id}/move`, { body: { folderId: deep.json.id } });
  t.same((await h.call('GET', `/task-sequences?folderId=${deep.json.id}`)).json.items.map((x: Json) => x.id), [ts.id]);
  t.same((await h.call('GET', '/task-sequences?folderId=root')).json.items, []);
  const withSub = await h.call('DELETE', `/folders/${win.json.id}`);
  t.equal(withSub.status, 409);
  t.match(withSub.json.message, /subfolders/);
  const withTs = await h.call('DELETE', `/folders/${deep.json.id}`);
  t.equal(withTs.status, 409);
  t.match(withTs.json.message, /task sequences/);

  await h.call('POST', `/task-sequences/${ts.id}/move`, { body: { folderId: null } });
  t.equal((await h.call('DELETE', `/folders/${deep.json.id}`)).status, 204);
  t.equal((await h.call('DELETE', `/folders/${deep.json.id}`)).status, 404);
  t.equal((await h.call('PATCH', `/folders/${win.json.id}`, { body: { name: 'Win' } })).json.name, 'Win');
});
