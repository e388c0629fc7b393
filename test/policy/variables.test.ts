import t from 'tap';
import {
  ALL_SYSTEMS_ID,
  MAX_VARIABLES_PER_COMPUTER,
  MAX_VARIABLE_VALUE,
  buildSite,
  builtInCollections,
  builtInVariables,
  maskVariable,
  maskVariables,
  mergeVariables,
  validateVariable,
  validateVariables,
  variablesFor,
  type BuiltInContext,
  type CollectionVariables,
  type Variable,
} from '../../policy/index.js';
import { BOOT_IMAGE_ID, CUSTOM_TS_ID, INSTALL_TS_ID, SITE_CODE, SiteBuilder, policyError } from '../fixtures/site-builder.js';

const v = (name: string, value: string, hidden = false): Variable => ({ name, value, hidden });
const cv = (collectionId: string, precedence: number, variables: Variable[]): CollectionVariables => ({ collectionId, precedence, variables });
const SECRET = 'P@ssw0rd-never-shown-7f3a';

t.test('R-23 variable names: letters, digits, _ . - and not starting with _', async (t) => {
  for (const name of ['OSDComputerName', 'a', '9Lives', 'My.Var-1_x', 'A'.repeat(256)]) t.equal(validateVariable({ name, value: '' }, 'v').name, name);
  const bad: unknown[] = ['_SMSTSAdvertID', '_x', '.x', '-x', '', 'has space', 'semi;colon', 'é', 'A'.repeat(257), 42, undefined];
  for (const name of bad) {
    const e = policyError(() => validateVariable({ name, value: 'x' }, 'variables[3]'));
    t.equal(e.code, 'invalid', String(name).slice(0, 20));
    t.equal(e.field, 'variables[3].name');
  }
  t.match(policyError(() => validateVariable({ name: '_SMSTSMP', value: 'x' }, 'v')).message, "not starting with '_'");
});

t.test('R-23 variable values are text up to the limit; hidden is a boolean; no other fields', async (t) => {
  t.equal(validateVariable({ name: 'A', value: 'x'.repeat(MAX_VARIABLE_VALUE) }, 'v').value.length, MAX_VARIABLE_VALUE);
  t.equal(policyError(() => validateVariable({ name: 'A', value: 'x'.repeat(MAX_VARIABLE_VALUE + 1) }, 'v')).field, 'v.value');
  t.equal(policyError(() => validateVariable({ name: 'A', value: 7 }, 'v')).field, 'v.value');
  t.equal(policyError(() => validateVariable({ name: 'A' }, 'v')).field, 'v.value');
  t.equal(policyError(() => validateVariable({ name: 'A', value: '', hidden: 'yes' }, 'v')).field, 'v.hidden');
  t.equal(policyError(() => validateVariable({ name: 'A', value: '', secret: true }, 'v')).field, 'v.secret');
  t.equal(policyError(() => validateVariable(null, 'v')).field, 'v');
  t.same(validateVariable({ name: 'A', value: '' }, 'v'), { name: 'A', value: '', hidden: false }, 'hidden defaults to false');
  t.same(validateVariable({ name: 'A', value: 's', hidden: true }, 'v'), { name: 'A', value: 's', hidden: true });
});

t.test('R-23 duplicate names are refused whatever their case', async (t) => {
  const e = policyError(() => validateVariables([{ name: 'OSDDomain', value: 'a' }, { name: 'Other', value: '' }, { name: 'osddomain', value: 'b' }], 'variables'));
  t.equal(e.code, 'invalid');
  t.equal(e.field, 'variables[2].name');
  t.match(e.message, 'given twice');
  t.equal(policyError(() => validateVariables({ name: 'A', value: '' }, 'variables')).field, 'variables', 'must be a list');
});

t.test('R-23 at most 1,000 variables per computer: the 1,001st is refused with rule R-23', async (t) => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `V${i}`, value: String(i) }));
  t.equal(MAX_VARIABLES_PER_COMPUTER, 1000);
  t.equal(validateVariables(many(1000), 'variables').length, 1000);
  const e = policyError(() => validateVariables(many(1001), 'variables'));
  t.equal(e.code, 'refused');
  t.equal(e.rule, 'R-23');
  t.equal(e.field, 'variables');
  t.match(e.message, '1001 given');
});

