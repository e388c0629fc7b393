import t from 'tap';
import {
  PolicyError,
  TASK_SEQUENCE_TYPES,
  createTaskSequence,
  evaluateCondition,
  validateStepProperties,
  walk,
  type CreateAnswers,
  type Item,
  type StepItem,
  type TaskSequence,
} from '../../policy/index.js';

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

const BOOT = 'PS100001';
const OS = 'PS100002';

/** One line per item, `  ` per depth: `Name [Type]` for steps, `Name/` for groups. */
function outline(ts: TaskSequence): string[] {
  return [...walk(ts.items)].map(({ item, depth }) => '  '.repeat(depth) + (item.kind === 'group' ? `${item.name}/` : `${item.name} [${item.type}]`));
}

function stepNamed(ts: TaskSequence, name: string): StepItem {
  const found = [...walk(ts.items)].map((w) => w.item).find((i): i is StepItem => i.kind === 'step' && i.name === name);
  if (!found) throw new Error(`no step named ${name}`);
  return found;
}

const names = (ts: TaskSequence): string[] => [...walk(ts.items)].map((w) => w.item.name);
const types = (ts: TaskSequence): string[] => [...walk(ts.items)].flatMap((w) => (w.item.kind === 'step' ? [w.item.type] : []));

function expectInvalid(tt: Test, fn: () => unknown, field: string): void {
  try {
    fn();
  } catch (err) {
    tt.type(err, PolicyError);
    tt.equal((err as PolicyError).code, 'invalid', `code for ${field}`);
    tt.equal((err as PolicyError).field, field);
    tt.match((err as PolicyError).message, field.split('.').pop()!, 'message names the field');
    return;
  }
  tt.fail(`expected an invalid error about ${field}`);
}

const install = (extra: Partial<CreateAnswers> = {}): TaskSequence =>
  createTaskSequence('PS200001', { type: 'installOs', name: 'Windows 11', bootImageId: BOOT, osImageId: OS, ...extra });

const FULL: Record<(typeof TASK_SEQUENCE_TYPES)[number], CreateAnswers> = {
  custom: { type: 'custom', name: 'Custom' },
  installOs: {
    type: 'installOs', name: 'Install', bootImageId: BOOT, osImageId: OS, imageIndex: 3, productKey: 'AAAAA-BBBBB',
    join: { mode: 'domain', domain: 'contoso.com', ou: 'OU=PCs,DC=contoso,DC=com', account: 'CONTOSO\\join', password: 'pw' },
    clientPackageId: 'PS100003', driverPackageIds: ['PS100004', 'PS100005'], updates: 'all', applicationIds: ['APP1', 'APP2'],
    userState: { usmtPackageId: 'PS100006', storePath: '\\\\smp\\store' },
  },
  upgradeOs: { type: 'upgradeOs', name: 'Upgrade', osUpgradePackageId: 'PS100007', driverPackageIds: ['PS100004'], updates: 'required', applicationIds: ['APP1'] },
  buildCaptureOs: {
    type: 'buildCaptureOs', name: 'Build', bootImageId: BOOT, osImageId: OS, updates: 'required', applicationIds: ['APP1'],
    capture: { destination: '\\\\srv\\caps\\ref.wim', account: 'CONTOSO\\cap', password: 'secret', version: '1.0' },
  },
  userState: { type: 'userState', name: 'USMT', userState: { usmtPackageId: 'PS100006' } },
  vhd: { type: 'vhd', name: 'VHD', bootImageId: BOOT, osImageId: OS, applicationIds: ['APP1'] },
};

t.test('R-01 a custom task sequence has no steps and keeps the answers it was given', async (t) => {
  const ts = createTaskSequence('PS200009', { type: 'custom', name: '  Tools  ', description: 'misc', folderId: 'F1' });
  t.same(ts, {
    id: 'PS200009', name: 'Tools', description: 'misc', type: 'custom', enabled: true, folderId: 'F1', bootImageId: null,
    items: [], nextItemId: 1, strippedSecrets: [],
  });
});

