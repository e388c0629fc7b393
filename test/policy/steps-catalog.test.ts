import t from 'tap';
import { PolicyError } from '../../policy/errors.js';
import {
  STEP_CATALOG,
  missingSecrets,
  redactSecrets,
  referencesOfStep,
  secretPropertyNames,
  stepCategories,
  stepType,
  validateStepProperties,
} from '../../policy/steps/catalog.js';
import type { PropertyValue } from '../../policy/steps/types.js';

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

/** Runs `fn`, asserts it throws an `invalid` PolicyError about `field`, and returns it. */
function invalidError(tt: Test, fn: () => unknown, field: string): PolicyError | undefined {
  try {
    fn();
  } catch (err) {
    tt.type(err, PolicyError);
    const e = err as PolicyError;
    tt.equal(e.code, 'invalid');
    tt.equal(e.field, field);
    return e;
  }
  tt.fail(`expected an invalid error about ${field}`);
  return undefined;
}

t.test('R-03 the catalog holds every step type the documentation lists', async (t) => {
  const expected = [
    'CheckReadiness', 'ConnectToNetworkFolder', 'JoinDomainOrWorkgroup', 'RestartComputer', 'RunCommandLine',
    'RunPowerShellScript', 'RunTaskSequence', 'SetDynamicVariables', 'SetTaskSequenceVariable',
    'ConvertDiskToDynamic', 'DisableBitLocker', 'EnableBitLocker', 'FormatAndPartitionDisk', 'PreProvisionBitLocker',
    'CaptureUserState', 'ReleaseStateStore', 'RequestStateStore', 'RestoreUserState',
    'ApplyDataImage', 'ApplyOperatingSystemImage', 'CaptureOperatingSystemImage', 'PrepareConfigMgrClientForCapture',
    'PrepareWindowsForCapture', 'SetupWindowsAndConfigMgr', 'UpgradeOperatingSystem',
    'ApplyDriverPackage', 'AutoApplyDrivers',
    'ApplyNetworkSettings', 'ApplyWindowsSettings', 'CaptureNetworkSettings', 'CaptureWindowsSettings',
    'DownloadPackageContent', 'InstallApplication', 'InstallPackage', 'InstallSoftwareUpdates',
  ];
  t.same(STEP_CATALOG.map((d) => d.type).sort(), [...expected].sort());
  for (const type of expected) t.equal(stepType(type)?.type, type, `stepType(${type})`);
});

t.test('R-03 every step type has a unique id and display name', async (t) => {
  const ids = STEP_CATALOG.map((d) => d.type);
  const names = STEP_CATALOG.map((d) => d.displayName);
  t.equal(new Set(ids).size, ids.length, 'ids unique');
  t.equal(new Set(names).size, names.length, 'display names unique');
  for (const id of ids) t.match(id, /^[A-Z][A-Za-z]+$/, `${id} is PascalCase`);
});

t.test('R-03 every step type has unique camelCase property names', async (t) => {
  for (const def of STEP_CATALOG) {
    const names = def.properties.map((p) => p.name);
    t.equal(new Set(names).size, names.length, `${def.type} property names unique`);
    for (const name of names) t.match(name, /^[a-z][A-Za-z0-9]*$/, `${def.type}.${name} is camelCase`);
  }
});

t.test('R-03 every ref property has a refKind and no other property has one', async (t) => {
  for (const def of STEP_CATALOG) {
    for (const p of def.properties) {
      const isRef = p.kind === 'ref' || p.kind === 'ref-list';
      t.equal(p.refKind !== undefined, isRef, `${def.type}.${p.name}`);
    }
  }
});

t.test('R-03 every enum lists its values, and every default is a valid value of its property', async (t) => {
  for (const def of STEP_CATALOG) {
    for (const p of def.properties) {
      if (p.kind === 'enum') t.ok((p.values ?? []).length > 0, `${def.type}.${p.name} has values`);
      if (p.default === undefined) continue;
      const out = validateStepProperties(def.type, { [p.name]: p.default }, { partial: true });
      t.same(out[p.name], p.default, `${def.type}.${p.name} default validates`);
    }
  }
});

