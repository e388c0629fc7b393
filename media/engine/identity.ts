/**
 * Who this machine is (R-17): its MAC addresses and SMBIOS UUID, from flags or, in a real boot
 * image, from the kernel (`/sys/class/net/*\/address`, `/sys/class/dmi/id/product_uuid`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface MachineFacts {
  readonly macAddresses: readonly string[];
  readonly smbiosUuid: string | null;
  readonly architecture: 'x86' | 'x64' | 'arm64';
}

function systemMacs(): string[] {
  const out: string[] = [];
  try {
    for (const nic of readdirSync('/sys/class/net').sort()) {
      if (nic === 'lo') continue;
      try {
        const mac = readFileSync(path.join('/sys/class/net', nic, 'address'), 'utf8').trim();
        if (/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac) && mac !== '00:00:00:00:00:00') out.push(mac);
      } catch {
        // an interface without an address
      }
    }
  } catch {
    // no sysfs (not Linux)
  }
  return out;
}

function systemUuid(): string | null {
  try {
    const uuid = readFileSync('/sys/class/dmi/id/product_uuid', 'utf8').trim();
    return uuid || null;
  } catch {
    return null; // readable by root only, or no DMI
  }
}

const ARCH: Record<string, MachineFacts['architecture']> = { x64: 'x64', ia32: 'x86', arm64: 'arm64' };

export function machineFacts(macs: readonly string[], uuid: string | null, arch: string | null): MachineFacts {
  const macAddresses = macs.length ? macs : systemMacs();
  const smbiosUuid = uuid ?? (macs.length ? null : systemUuid());
  const architecture = (arch ?? ARCH[process.arch] ?? 'x64') as MachineFacts['architecture'];
  if (!['x86', 'x64', 'arm64'].includes(architecture)) throw new Error(`--arch must be x86, x64 or arm64, not ${architecture}`);
  if (macAddresses.length === 0 && !smbiosUuid) throw new Error('this machine has no MAC address or SMBIOS UUID to be known by; give --mac or --uuid');
  return { macAddresses, smbiosUuid, architecture };
}