t.test('R-01 install OS generates the template steps, grouped and in order', async (t) => {
  const ts = install();
  t.equal(ts.type, 'installOs');
  t.equal(ts.bootImageId, BOOT);
  t.same(outline(ts), [
    'Install Operating System/',
    '  Restart in Windows PE [RestartComputer]',
    '  Partition Disk 0 - BIOS [FormatAndPartitionDisk]',
    '  Partition Disk 0 - UEFI [FormatAndPartitionDisk]',
    '  Apply Operating System [ApplyOperatingSystemImage]',
    '  Apply Windows Settings [ApplyWindowsSettings]',
    '  Apply Network Settings [ApplyNetworkSettings]',
    '  Apply Device Drivers [AutoApplyDrivers]',
    'Setup Operating System/',
    '  Setup Windows and ConfigMgr [SetupWindowsAndConfigMgr]',
  ]);
  const apply = stepNamed(ts, 'Apply Operating System');
  t.equal(apply.properties.osImageId, OS);
  t.equal(apply.properties.imageIndex, 1, 'image index defaults to 1');
  t.equal(apply.properties.destination, 'driveLetterVariable');
  t.equal(apply.properties.destinationVariable, 'OSDisk');
  t.equal(stepNamed(ts, 'Restart in Windows PE').properties.restartTo, 'bootImage');
});

t.test('R-01 partition steps are chosen by _SMSTSBootUEFI and the OS partition feeds Apply Operating System', async (t) => {
  const ts = install();
  const bios = stepNamed(ts, 'Partition Disk 0 - BIOS');
  const uefi = stepNamed(ts, 'Partition Disk 0 - UEFI');
  t.same(uefi.condition, { kind: 'variable', name: '_SMSTSBootUEFI', operator: 'equals', value: 'true' });
  t.same(bios.condition, { kind: 'not', condition: uefi.condition });
  t.equal(bios.properties.diskType, 'mbr');
  t.equal(uefi.properties.diskType, 'gpt');
  t.equal(bios.properties.diskNumber, 0);
  const vars = (lookup: Record<string, string>) => (n: string) => lookup[n];
  t.equal(evaluateCondition(uefi.condition!, vars({ _smstsbootuefi: 'true' })), true, 'UEFI machine runs the UEFI step');
  t.equal(evaluateCondition(bios.condition!, vars({ _smstsbootuefi: 'true' })), false, 'UEFI machine skips the BIOS step');
  t.equal(evaluateCondition(bios.condition!, vars({ _smstsbootuefi: 'false' })), true, 'BIOS machine runs the BIOS step');
  t.equal(evaluateCondition(uefi.condition!, vars({})), false, 'no variable: not UEFI');
  const restart = stepNamed(ts, 'Restart in Windows PE');
  t.same(restart.condition, { kind: 'variable', name: '_SMSTSInWinPE', operator: 'equals', value: 'false' });
  for (const step of [bios, uefi]) {
    const parts = step.properties.partitions as readonly string[];
    t.ok(parts.some((p) => p.includes('variable=OSDisk')), `${step.name} sets OSDisk`);
  }
  t.ok((uefi.properties.partitions as readonly string[]).some((p) => p.includes('type=efi')), 'UEFI layout has an EFI partition');
});

