/**
 * Create Task Sequence wizard: each non-custom type generates its standard steps from
 * the creator's answers, named as the Configuration Manager templates name them.
 */
import { invalid } from '../errors.js';
import { normalizeName } from '../normalize.js';
import { validateStepProperties } from '../steps/catalog.js';
import type { Condition } from './conditions.js';
import { TASK_SEQUENCE_TYPES, type GroupItem, type Item, type StepItem, type TaskSequence, type TaskSequenceType } from './model.js';

export type JoinAnswer =
  | { readonly mode: 'workgroup'; readonly workgroup: string }
  | { readonly mode: 'domain'; readonly domain: string; readonly ou?: string; readonly account: string; readonly password: string };

export interface CreateAnswers {
  readonly type: TaskSequenceType;
  readonly name: string;
  readonly description?: string;
  readonly folderId?: string | null;
  readonly bootImageId?: string | null;
  /** Install, build and capture, VHD: the image to apply. */
  readonly osImageId?: string;
  readonly imageIndex?: number;
  /** Upgrade: the OS upgrade package. */
  readonly osUpgradePackageId?: string;
  readonly productKey?: string;
  readonly join?: JoinAnswer;
  readonly clientPackageId?: string;
  /** Driver packages to apply; none means Auto Apply Drivers. */
  readonly driverPackageIds?: readonly string[];
  readonly updates?: 'none' | 'required' | 'all';
  readonly applicationIds?: readonly string[];
  /** Capture and restore user state (install: "migrate user data"; required for the user state type). */
  readonly userState?: { readonly usmtPackageId: string; readonly storePath?: string };
  /** Build and capture: where the captured image goes. */
  readonly capture?: {
    readonly destination: string;
    readonly account: string;
    readonly password: string;
    readonly description?: string;
    readonly version?: string;
    readonly createdBy?: string;
  };
}

const NOT_IN_WINPE: Condition = { kind: 'variable', name: '_SMSTSInWinPE', operator: 'equals', value: 'false' };
const UEFI: Condition = { kind: 'variable', name: '_SMSTSBootUEFI', operator: 'equals', value: 'true' };
const NOT_UEFI: Condition = { kind: 'not', condition: UEFI };

// Partition layouts of the templates, in the Format and Partition Disk `partitions` syntax.
const BIOS_LAYOUT = ['name=System Reserved;type=primary;size=350MB;fs=ntfs;boot=true', 'name=Windows;type=primary;size=100%;fs=ntfs;variable=OSDisk'];
const UEFI_LAYOUT = [
  'name=Windows (Recovery);type=recovery;size=984MB;fs=ntfs',
  'name=Boot;type=efi;size=500MB;fs=fat32',
  'name=MSR;type=msr;size=128MB;fs=none',
  'name=Windows;type=primary;size=100%;fs=ntfs;variable=OSDisk',
];

/** Builds items with ids `i1`, `i2`… in creation order. */
class Builder {
  next = 1;
  step(type: string, name: string, properties: Record<string, unknown> = {}, condition: Condition | null = null): StepItem {
    const clean = Object.fromEntries(Object.entries(properties).filter(([, v]) => v !== undefined));
    return {
      kind: 'step', id: `i${this.next++}`, name, description: '', enabled: true, continueOnError: false, condition, type,
      properties: validateStepProperties(type, clean),
    };
  }
  group(name: string, children: readonly (Item | null)[], condition: Condition | null = null): GroupItem {
    return {
      kind: 'group', id: `i${this.next++}`, name, description: '', enabled: true, continueOnError: false, condition,
      children: children.filter((c): c is Item => c !== null),
    };
  }
}

function need<T>(v: T | undefined | null, field: string, type: string): T {
  if (v === undefined || v === null || v === '') throw invalid(`${field} is required for a ${type} task sequence`, field, 'R-01');
  return v;
}