t.test('R-23 a computer variable wins over every collection variable, whatever the precedence', async (t) => {
  const m = mergeVariables([v('OSDComputerName', 'FROM-COMPUTER')], [
    cv('C9', 9, [v('OSDComputerName', 'FROM-C9'), v('Only9', 'nine')]),
    cv('C1', 1, [v('OSDComputerName', 'FROM-C1')]),
  ]);
  t.equal(m.get('osdcomputername')?.value, 'FROM-COMPUTER');
  t.same(m.get('osdcomputername')?.source, { kind: 'computer' });
  t.equal(m.get('only9')?.value, 'nine');
  t.same(m.get('only9')?.source, { kind: 'collection', collectionId: 'C9' });
});

t.test('R-23 collection precedence 9 beats 1 whatever the input order', async (t) => {
  const high = cv('ZZZ', 9, [v('Role', 'high')]);
  const low = cv('AAA', 1, [v('Role', 'low')]);
  const mid = cv('MMM', 5, [v('Role', 'mid')]);
  for (const order of [[high, low, mid], [low, mid, high], [mid, high, low]]) {
    const m = mergeVariables([], order);
    t.equal(m.get('role')?.value, 'high', order.map((c) => c.collectionId).join(','));
    t.same(m.get('role')?.source, { kind: 'collection', collectionId: 'ZZZ' });
  }
});

t.test('R-23 equal precedence is decided by collection id, independent of input order', async (t) => {
  const a = cv('PS100100', 3, [v('Site', 'from-100')]);
  const b = cv('PS100200', 3, [v('Site', 'from-200')]);
  const ab = mergeVariables([], [a, b]).get('site');
  const ba = mergeVariables([], [b, a]).get('site');
  t.ok(ab);
  t.same(ab, ba, 'same winner in both orders');
  t.ok(['from-100', 'from-200'].includes(ab!.value));
});

t.test('R-23 names match case-insensitively: a computer\'s OSDDOMAIN overrides a collection\'s OSDDomain', async (t) => {
  const m = mergeVariables([v('OSDDOMAIN', 'corp.example')], [cv('C', 9, [v('OSDDomain', 'lab.example')])]);
  t.equal(m.size, 1);
  t.equal(m.get('osddomain')?.value, 'corp.example');
  t.equal(m.get('osddomain')?.name, 'OSDDOMAIN', 'the winner keeps its spelling');
  const m2 = mergeVariables([], [cv('LOW', 1, [v('osddomain', 'low')]), cv('HIGH', 2, [v('OsdDomain', 'high')])]);
  t.equal(m2.size, 1);
  t.equal(m2.get('osddomain')?.value, 'high');
});

t.test('R-23 variablesFor merges a computer\'s collections by precedence, All Systems included', async (t) => {
  const b = new SiteBuilder();
  b.computer('pc1', { macs: ['00:00:00:00:00:01'], variables: [{ name: 'OSDComputerName', value: 'PC1' }] });
  b.collection('PS100100', { directMemberIds: ['pc1'], variablePrecedence: 2, variables: [{ name: 'Role', value: 'lab' }, { name: 'OSDComputerName', value: 'X' }] });
  b.collection('PS100200', { directMemberIds: ['pc1'], variablePrecedence: 8, variables: [{ name: 'Role', value: 'kiosk' }] });
  const data = b.data();
  const allSystems = { ...builtInCollections()[0]!, variables: [{ name: 'Tz', value: 'UTC', hidden: false }] };
  t.equal(allSystems.id, ALL_SYSTEMS_ID);
  const site = buildSite({ ...data, collections: [allSystems, ...data.collections] });
  const m = variablesFor(site, 'pc1');
  t.equal(m.get('role')?.value, 'kiosk');
  t.equal(m.get('osdcomputername')?.value, 'PC1');
  t.equal(m.get('tz')?.value, 'UTC');
  t.same(m.get('tz')?.source, { kind: 'collection', collectionId: ALL_SYSTEMS_ID });
  t.equal(variablesFor(site, 'unknown-x64').get('role'), undefined, 'an unknown computer gets only its own collections\' variables');
});

t.test('R-23 a hidden value is never shown to a person but is delivered to the task sequence', async (t) => {
  const vars = [v('DomainJoinPassword', SECRET, true), v('OSDDomain', 'corp.example')];
  const view = maskVariables(vars);
  t.notMatch(JSON.stringify(view), SECRET);
  t.same(view, [
    { name: 'DomainJoinPassword', value: null, hidden: true },
    { name: 'OSDDomain', value: 'corp.example', hidden: false },
  ]);
  t.notMatch(JSON.stringify(maskVariable(vars[0]!)), SECRET);
  const merged = mergeVariables([], [cv('C', 1, vars)]);
  t.equal(merged.get('domainjoinpassword')?.value, SECRET, 'the task sequence gets the value');
  t.equal(merged.get('domainjoinpassword')?.hidden, true, 'and knows it is hidden');
});