t.test('R-03 every secret is a one-line string property', async (t) => {
  for (const def of STEP_CATALOG) {
    for (const p of def.properties.filter((q) => q.secret)) t.equal(p.kind, 'string', `${def.type}.${p.name}`);
  }
});

const SECRET_CASES: readonly [string, string, string][] = [
  // The three the spec (and the seed's export section) names.
  ['R-03 Join Domain or Workgroup password is a secret', 'JoinDomainOrWorkgroup', 'password'],
  ['R-03 Connect To Network Folder password is a secret', 'ConnectToNetworkFolder', 'password'],
  ['R-03 Run Command Line run-as password is a secret', 'RunCommandLine', 'runAsPassword'],
  ['R-03 Run PowerShell Script run-as password is a secret', 'RunPowerShellScript', 'runAsPassword'],
  ['R-03 Apply Network Settings domain join password is a secret', 'ApplyNetworkSettings', 'domainJoinPassword'],
  ['R-03 Apply Windows Settings administrator password is a secret', 'ApplyWindowsSettings', 'adminPassword'],
  ['R-03 Capture Operating System Image password is a secret', 'CaptureOperatingSystemImage', 'password'],
  ['R-03 Restore User State local account password is a secret', 'RestoreUserState', 'localAccountPassword'],
  ['R-03 Enable BitLocker PIN is a secret', 'EnableBitLocker', 'pin'],
];

for (const [title, type, name] of SECRET_CASES) {
  t.test(title, async (t) => {
    const prop = stepType(type)?.properties.find((p) => p.name === name);
    t.equal(prop?.secret, true, 'declared secret');
    t.ok(secretPropertyNames(type).includes(name), 'listed by secretPropertyNames');
  });
}

t.test('R-03 account names and ordinary settings are not secrets', async (t) => {
  t.same(secretPropertyNames('JoinDomainOrWorkgroup'), ['password']);
  t.same(secretPropertyNames('ConnectToNetworkFolder'), ['password']);
  t.same(secretPropertyNames('RunCommandLine'), ['runAsPassword']);
  t.same(secretPropertyNames('InstallApplication'), []);
  invalidError(t, () => secretPropertyNames('NoSuchStep'), 'type');
});

t.test('R-03 stepType finds types by id and nothing else', async (t) => {
  t.equal(stepType('RunCommandLine')?.displayName, 'Run Command Line');
  for (const missing of ['runcommandline', 'Run Command Line', '', 'toString', '__proto__', 'constructor']) {
    t.equal(stepType(missing), undefined, JSON.stringify(missing));
  }
});

