import t from 'tap';
import {
  applyEdits,
  checkReferences,
  contentIndexOf,
  createTaskSequence,
  deploysOperatingSystem,
  directReferences,
  needsBootImage,
  type ContentInfo,
  type ContentKind,
  type EditOp,
  type Item,
} from '../../policy/index.js';

const info = (kind: ContentKind, id: string, extra: Partial<ContentInfo> = {}): ContentInfo => ({ kind, id, name: `${id} name`, usable: true, ...extra });

const step = (type: string, properties: Record<string, unknown>, extra: Partial<EditOp> = {}): EditOp =>
  ({ op: 'addStep', type, properties, ...extra }) as EditOp;

/** BOOT1; i1 Apply OS (OS1 + answer file PKG1); i2 Download PKG2, PKG1; i3 group holding i4 Install APP1; i5 Run Command Line. */
const ts = applyEdits(createTaskSequence('PS100001', { type: 'custom', name: 'Refs', bootImageId: 'BOOT1' }), [
  step('ApplyOperatingSystemImage', { osImageId: 'OS1', unattendPackageId: 'PKG1' }),
  step('DownloadPackageContent', { packageIds: ['PKG2', 'PKG1'] }),
  { op: 'addGroup', name: 'Apps' },
  step('InstallApplication', { applicationIds: ['APP1'] }, { position: { parentId: 'i3' } }),
  step('RunCommandLine', { commandLine: 'cmd /c exit 0' }),
]);

const complete = [
  info('bootImage', 'BOOT1'), info('osImage', 'OS1'), info('package', 'PKG1'), info('package', 'PKG2'), info('application', 'APP1'),
];
const indexWith = (...overrides: ContentInfo[]) => contentIndexOf([...complete.filter((c) => !overrides.some((o) => o.id === c.id)), ...overrides]);
const indexWithout = (id: string) => contentIndexOf(complete.filter((c) => c.id !== id));

/** Replaces an item's fields anywhere in the tree (as a stored task sequence could hold them). */
function patchItem(items: readonly Item[], id: string, patch: Record<string, unknown>): readonly Item[] {
  return items.map((i) => (i.id === id ? ({ ...i, ...patch } as Item) : i.kind === 'group' ? { ...i, children: patchItem(i.children, id, patch) } : i));
}

t.test('R-04 direct references: the boot image, then every ref and ref-list property in tree order', async (t) => {
  t.same(directReferences(ts), [
    { kind: 'bootImage', id: 'BOOT1', via: 'bootImage' },
    { kind: 'osImage', id: 'OS1', via: 'i1.osImageId' },
    { kind: 'package', id: 'PKG1', via: 'i1.unattendPackageId' },
    { kind: 'package', id: 'PKG2', via: 'i2.packageIds' },
    { kind: 'package', id: 'PKG1', via: 'i2.packageIds' },
    { kind: 'application', id: 'APP1', via: 'i4.applicationIds' },
  ]);
  t.same(directReferences({ ...ts, bootImageId: null }).map((r) => r.via), ['i1.osImageId', 'i1.unattendPackageId', 'i2.packageIds', 'i2.packageIds', 'i4.applicationIds']);
});

t.test('R-04 disabled steps and groups still reference their content', async (t) => {
  const off = applyEdits(ts, [{ op: 'setEnabled', itemId: 'i3', enabled: false }, { op: 'setEnabled', itemId: 'i1', enabled: false }]);
  t.same(directReferences(off).map((r) => r.id), ['BOOT1', 'OS1', 'PKG1', 'PKG2', 'PKG1', 'APP1']);
});

t.test('R-04 the references of a generated install task sequence follow the creator’s answers', async (t) => {
  const install = createTaskSequence('PS100002', {
    type: 'installOs', name: 'W11', bootImageId: 'B', osImageId: 'O', clientPackageId: 'C', driverPackageIds: ['D1', 'D2'],
    applicationIds: ['A1'], userState: { usmtPackageId: 'U' },
  });
  const refs = directReferences(install).map((r) => `${r.kind}:${r.id}`);
  t.same([...new Set(refs)].sort(), ['application:A1', 'bootImage:B', 'driverPackage:D1', 'driverPackage:D2', 'osImage:O', 'package:C', 'package:U'].sort());
  const index = contentIndexOf([info('bootImage', 'B'), info('osImage', 'O'), info('package', 'C'), info('driverPackage', 'D1'), info('driverPackage', 'D2'), info('application', 'A1'), info('package', 'U')]);
  const report = checkReferences(install, index);
  t.same(report.problems, []);
  t.equal(report.ok, true);
  t.equal(report.content.length, 7, 'U is listed once though two steps name it');
});