t.test('R-01 install OS captures and restores user state only when asked', async (t) => {
  t.notOk(names(install()).some((n) => /User|Files and Settings/.test(n)), 'no user state steps without the answer');
  const ts = install({ userState: { usmtPackageId: 'PS100006', storePath: '\\\\smp\\s' } });
  const top = ts.items.map((i) => i.name);
  t.same(top, ['Capture Files and Settings', 'Install Operating System', 'Setup Operating System', 'Restore User Files and Settings']);
  const capture = ts.items[0]!;
  t.same(capture.condition, { kind: 'variable', name: '_SMSTSInWinPE', operator: 'equals', value: 'false' }, 'capture only from the full OS');
  t.same(capture.kind === 'group' && capture.children.map((c) => c.kind === 'step' && c.type), ['RequestStateStore', 'CaptureUserState', 'ReleaseStateStore']);
  const restore = ts.items[3]!;
  t.equal(restore.condition, null);
  t.same(restore.kind === 'group' && restore.children.map((c) => c.kind === 'step' && c.type), ['RequestStateStore', 'RestoreUserState', 'ReleaseStateStore']);
  t.equal(stepNamed(ts, 'Capture User Files and Settings').properties.usmtPackageId, 'PS100006');
  t.equal(stepNamed(ts, 'Restore User Files and Settings').properties.storePath, '\\\\smp\\s');
  const purposes = [...walk(ts.items)].flatMap(({ item }) => (item.kind === 'step' && item.type === 'RequestStateStore' ? [item.properties.purpose] : []));
  t.same(purposes, ['capture', 'restore']);
});

t.test('R-01 no driver packages means Auto Apply Drivers; given ones become Apply Driver Package steps', async (t) => {
  t.same(types(install()).filter((x) => /Driver/.test(x)), ['AutoApplyDrivers']);
  const one = install({ driverPackageIds: ['D1'] });
  t.same(types(one).filter((x) => /Driver/.test(x)), ['ApplyDriverPackage']);
  t.equal(stepNamed(one, 'Apply Driver Package').properties.driverPackageId, 'D1');
  const two = install({ driverPackageIds: ['D1', 'D2'] });
  t.same(types(two).filter((x) => /Driver/.test(x)), ['ApplyDriverPackage', 'ApplyDriverPackage']);
  t.equal(stepNamed(two, 'Apply Driver Package 1').properties.driverPackageId, 'D1');
  t.equal(stepNamed(two, 'Apply Driver Package 2').properties.driverPackageId, 'D2');
});

t.test('R-01 updates and applications are installed only when asked', async (t) => {
  for (const extra of [{}, { updates: 'none' as const }, { applicationIds: [] }]) {
    const ts = install(extra);
    t.notOk(types(ts).includes('InstallSoftwareUpdates'), `no updates step for ${JSON.stringify(extra)}`);
    t.notOk(types(ts).includes('InstallApplication'), `no applications step for ${JSON.stringify(extra)}`);
  }
  const ts = install({ updates: 'all', applicationIds: ['APP1', 'APP2'] });
  const setup = ts.items.find((i) => i.name === 'Setup Operating System')!;
  t.same(setup.kind === 'group' && setup.children.map((c) => c.name), ['Setup Windows and ConfigMgr', 'Install Updates', 'Install Applications']);
  t.equal(stepNamed(ts, 'Install Updates').properties.mode, 'all');
  t.same(stepNamed(ts, 'Install Applications').properties.applicationIds, ['APP1', 'APP2']);
  t.equal(stepNamed(install({ updates: 'required' }), 'Install Updates').properties.mode, 'required');
});

t.test('R-01 network settings join a workgroup by default, or the domain that was answered', async (t) => {
  const def = stepNamed(install(), 'Apply Network Settings').properties;
  t.same({ mode: def.mode, workgroup: def.workgroup }, { mode: 'workgroup', workgroup: 'WORKGROUP' });
  t.equal(def.domain, undefined);
  t.equal(stepNamed(install({ join: { mode: 'workgroup', workgroup: 'LAB' } }), 'Apply Network Settings').properties.workgroup, 'LAB');
  const dom = stepNamed(install({ join: { mode: 'domain', domain: 'contoso.com', ou: 'OU=X', account: 'C\\j', password: 'pw' } }), 'Apply Network Settings');
  t.same(
    { mode: dom.properties.mode, domain: dom.properties.domain, ou: dom.properties.ou, a: dom.properties.domainJoinAccount, p: dom.properties.domainJoinPassword },
    { mode: 'domain', domain: 'contoso.com', ou: 'OU=X', a: 'C\\j', p: 'pw' },
  );
  t.equal(dom.properties.workgroup, undefined, 'a domain join carries no workgroup');
});