/** [what is wrong, step type, input, field the error must name]. */
const INVALID_CASES: readonly [string, string, unknown, string][] = [
  ['unknown step type', 'FormatEverything', {}, 'type'],
  ['properties not an object (array)', 'RunCommandLine', ['commandLine'], 'properties'],
  ['properties not an object (null)', 'RunCommandLine', null, 'properties'],
  ['properties not an object (string)', 'RunCommandLine', 'cmd /c dir', 'properties'],
  ['unknown property', 'RunCommandLine', { commandLine: 'x', bogus: 1 }, 'properties.bogus'],
  ['prototype key as property', 'RunCommandLine', JSON.parse('{"commandLine":"x","__proto__":{}}'), 'properties.__proto__'],
  ['string given a number', 'RunCommandLine', { commandLine: 'x', workingDirectory: 7 }, 'properties.workingDirectory'],
  ['string given two lines', 'RunCommandLine', { commandLine: 'x', runAsAccount: 'a\nb' }, 'properties.runAsAccount'],
  ['string given null', 'RunCommandLine', { commandLine: 'x', workingDirectory: null }, 'properties.workingDirectory'],
  ['text given a list', 'RunCommandLine', { commandLine: ['a'] }, 'properties.commandLine'],
  ['text with a NUL', 'RunCommandLine', { commandLine: 'a\u0000b' }, 'properties.commandLine'],
  ['boolean given a string', 'RunCommandLine', { commandLine: 'x', runAsUser: 'true' }, 'properties.runAsUser'],
  ['integer given a fraction', 'RunCommandLine', { commandLine: 'x', timeoutMinutes: 1.5 }, 'properties.timeoutMinutes'],
  ['integer given a numeric string', 'RunCommandLine', { commandLine: 'x', timeoutMinutes: '15' }, 'properties.timeoutMinutes'],
  ['integer given NaN', 'RunCommandLine', { commandLine: 'x', timeoutMinutes: NaN }, 'properties.timeoutMinutes'],
  ['integer below its minimum', 'RunCommandLine', { commandLine: 'x', timeoutMinutes: 0 }, 'properties.timeoutMinutes'],
  ['integer above its maximum', 'RunCommandLine', { commandLine: 'x', timeoutMinutes: 1000 }, 'properties.timeoutMinutes'],
  ['enum value not listed', 'RunPowerShellScript', { executionPolicy: 'Unrestricted' }, 'properties.executionPolicy'],
  ['enum value in the wrong case', 'RunPowerShellScript', { executionPolicy: 'bypass' }, 'properties.executionPolicy'],
  ['integer-list given a number', 'RunCommandLine', { commandLine: 'x', successCodes: 0 }, 'properties.successCodes'],
  ['integer-list with a fraction', 'RunCommandLine', { commandLine: 'x', successCodes: [0, 0.5] }, 'properties.successCodes'],
  ['string-list with a number', 'FormatAndPartitionDisk', { diskNumber: 0, partitions: ['name=Windows', 3] }, 'properties.partitions'],
  ['string-list given a string', 'FormatAndPartitionDisk', { diskNumber: 0, partitions: 'name=Windows' }, 'properties.partitions'],
  ['ref given an empty id', 'RunCommandLine', { commandLine: 'x', packageId: '' }, 'properties.packageId'],
  ['ref given a blank id', 'RunCommandLine', { commandLine: 'x', packageId: '   ' }, 'properties.packageId'],
  ['ref given a number', 'ApplyOperatingSystemImage', { osImageId: 42 }, 'properties.osImageId'],
  ['ref-list given one id', 'InstallApplication', { applicationIds: 'APP1' }, 'properties.applicationIds'],
  ['ref-list with an empty id', 'InstallApplication', { applicationIds: ['APP1', ''] }, 'properties.applicationIds'],
  ['assignments given an object', 'SetDynamicVariables', { rules: { name: 'a', value: 'b' } }, 'properties.rules'],
  ['assignment without a value', 'SetDynamicVariables', { rules: [{ name: 'OSDComputerName' }] }, 'properties.rules'],
  ['assignment with a number value', 'SetDynamicVariables', { rules: [{ name: 'a', value: 1 }] }, 'properties.rules'],
  ['assignment with an empty name', 'SetDynamicVariables', { rules: [{ name: ' ', value: 'b' }] }, 'properties.rules'],
  ['assignment that is a string', 'SetDynamicVariables', { rules: ['a=b'] }, 'properties.rules'],
  ['secret given a number', 'ConnectToNetworkFolder', { path: '\\\\s\\x', account: 'a', password: 1234 }, 'properties.password'],
  ['missing required text', 'RunCommandLine', {}, 'properties.commandLine'],
  ['blank required text', 'RunCommandLine', { commandLine: '  ' }, 'properties.commandLine'],
  ['missing required ref', 'ApplyOperatingSystemImage', {}, 'properties.osImageId'],
  ['missing required integer', 'FormatAndPartitionDisk', {}, 'properties.diskNumber'],
  ['missing required enum', 'JoinDomainOrWorkgroup', {}, 'properties.mode'],
  ['missing required secret', 'ConnectToNetworkFolder', { path: '\\\\s\\x', account: 'a' }, 'properties.password'],
  ['empty required ref-list', 'InstallApplication', { applicationIds: [] }, 'properties.applicationIds'],
];