t.test('R-04 a complete index gives ok and every object once, in discovery order', async (t) => {
  const report = checkReferences(ts, indexWith());
  t.equal(report.ok, true);
  t.same(report.problems, []);
  t.same(report.content.map((c) => c.id), ['BOOT1', 'OS1', 'PKG1', 'PKG2', 'APP1']);
  t.equal(report.content[0]!.name, 'BOOT1 name', 'the index entries themselves');
});

t.test('R-04 a missing object is named with the reference that names it', async (t) => {
  const report = checkReferences(ts, indexWithout('PKG1'));
  t.equal(report.ok, false);
  t.same(report.problems.map((p) => ({ via: p.via, kind: p.kind, id: p.id })), [
    { via: 'i1.unattendPackageId', kind: 'package', id: 'PKG1' },
    { via: 'i2.packageIds', kind: 'package', id: 'PKG1' },
  ]);
  t.match(report.problems[0]!.reason, /package PKG1 does not exist/);
  t.notOk(report.content.some((c) => c.id === 'PKG1'));
  const boot = checkReferences(ts, indexWithout('BOOT1'));
  t.same(boot.problems.map((p) => [p.via, p.id]), [['bootImage', 'BOOT1']]);
  t.match(boot.problems[0]!.reason, /boot image BOOT1 does not exist/);
});

t.test('R-04 an object of the wrong kind is refused, saying what it is', async (t) => {
  const report = checkReferences(ts, indexWith(info('package', 'OS1')));
  t.equal(report.ok, false);
  t.same(report.problems.map((p) => [p.via, p.kind, p.id]), [['i1.osImageId', 'osImage', 'OS1']]);
  t.match(report.problems[0]!.reason, /OS1 is a package, not a operating system image/);
  t.notOk(report.content.some((c) => c.id === 'OS1'), 'not counted as content');
});

t.test('R-04 an unusable object is a problem with its reason', async (t) => {
  const report = checkReferences(ts, indexWith(info('application', 'APP1', { usable: false, unusableReason: 'retired' })));
  t.equal(report.ok, false);
  t.same(report.problems.map((p) => [p.via, p.id]), [['i4.applicationIds', 'APP1']]);
  t.match(report.problems[0]!.reason, /application APP1 name \(APP1\) is not usable: retired/);
  const noReason = checkReferences(ts, indexWith(info('osImage', 'OS1', { usable: false })));
  t.match(noReason.problems[0]!.reason, /not usable: no reason given/);
});

t.test('R-04 application dependencies are followed transitively into the content list', async (t) => {
  const index = indexWith(
    info('application', 'APP1', { dependencies: ['APP2'] }),
    info('application', 'APP2', { dependencies: ['APP3', 'PKG9'] }),
    info('application', 'APP3'),
    info('package', 'PKG9'),
  );
  const report = checkReferences(ts, index);
  t.equal(report.ok, true);
  t.same(report.content.map((c) => c.id), ['BOOT1', 'OS1', 'PKG1', 'PKG2', 'APP1', 'APP2', 'APP3', 'PKG9']);
});

t.test('R-04 a dependency cycle terminates and lists each application once', async (t) => {
  const index = indexWith(
    info('application', 'APP1', { dependencies: ['APP2'] }),
    info('application', 'APP2', { dependencies: ['APP3'] }),
    info('application', 'APP3', { dependencies: ['APP1', 'APP2'] }),
  );
  const report = checkReferences(ts, index);
  t.equal(report.ok, true);
  t.same(report.content.map((c) => c.id).filter((id) => id.startsWith('APP')), ['APP1', 'APP2', 'APP3']);
  const self = checkReferences(ts, indexWith(info('application', 'APP1', { dependencies: ['APP1'] })));
  t.same(self.content.filter((c) => c.id === 'APP1').length, 1);
});

t.test('R-04 a missing or unusable dependency is named with the application that needs it', async (t) => {
  const missing = checkReferences(ts, indexWith(info('application', 'APP1', { dependencies: ['APP2'] }), info('application', 'APP2', { dependencies: ['APP9'] })));
  t.equal(missing.ok, false);
  t.same(missing.problems.map((p) => [p.via, p.id]), [['dependency of APP2', 'APP9']]);
  t.match(missing.problems[0]!.reason, /APP9 does not exist/);
  const unusable = checkReferences(ts, indexWith(info('application', 'APP1', { dependencies: ['APP2'] }), info('application', 'APP2', { usable: false, unusableReason: 'no revision' })));
  t.same(unusable.problems.map((p) => [p.via, p.id]), [['dependency of APP1', 'APP2']]);
  t.match(unusable.problems[0]!.reason, /no revision/);
});