t.test('R-01 upgrade OS needs no boot image and upgrades with the answered package', async (t) => {
  const ts = createTaskSequence('PS200002', FULL.upgradeOs);
  t.equal(ts.bootImageId, null);
  t.same(outline(ts), [
    'Prepare for Upgrade/',
    '  Check Readiness [CheckReadiness]',
    'Upgrade Operating System [UpgradeOperatingSystem]',
    'Post-Processing/',
    '  Install Updates [InstallSoftwareUpdates]',
    '  Install Applications [InstallApplication]',
  ]);
  const up = stepNamed(ts, 'Upgrade Operating System').properties;
  t.equal(up.osUpgradePackageId, 'PS100007');
  t.equal(up.driverPackageId, 'PS100004');
  t.equal(up.editionIndex, 1);
  const bare = createTaskSequence('PS200003', { type: 'upgradeOs', name: 'U', osUpgradePackageId: 'P' });
  t.same(outline(bare).filter((l) => !l.startsWith(' ')), ['Prepare for Upgrade/', 'Upgrade Operating System [UpgradeOperatingSystem]', 'Post-Processing/']);
  t.equal(stepNamed(bare, 'Upgrade Operating System').properties.driverPackageId, undefined);
});

t.test('R-01 build and capture installs, then captures the reference machine to the answered share', async (t) => {
  const ts = createTaskSequence('PS200004', FULL.buildCaptureOs);
  const top = ts.items.map((i) => i.name);
  t.same(top.slice(-5), ['Apply Device Drivers', 'Setup Windows and ConfigMgr', 'Install Updates', 'Install Applications', 'Capture the Reference Machine']);
  t.equal(top[0], 'Restart in Windows PE', 'install steps are not grouped');
  const group = ts.items.at(-1)!;
  t.equal(group.kind, 'group');
  t.same(group.kind === 'group' && group.children.map((c) => c.kind === 'step' && c.type), ['PrepareConfigMgrClientForCapture', 'PrepareWindowsForCapture', 'CaptureOperatingSystemImage']);
  const cap = (group as { children: readonly Item[] }).children[2] as StepItem;
  t.same(
    { d: cap.properties.destination, a: cap.properties.account, p: cap.properties.password, v: cap.properties.version },
    { d: '\\\\srv\\caps\\ref.wim', a: 'CONTOSO\\cap', p: 'secret', v: '1.0' },
  );
  t.equal(stepNamed(ts, 'Apply Network Settings').properties.mode, 'workgroup', 'the reference machine stays in a workgroup');
});

t.test('R-01 capture and restore user state makes two groups around the USMT package', async (t) => {
  const ts = createTaskSequence('PS200005', FULL.userState);
  t.same(outline(ts), [
    'Capture User Files and Settings/',
    '  Request User State Storage [RequestStateStore]',
    '  Capture User Files and Settings [CaptureUserState]',
    '  Release User State Storage [ReleaseStateStore]',
    'Restore User Files and Settings/',
    '  Request User State Storage [RequestStateStore]',
    '  Restore User Files and Settings [RestoreUserState]',
    '  Release User State Storage [ReleaseStateStore]',
  ]);
  t.equal(ts.items[0]!.condition, null);
  t.equal(ts.bootImageId, null);
});