for (const [what, type, input, field] of INVALID_CASES) {
  t.test(`R-03 validation names ${field} when ${what}`, async (t) => {
    const e = invalidError(t, () => validateStepProperties(type, input), field);
    const named = field === 'type' ? type : field.replace(/^properties\./, '');
    t.ok(e?.message.includes(named), `message names ${named}: ${e?.message}`);
  });
}

t.test('R-03 validation accepts a full valid step and fills in defaults', async (t) => {
  const out = validateStepProperties('RunCommandLine', { commandLine: 'cmd /c dir', packageId: ' PS100001 ' });
  t.same(out, {
    commandLine: 'cmd /c dir',
    packageId: 'PS100001',
    disableFileSystemRedirection: false,
    runAsUser: false,
    successCodes: [0, 3010],
  });
  const restart = validateStepProperties('RestartComputer', {});
  t.same(restart, { restartTo: 'currentOs', notifyUser: true, timeoutSeconds: 60 });
});

t.test('R-03 zero and false are values: they satisfy required and are kept', async (t) => {
  t.same(validateStepProperties('FormatAndPartitionDisk', { diskNumber: 0 }), { diskNumber: 0, diskType: 'gpt' });
  t.same(validateStepProperties('ConvertDiskToDynamic', { diskNumber: 0 }), { diskNumber: 0 });
  t.equal(validateStepProperties('RestartComputer', { notifyUser: false }).notifyUser, false);
});

t.test('R-03 a given value wins over the default', async (t) => {
  const out = validateStepProperties('RunCommandLine', { commandLine: 'x', successCodes: [0], runAsUser: true });
  t.same(out.successCodes, [0]);
  t.equal(out.runAsUser, true);
});

t.test('R-03 validation returns a copy that shares nothing with the input or the catalog', async (t) => {
  const rules = [{ name: 'OSDComputerName', value: 'PC-%_SMSTSSerialNumber%' }];
  const input = { rules };
  const out = validateStepProperties('SetDynamicVariables', input);
  t.not(out, input);
  t.not(out.rules, rules);
  rules[0]!.value = 'changed';
  t.same(out.rules, [{ name: 'OSDComputerName', value: 'PC-%_SMSTSSerialNumber%' }]);
  const a = validateStepProperties('RunCommandLine', { commandLine: 'x' });
  (a.successCodes as number[]).push(1);
  t.same(validateStepProperties('RunCommandLine', { commandLine: 'x' }).successCodes, [0, 3010], 'default not mutated');
});

t.test('R-03 partial validation checks given values only: no required, no defaults', async (t) => {
  t.same(validateStepProperties('RunCommandLine', { timeoutMinutes: 30 }, { partial: true }), { timeoutMinutes: 30 });
  t.same(validateStepProperties('ConnectToNetworkFolder', {}, { partial: true }), {});
  invalidError(t, () => validateStepProperties('RunCommandLine', { timeoutMinutes: 0 }, { partial: true }), 'properties.timeoutMinutes');
  invalidError(t, () => validateStepProperties('RunCommandLine', { nope: 1 }, { partial: true }), 'properties.nope');
  invalidError(t, () => validateStepProperties('NoSuchStep', {}, { partial: true }), 'type');
});

t.test('R-03 undefined counts as absent', async (t) => {
  t.same(validateStepProperties('RunCommandLine', { commandLine: 'x', packageId: undefined }, { partial: true }), { commandLine: 'x' });
  invalidError(t, () => validateStepProperties('RunCommandLine', { commandLine: undefined }), 'properties.commandLine');
});