t.test('R-04 a task sequence whose steps need the boot image cannot do without one', async (t) => {
  const noBoot = { ...ts, bootImageId: null };
  t.equal(needsBootImage(noBoot), true, 'Apply Operating System Image runs in the boot image');
  const report = checkReferences(noBoot, indexWith());
  t.equal(report.ok, false);
  t.same(report.problems.map((p) => [p.via, p.kind, p.id]), [['bootImage', 'bootImage', null]]);
  t.match(report.problems[0]!.reason, /boot image is required/);
  const install = createTaskSequence('PS3', { type: 'installOs', name: 'I', bootImageId: 'B', osImageId: 'O' });
  t.equal(needsBootImage({ ...install, items: [] }), true, 'an install type needs one even when emptied');
  const fullOsOnly = applyEdits(createTaskSequence('PS4', { type: 'custom', name: 'C' }), [step('RunCommandLine', { commandLine: 'x' }), step('InstallApplication', { applicationIds: ['APP1'] })]);
  t.equal(needsBootImage(fullOsOnly), false);
  t.same(checkReferences(fullOsOnly, indexWith()).problems, []);
  const upgrade = createTaskSequence('PS5', { type: 'upgradeOs', name: 'U', osUpgradePackageId: 'UP' });
  t.equal(needsBootImage(upgrade), false);
  t.equal(checkReferences(upgrade, contentIndexOf([info('osUpgradePackage', 'UP')])).ok, true);
});

t.test('R-04 a step whose properties no longer validate makes the task sequence undeployable', async (t) => {
  const broken = { ...ts, items: patchItem(ts.items, 'i5', { name: 'Run setup', properties: { commandLine: '' } }) };
  const report = checkReferences(broken, indexWith());
  t.equal(report.ok, false);
  t.same(report.problems.map((p) => [p.via, p.kind, p.id]), [['i5', null, null]]);
  t.match(report.problems[0]!.reason, /step "Run setup".*commandLine/);
  const inGroup = { ...ts, items: patchItem(ts.items, 'i4', { properties: { applicationIds: ['APP1'], colour: 'red' } }) };
  t.same(checkReferences(inGroup, indexWith()).problems.map((p) => p.via), ['i4']);
  const gone = { ...ts, items: patchItem(ts.items, 'i5', { type: 'RetiredStepType' }) };
  const unknown = checkReferences(gone, indexWith());
  t.same(unknown.problems.map((p) => p.via), ['i5']);
  t.match(unknown.problems[0]!.reason, /unknown step type/);
});

t.test('R-04 every problem is reported, not just the first', async (t) => {
  const report = checkReferences(ts, contentIndexOf([info('osImage', 'OS1'), info('driverPackage', 'PKG2')]));
  t.same(report.problems.map((p) => `${p.via}:${p.id}`), [
    'bootImage:BOOT1', 'i1.unattendPackageId:PKG1', 'i2.packageIds:PKG2', 'i2.packageIds:PKG1', 'i4.applicationIds:APP1',
  ]);
  t.same(report.content.map((c) => c.id), ['OS1']);
});

t.test('R-04 deploysOperatingSystem is true for steps that lay down or upgrade an OS, disabled or not', async (t) => {
  const custom = createTaskSequence('PS6', { type: 'custom', name: 'C' });
  t.equal(deploysOperatingSystem(custom), false);
  t.equal(deploysOperatingSystem(applyEdits(custom, [step('RunCommandLine', { commandLine: 'x' }), step('CaptureUserState', { usmtPackageId: 'U' })])), false);
  t.equal(deploysOperatingSystem(applyEdits(custom, [step('ApplyDataImage', { osImageId: 'O' })])), true);
  const nested = applyEdits(custom, [{ op: 'addGroup' }, step('ApplyOperatingSystemImage', { osImageId: 'O' }, { position: { parentId: 'i1' } }), { op: 'setEnabled', itemId: 'i1', enabled: false }]);
  t.equal(deploysOperatingSystem(nested), true, 'a disabled group still counts');
  t.equal(deploysOperatingSystem(createTaskSequence('PS7', { type: 'installOs', name: 'I', bootImageId: 'B', osImageId: 'O' })), true);
  t.equal(deploysOperatingSystem(createTaskSequence('PS8', { type: 'upgradeOs', name: 'U', osUpgradePackageId: 'P' })), true);
  t.equal(deploysOperatingSystem(createTaskSequence('PS9', { type: 'userState', name: 'S', userState: { usmtPackageId: 'U' } })), false);
  t.equal(deploysOperatingSystem(ts), true);
});