t.test('R-01 a VHD task sequence partitions for BIOS only and shuts down after Sysprep', async (t) => {
  const ts = createTaskSequence('PS200006', FULL.vhd);
  t.notOk(names(ts).includes('Partition Disk 0 - UEFI'));
  t.ok(names(ts).includes('Partition Disk 0 - BIOS'));
  t.same(names(ts).slice(-4), ['Setup Windows and ConfigMgr', 'Install Applications', 'Prepare ConfigMgr Client for Capture', 'Prepare Windows for Capture and Shut Down']);
  t.equal(stepNamed(ts, 'Prepare Windows for Capture and Shut Down').properties.shutdownAfter, true);
  t.ok(ts.items.every((i) => i.kind === 'step'), 'no groups');
});

t.test('R-01 missing required answers are refused, naming the field', async (t) => {
  const cases: [CreateAnswers, string][] = [
    [{ type: 'installOs', name: 'x', osImageId: OS }, 'bootImageId'],
    [{ type: 'installOs', name: 'x', bootImageId: '', osImageId: OS }, 'bootImageId'],
    [{ type: 'installOs', name: 'x', bootImageId: BOOT }, 'osImageId'],
    [{ type: 'vhd', name: 'x', osImageId: OS }, 'bootImageId'],
    [{ type: 'vhd', name: 'x', bootImageId: BOOT }, 'osImageId'],
    [{ type: 'buildCaptureOs', name: 'x', osImageId: OS, capture: FULL.buildCaptureOs.capture! }, 'bootImageId'],
    [{ type: 'buildCaptureOs', name: 'x', bootImageId: BOOT, capture: FULL.buildCaptureOs.capture! }, 'osImageId'],
    [{ type: 'buildCaptureOs', name: 'x', bootImageId: BOOT, osImageId: OS }, 'capture'],
    [{ type: 'buildCaptureOs', name: 'x', bootImageId: BOOT, osImageId: OS, capture: { destination: '\\\\s\\x.wim', account: 'a', password: '' } }, 'capture.password'],
    [{ type: 'buildCaptureOs', name: 'x', bootImageId: BOOT, osImageId: OS, capture: { destination: '', account: 'a', password: 'p' } }, 'capture.destination'],
    [{ type: 'upgradeOs', name: 'x' }, 'osUpgradePackageId'],
    [{ type: 'userState', name: 'x' }, 'userState'],
    [{ type: 'userState', name: 'x', userState: { usmtPackageId: '' } }, 'userState.usmtPackageId'],
    [{ type: 'custom', name: '   ' }, 'name'],
    [{ type: 'server' as never, name: 'x' }, 'type'],
  ];
  for (const [answers, field] of cases) expectInvalid(t, () => createTaskSequence('PS1', answers), field);
});

t.test('R-01 answers the step catalog refuses are refused with the step property named', async (t) => {
  expectInvalid(t, () => install({ updates: 'some' as never }), 'properties.mode');
  expectInvalid(t, () => install({ imageIndex: 0 }), 'properties.imageIndex');
  expectInvalid(t, () => install({ applicationIds: [''] }), 'properties.applicationIds');
});

t.test('R-01 every type gives unique item ids below nextItemId and steps whose properties validate', async (t) => {
  for (const type of TASK_SEQUENCE_TYPES) {
    const ts = createTaskSequence(`TS-${type}`, FULL[type]);
    t.equal(ts.type, type);
    const all = [...walk(ts.items)].map((w) => w.item);
    const ids = all.map((i) => i.id);
    t.equal(new Set(ids).size, ids.length, `${type}: ids unique`);
    for (const id of ids) {
      t.match(id, /^i\d+$/, `${type}: ${id} is an item id`);
      t.ok(Number(id.slice(1)) < ts.nextItemId, `${type}: ${id} < i${ts.nextItemId}`);
    }
    if (type !== 'custom') t.ok(all.length > 3, `${type}: generates steps`);
    for (const item of all) {
      t.equal(item.enabled, true);
      t.equal(item.continueOnError, false);
      t.type(item.description, 'string');
      if (item.kind !== 'step') continue;
      t.same(validateStepProperties(item.type, item.properties), item.properties, `${type}: ${item.name} validates unchanged`);
    }
  }
});
