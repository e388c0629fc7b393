/**
 * Client system architecture types (RFC 4578 §2.1, option 93, and the IANA "Processor
 * Architecture Types" registry) mapped to what policy knows: x86, x64 or ARM64, BIOS or UEFI,
 * and whether the firmware boots over HTTP (types 15–19, UEFI HTTP boot).
 */
import type { Architecture } from '../../policy/content-refs.js';

export type Firmware = 'bios' | 'uefi';

export interface ArchType {
  readonly name: string;
  /** `null`: a type we recognise but cannot boot (no policy architecture for it). */
  readonly architecture: Architecture | null;
  readonly firmware: Firmware;
  readonly http: boolean;
}

const t = (name: string, architecture: Architecture | null, firmware: Firmware, http = false): ArchType => ({ name, architecture, firmware, http });

export const ARCH_TYPES: ReadonlyMap<number, ArchType> = new Map([
  // Legacy BIOS PXE reports "Intel x86PC" whatever the CPU: the x86 Unknown Computer and
  // undionly.kpxe, which runs on any PC BIOS.
  [0, t('x86 BIOS', 'x86', 'bios')],
  [1, t('NEC/PC98', null, 'bios')],
  [2, t('EFI Itanium', null, 'uefi')],
  [6, t('x86 UEFI', 'x86', 'uefi')],
  [7, t('x64 UEFI', 'x64', 'uefi')],
  // Quirk: RFC 4578 as published swapped 7 and 9 ("EFI BC" / "EFI x86-64"); the IANA registry
  // corrected it (9 = EBC), but firmware built from the RFC table still sends 9 for x64.
  [9, t('x64 UEFI (RFC 4578 numbering)', 'x64', 'uefi')],
  [10, t('ARM 32-bit UEFI', null, 'uefi')],
  [11, t('ARM 64-bit UEFI', 'arm64', 'uefi')],
  [15, t('x86 UEFI HTTP', 'x86', 'uefi', true)],
  [16, t('x64 UEFI HTTP', 'x64', 'uefi', true)],
  [18, t('ARM 32-bit UEFI HTTP', null, 'uefi', true)],
  [19, t('ARM 64-bit UEFI HTTP', 'arm64', 'uefi', true)],
  [20, t('x86 BIOS HTTP', null, 'bios', true)],
]);

export function describeArchType(code: number): string {
  return ARCH_TYPES.get(code)?.name ?? `type ${code}`;
}

/** `PXEClient:Arch:00007:UNDI:003016` → 7 (the PXE 2.1 vendor class carries the type in decimal). */
export function archFromVendorClass(vendorClass: string): number | undefined {
  const m = /^(?:PXEClient|HTTPClient):Arch:(\d{5})/.exec(vendorClass);
  return m ? Number(m[1]) : undefined;
}
