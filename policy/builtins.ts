/**
 * Built-in task sequence variables set from the boot: the engine sees them read-only
 * (their names start with `_`, which user variables cannot).
 */
import type { Computer } from './computers.js';
import type { Architecture } from './content-refs.js';
import type { Deployment } from './deployments/model.js';
import type { TaskSequence } from './task-sequences/model.js';

export type MediaType = 'pxe' | 'bootMedia' | 'fullMedia' | 'oemMedia' | 'fullOs';
export type MediaForm = 'cd' | 'usb' | 'hardDisk';

export interface BuiltInContext {
  readonly siteCode: string;
  /** The site address the engine talks to (`http://host:port`). */
  readonly siteAddress: string;
  readonly mediaType: MediaType;
  readonly mediaForm?: MediaForm;
  readonly macAddresses: readonly string[];
  readonly smbiosUuid: string | null;
  readonly architecture: Architecture;
  readonly uefi: boolean;
  readonly computer: Computer;
  readonly known: boolean;
  readonly deployment: Deployment;
  readonly taskSequence: TaskSequence;
}

const MEDIA_TYPE: Record<MediaType, string> = { pxe: 'PXE', bootMedia: 'BootMedia', fullMedia: 'FullMedia', oemMedia: 'OEMMedia', fullOs: 'SMS' };
const LAUNCH_MODE: Record<MediaForm, string> = { cd: 'CD', usb: 'UFD', hardDisk: 'HD' };

export function builtInVariables(ctx: BuiltInContext): Record<string, string> {
  const launchMode = ctx.mediaType === 'pxe' ? 'PXE' : ctx.mediaType === 'fullOs' ? 'SMS' : LAUNCH_MODE[ctx.mediaForm ?? 'usb'];
  return {
    _SMSTSMediaType: MEDIA_TYPE[ctx.mediaType],
    _SMSTSLaunchMode: launchMode,
    _SMSTSBootImageID: ctx.taskSequence.bootImageId ?? '',
    // Configuration Manager lists MACs upper-case with colons, comma separated.
    _SMSTSMacAddresses: ctx.macAddresses.map((m) => m.toUpperCase()).join(','),
    _SMSTSClientGUID: ctx.known ? ctx.computer.id : '',
    _SMSTSUUID: ctx.smbiosUuid ?? '',
    _SMSTSAdvertID: ctx.deployment.id,
    _SMSTSPackageID: ctx.taskSequence.id,
    _SMSTSPackageName: ctx.taskSequence.name,
    _SMSTSSiteCode: ctx.siteCode,
    _SMSTSMP: ctx.siteAddress,
    _SMSTSBootUEFI: String(ctx.uefi),
    _SMSTSInWinPE: String(ctx.mediaType !== 'fullOs'),
    _SMSTSArchitecture: ctx.architecture,
    _SMSTSUnknownComputer: String(!ctx.known),
    _SMSTSRequired: String(ctx.deployment.purpose === 'required'),
    _SMSTSShowProgress: String(ctx.deployment.userExperience.showProgress),
  };
}