/** [step type, valid properties with every secret set to SECRET]. */
const SECRET = 'Pa55-w0rd-never-shown-7f3a';
const REDACT_CASES: readonly [string, Record<string, PropertyValue>][] = [
  ['JoinDomainOrWorkgroup', { mode: 'domain', domain: 'contoso.com', account: 'CONTOSO\\join', password: SECRET }],
  ['ConnectToNetworkFolder', { path: '\\\\srv\\share', driveLetter: 'Z:', account: 'CONTOSO\\svc', password: SECRET }],
  ['RunCommandLine', { commandLine: 'setup.exe /q', runAsUser: true, runAsAccount: 'CONTOSO\\run', runAsPassword: SECRET }],
  ['ApplyWindowsSettings', { userName: 'IT', productKey: SECRET, randomAdminPassword: false, adminPassword: SECRET }],
  ['CaptureOperatingSystemImage', { destination: '\\\\srv\\cap\\ref.wim', account: 'CONTOSO\\cap', password: SECRET }],
];

for (const [type, props] of REDACT_CASES) {
  t.test(`R-27 R-31 redactSecrets never returns a ${type} secret`, async (t) => {
    const valid = validateStepProperties(type, props);
    const view = redactSecrets(type, valid);
    t.notOk(JSON.stringify(view).includes(SECRET), 'secret value absent');
    t.same(view.secretsSet.sort(), secretPropertyNames(type).filter((n) => props[n] !== undefined).sort(), 'secretsSet');
    t.ok(view.secretsSet.length > 0);
    for (const name of secretPropertyNames(type)) t.notOk(name in view.properties, `${name} removed`);
    for (const [name, value] of Object.entries(valid)) {
      if (!secretPropertyNames(type).includes(name)) t.same(view.properties[name], value, `${name} kept`);
    }
  });
}

t.test('R-27 redactSecrets removes an empty secret but does not report it as set', async (t) => {
  const view = redactSecrets('JoinDomainOrWorkgroup', { mode: 'workgroup', workgroup: 'LAB', password: '' });
  t.same(view, { properties: { mode: 'workgroup', workgroup: 'LAB' }, secretsSet: [] });
  invalidError(t, () => redactSecrets('NoSuchStep', { password: SECRET }), 'type');
});

t.test('R-28 missingSecrets lists required secrets without a value, and stripped ones', async (t) => {
  const folder = { path: '\\\\srv\\share', account: 'CONTOSO\\svc' };
  t.same(missingSecrets('ConnectToNetworkFolder', folder), ['password']);
  t.same(missingSecrets('ConnectToNetworkFolder', { ...folder, password: '' }), ['password']);
  t.same(missingSecrets('ConnectToNetworkFolder', { ...folder, password: 'x' }), []);
  t.same(missingSecrets('CaptureOperatingSystemImage', { destination: 'd', account: 'a' }), ['password']);
  const join = { mode: 'domain', domain: 'contoso.com', account: 'CONTOSO\\join' };
  t.same(missingSecrets('JoinDomainOrWorkgroup', join), [], 'optional secret not missing by default');
  t.same(missingSecrets('JoinDomainOrWorkgroup', join, ['password']), ['password'], 'stripped secret is missing');
  t.same(missingSecrets('JoinDomainOrWorkgroup', { ...join, password: 'x' }, ['password']), []);
  t.same(missingSecrets('JoinDomainOrWorkgroup', join, ['domain']), [], 'non-secret names ignored');
});

/** [step type, properties, expected references]. */
const REF_CASES: readonly [string, Record<string, PropertyValue>, { kind: string; id: string; property: string }[]][] = [
  ['RunCommandLine', { commandLine: 'x' }, []],
  ['RunCommandLine', { commandLine: 'x', packageId: 'PS100001' }, [{ kind: 'package', id: 'PS100001', property: 'packageId' }]],
  [
    'ApplyOperatingSystemImage',
    { osImageId: 'PS100002', unattendPackageId: 'PS100003' },
    [
      { kind: 'osImage', id: 'PS100002', property: 'osImageId' },
      { kind: 'package', id: 'PS100003', property: 'unattendPackageId' },
    ],
  ],
  [
    'InstallApplication',
    { applicationIds: ['APP1', 'APP2'] },
    [
      { kind: 'application', id: 'APP1', property: 'applicationIds' },
      { kind: 'application', id: 'APP2', property: 'applicationIds' },
    ],
  ],
  [
    'UpgradeOperatingSystem',
    { osUpgradePackageId: 'UP1', driverPackageId: 'DRV1' },
    [
      { kind: 'osUpgradePackage', id: 'UP1', property: 'osUpgradePackageId' },
      { kind: 'driverPackage', id: 'DRV1', property: 'driverPackageId' },
    ],
  ],
  ['ApplyDriverPackage', { driverPackageId: 'DRV2' }, [{ kind: 'driverPackage', id: 'DRV2', property: 'driverPackageId' }]],
  [
    'DownloadPackageContent',
    { packageIds: ['P1', 'P2'], destination: 'customPath', customPath: 'C:\\Stage' },
    [
      { kind: 'package', id: 'P1', property: 'packageIds' },
      { kind: 'package', id: 'P2', property: 'packageIds' },
    ],
  ],
];