function networkSettings(b: Builder, join: JoinAnswer | undefined): StepItem {
  const j = join ?? { mode: 'workgroup', workgroup: 'WORKGROUP' };
  return j.mode === 'domain'
    ? b.step('ApplyNetworkSettings', 'Apply Network Settings', { mode: 'domain', domain: j.domain, ou: j.ou, domainJoinAccount: j.account, domainJoinPassword: j.password })
    : b.step('ApplyNetworkSettings', 'Apply Network Settings', { mode: 'workgroup', workgroup: j.workgroup });
}

function driverSteps(b: Builder, a: CreateAnswers): StepItem[] {
  const ids = a.driverPackageIds ?? [];
  if (ids.length === 0) return [b.step('AutoApplyDrivers', 'Apply Device Drivers')];
  return ids.map((id, i) => b.step('ApplyDriverPackage', ids.length === 1 ? 'Apply Driver Package' : `Apply Driver Package ${i + 1}`, { driverPackageId: id }));
}

function softwareSteps(b: Builder, a: CreateAnswers): (StepItem | null)[] {
  return [
    a.updates && a.updates !== 'none' ? b.step('InstallSoftwareUpdates', 'Install Updates', { mode: a.updates }) : null,
    a.applicationIds?.length ? b.step('InstallApplication', 'Install Applications', { applicationIds: a.applicationIds }) : null,
  ];
}

/** Restart in Windows PE, partition for BIOS or UEFI, apply the image and the settings. */
function installOsSteps(b: Builder, a: CreateAnswers, osImageId: string): Item[] {
  return [
    b.step('RestartComputer', 'Restart in Windows PE', { restartTo: 'bootImage' }, NOT_IN_WINPE),
    b.step('FormatAndPartitionDisk', 'Partition Disk 0 - BIOS', { diskNumber: 0, diskType: 'mbr', partitions: BIOS_LAYOUT }, NOT_UEFI),
    b.step('FormatAndPartitionDisk', 'Partition Disk 0 - UEFI', { diskNumber: 0, diskType: 'gpt', partitions: UEFI_LAYOUT }, UEFI),
    b.step('ApplyOperatingSystemImage', 'Apply Operating System', {
      osImageId, imageIndex: a.imageIndex ?? 1, destination: 'driveLetterVariable', destinationVariable: 'OSDisk',
    }),
    b.step('ApplyWindowsSettings', 'Apply Windows Settings', { productKey: a.productKey }),
    networkSettings(b, a.join),
    ...driverSteps(b, a),
  ];
}

function captureUserState(b: Builder, us: NonNullable<CreateAnswers['userState']>, name: string, condition: Condition | null): GroupItem {
  return b.group(name, [
    b.step('RequestStateStore', 'Request User State Storage', { purpose: 'capture' }),
    b.step('CaptureUserState', 'Capture User Files and Settings', { usmtPackageId: us.usmtPackageId, storePath: us.storePath }),
    b.step('ReleaseStateStore', 'Release User State Storage'),
  ], condition);
}

function restoreUserState(b: Builder, us: NonNullable<CreateAnswers['userState']>, name: string): GroupItem {
  return b.group(name, [
    b.step('RequestStateStore', 'Request User State Storage', { purpose: 'restore' }),
    b.step('RestoreUserState', 'Restore User Files and Settings', { usmtPackageId: us.usmtPackageId, storePath: us.storePath }),
    b.step('ReleaseStateStore', 'Release User State Storage'),
  ]);
}