function bootContext(over: Partial<BuiltInContext> = {}): BuiltInContext {
  const b = new SiteBuilder();
  const pc = b.computer('pc1', { macs: ['00:1a:2b:3c:4d:5e', 'aa:bb:cc:dd:ee:0f'], uuid: '4c4c4544-0042-3510-8052-b4c04f4e3732' });
  b.collection('PS100100', { directMemberIds: ['pc1'] });
  const d = b.deploy({ collectionId: 'PS100100', availability: 'mediaPxe' });
  const site = b.site();
  return {
    siteCode: SITE_CODE, siteAddress: 'http://site.example:8080', mediaType: 'pxe', macAddresses: pc.macAddresses, smbiosUuid: pc.smbiosUuid,
    architecture: 'x64', uefi: true, computer: pc, known: true, deployment: d, taskSequence: site.taskSequences.get(INSTALL_TS_ID)!, ...over,
  };
}

t.test('R-24 built-in variables of a PXE boot', async (t) => {
  const ctx = bootContext();
  const vars = builtInVariables(ctx);
  t.equal(vars._SMSTSMediaType, 'PXE');
  t.equal(vars._SMSTSLaunchMode, 'PXE');
  t.equal(vars._SMSTSMacAddresses, '00:1A:2B:3C:4D:5E,AA:BB:CC:DD:EE:0F');
  t.equal(vars._SMSTSAdvertID, 'PS120001');
  t.equal(vars._SMSTSPackageID, INSTALL_TS_ID);
  t.equal(vars._SMSTSBootImageID, BOOT_IMAGE_ID);
  t.equal(vars._SMSTSClientGUID, 'pc1');
  t.equal(vars._SMSTSUUID, '4c4c4544-0042-3510-8052-b4c04f4e3732');
  t.equal(vars._SMSTSSiteCode, 'PS1');
  t.equal(vars._SMSTSMP, 'http://site.example:8080');
  t.equal(vars._SMSTSInWinPE, 'true');
  t.equal(vars._SMSTSBootUEFI, 'true');
  t.equal(vars._SMSTSUnknownComputer, 'false');
  t.equal(vars._SMSTSPackageName, 'Install Windows 11');
  for (const name of Object.keys(vars)) t.match(name, /^_SMSTS/, `${name} is read-only (starts with _)`);
});

t.test('R-24 built-in variables of a media boot of an unknown computer', async (t) => {
  const base = bootContext();
  const unknown = { ...base, known: false, computer: { ...base.computer, id: 'unknown-x64' }, smbiosUuid: null };
  const cd = builtInVariables({ ...unknown, mediaType: 'bootMedia', mediaForm: 'cd' });
  t.equal(cd._SMSTSMediaType, 'BootMedia');
  t.equal(cd._SMSTSLaunchMode, 'CD');
  t.equal(cd._SMSTSClientGUID, '', 'an unknown computer has no client GUID yet');
  t.equal(cd._SMSTSUnknownComputer, 'true');
  t.equal(cd._SMSTSUUID, '');
  t.equal(cd._SMSTSMacAddresses, '00:1A:2B:3C:4D:5E,AA:BB:CC:DD:EE:0F');
  const usb = builtInVariables({ ...unknown, mediaType: 'fullMedia', mediaForm: 'usb' });
  t.equal(usb._SMSTSMediaType, 'FullMedia');
  t.equal(usb._SMSTSLaunchMode, 'UFD');
  const oem = builtInVariables({ ...unknown, mediaType: 'oemMedia', mediaForm: 'hardDisk' });
  t.equal(oem._SMSTSMediaType, 'OEMMedia');
  t.equal(oem._SMSTSLaunchMode, 'HD');
});

t.test('R-24 built-in variables of a full-OS run', async (t) => {
  const base = bootContext();
  const b = new SiteBuilder();
  const custom = b.taskSequences.find((x) => x.id === CUSTOM_TS_ID)!;
  const vars = builtInVariables({ ...base, mediaType: 'fullOs', uefi: false, taskSequence: { ...custom, bootImageId: null } });
  t.equal(vars._SMSTSLaunchMode, 'SMS');
  t.equal(vars._SMSTSInWinPE, 'false');
  t.equal(vars._SMSTSBootUEFI, 'false');
  t.equal(vars._SMSTSPackageID, CUSTOM_TS_ID);
  t.equal(vars._SMSTSBootImageID, '', 'no boot image');
  t.equal(vars._SMSTSClientGUID, 'pc1');
  t.equal(vars._SMSTSRequired, 'false');
});