for (const [type, props, expected] of REF_CASES) {
  const kinds = expected.map((r) => r.kind).join(', ') || 'nothing';
  t.test(`R-04 referencesOfStep of ${type} lists ${kinds}`, async (t) => {
    t.same(referencesOfStep(type, props), expected);
  });
}

t.test('R-04 referencesOfStep rejects an unknown step type', async (t) => {
  invalidError(t, () => referencesOfStep('NoSuchStep', { packageId: 'P1' }), 'type');
});

t.test('R-10 deploysOs is set on exactly Apply OS Image, Apply Data Image and Upgrade OS', async (t) => {
  const deploying = STEP_CATALOG.filter((d) => d.deploysOs).map((d) => d.type).sort();
  t.same(deploying, ['ApplyDataImage', 'ApplyOperatingSystemImage', 'UpgradeOperatingSystem']);
  for (const d of STEP_CATALOG) t.ok(d.deploysOs === true || d.deploysOs === undefined, `${d.type} deploysOs is true or absent`);
});

const RUNS_IN_CASES: readonly [string, 'bootImage' | 'fullOs' | 'both'][] = [
  ['FormatAndPartitionDisk', 'bootImage'],
  ['ApplyOperatingSystemImage', 'bootImage'],
  ['InstallApplication', 'fullOs'],
  ['InstallPackage', 'fullOs'],
  ['JoinDomainOrWorkgroup', 'fullOs'],
  ['UpgradeOperatingSystem', 'fullOs'],
  ['RunCommandLine', 'both'],
  ['SetTaskSequenceVariable', 'both'],
];

for (const [type, runsIn] of RUNS_IN_CASES) {
  t.test(`R-29 ${type} runs in ${runsIn}`, async (t) => {
    t.equal(stepType(type)?.runsIn, runsIn);
  });
}

t.test('R-29 every step type says where it runs', async (t) => {
  for (const d of STEP_CATALOG) t.ok(['bootImage', 'fullOs', 'both'].includes(d.runsIn ?? ''), d.type);
});

t.test('R-02 stepCategories lists every type once, grouped, in catalog order', async (t) => {
  const groups = stepCategories();
  const cats = groups.map((g) => g.category);
  t.equal(new Set(cats).size, cats.length, 'categories unique');
  t.same(cats, ['General', 'Disks', 'User State', 'Images', 'Drivers', 'Settings', 'Software']);
  t.same(groups.flatMap((g) => g.steps.map((s) => s.type)), STEP_CATALOG.map((d) => d.type), 'catalog order');
  for (const g of groups) for (const s of g.steps) t.equal(s.category, g.category, `${s.type} in ${g.category}`);
  // The seed's example: Add > General > Run Command Line.
  t.ok(groups.find((g) => g.category === 'General')?.steps.some((s) => s.displayName === 'Run Command Line'));
});

t.test('R-03 the catalog cannot be changed by a caller', async (t) => {
  const def = stepType('RunCommandLine')!;
  t.throws(() => {
    (def.properties as unknown as unknown[]).push({});
  });
  t.throws(() => {
    (def as { displayName: string }).displayName = 'x';
  });
  t.equal(stepType('RunCommandLine')?.displayName, 'Run Command Line');
});