function standardItems(b: Builder, a: CreateAnswers): Item[] {
  switch (a.type) {
    case 'custom':
      return [];
    case 'installOs': {
      const osImageId = need(a.osImageId, 'osImageId', a.type);
      const items: (Item | null)[] = [
        a.userState ? captureUserState(b, a.userState, 'Capture Files and Settings', NOT_IN_WINPE) : null,
        b.group('Install Operating System', installOsSteps(b, a, osImageId)),
        b.group('Setup Operating System', [b.step('SetupWindowsAndConfigMgr', 'Setup Windows and ConfigMgr', { clientPackageId: a.clientPackageId }), ...softwareSteps(b, a)]),
        a.userState ? restoreUserState(b, a.userState, 'Restore User Files and Settings') : null,
      ];
      return items.filter((x): x is Item => x !== null);
    }
    case 'upgradeOs': {
      const osUpgradePackageId = need(a.osUpgradePackageId, 'osUpgradePackageId', a.type);
      return [
        b.group('Prepare for Upgrade', [b.step('CheckReadiness', 'Check Readiness', { minMemoryMb: 2048, minFreeDiskMb: 20480 })]),
        b.step('UpgradeOperatingSystem', 'Upgrade Operating System', {
          osUpgradePackageId, editionIndex: a.imageIndex ?? 1, productKey: a.productKey, driverPackageId: a.driverPackageIds?.[0],
        }),
        b.group('Post-Processing', softwareSteps(b, a)),
      ];
    }
    case 'buildCaptureOs': {
      const osImageId = need(a.osImageId, 'osImageId', a.type);
      const cap = need(a.capture, 'capture', a.type);
      return [
        ...installOsSteps(b, { ...a, join: a.join ?? { mode: 'workgroup', workgroup: 'WORKGROUP' } }, osImageId),
        b.step('SetupWindowsAndConfigMgr', 'Setup Windows and ConfigMgr', { clientPackageId: a.clientPackageId }),
        ...softwareSteps(b, a).filter((x): x is StepItem => x !== null),
        b.group('Capture the Reference Machine', [
          b.step('PrepareConfigMgrClientForCapture', 'Prepare ConfigMgr Client'),
          b.step('PrepareWindowsForCapture', 'Prepare OS'),
          b.step('CaptureOperatingSystemImage', 'Capture the Reference Machine', {
            destination: need(cap.destination, 'capture.destination', a.type), account: need(cap.account, 'capture.account', a.type),
            password: need(cap.password, 'capture.password', a.type), description: cap.description, version: cap.version, createdBy: cap.createdBy,
          }),
        ]),
      ];
    }
    case 'userState': {
      const us = need(a.userState, 'userState', a.type);
      need(us.usmtPackageId, 'userState.usmtPackageId', a.type);
      return [captureUserState(b, us, 'Capture User Files and Settings', null), restoreUserState(b, us, 'Restore User Files and Settings')];
    }
    case 'vhd': {
      const osImageId = need(a.osImageId, 'osImageId', a.type);
      return [
        ...installOsSteps(b, a, osImageId).filter((s) => s.name !== 'Partition Disk 0 - UEFI'),
        b.step('SetupWindowsAndConfigMgr', 'Setup Windows and ConfigMgr', { clientPackageId: a.clientPackageId }),
        ...softwareSteps(b, a).filter((x): x is StepItem => x !== null),
        b.step('PrepareConfigMgrClientForCapture', 'Prepare ConfigMgr Client for Capture'),
        b.step('PrepareWindowsForCapture', 'Prepare Windows for Capture and Shut Down', { shutdownAfter: true }),
      ];
    }
  }
}

export function createTaskSequence(id: string, answers: CreateAnswers): TaskSequence {
  if (!TASK_SEQUENCE_TYPES.includes(answers.type)) throw invalid(`type must be one of ${TASK_SEQUENCE_TYPES.join(', ')}`, 'type', 'R-01');
  if (answers.type !== 'custom' && answers.type !== 'upgradeOs' && answers.type !== 'userState') need(answers.bootImageId, 'bootImageId', answers.type);
  const b = new Builder();
  const items = standardItems(b, answers);
  return {
    id,
    name: normalizeName(String(answers.name ?? '')),
    description: answers.description ?? '',
    type: answers.type,
    enabled: true,
    folderId: answers.folderId ?? null,
    bootImageId: answers.bootImageId ?? null,
    items,
    nextItemId: b.next,
    strippedSecrets: [],
  };
}
