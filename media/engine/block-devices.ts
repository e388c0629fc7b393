/**
 * Block devices that could hold the media a machine booted from, for the engine's media search
 * (find-media.ts): the media's volume label (/dev/disk/by-label/OSDEPLOY, where udev made it),
 * the first CD drives, then every disk and partition in /proc/partitions. A device is worth
 * mounting only when its first sectors show a filesystem UEFI firmware or GRUB could have booted
 * the media from: ISO 9660 (`CD001` at byte 32769: a CD, or a hybrid ISO written to a stick) or
 * FAT (a boot sector with a FAT type string: the folder copied onto a stick, a prestaged disk).
 * Mounting is `mount -t TYPE -o ro DEVICE DIR` and `umount DIR`, each with a time limit.
 */
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { VOLUME_ID } from '../boot-media/model.js';
import { sysPath } from './kernel.js';

export type MediaFsType = 'iso9660' | 'vfat';

/** The devices to try, in order, as paths under the engine's system root (kernel.ts); duplicates are left to the caller. */
export function candidateDevices(env: NodeJS.ProcessEnv = process.env): { readonly devices: string[]; readonly note: string | null } {
  const fixed = [`dev/disk/by-label/${VOLUME_ID}`, 'dev/sr0', 'dev/sr1'].map((rel) => sysPath(rel, env));
  const partitions = sysPath('proc/partitions', env);
  let text: string;
  try {
    text = readFileSync(partitions, 'utf8');
  } catch (e) {
    return { devices: fixed, note: `${partitions} could not be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  // "major minor #blocks name" after a header line; RAM disks never hold media.
  const names = text.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 4 && /^\d+$/.test(f[0]!) && !/^(z?ram)\d/.test(f[3]!)).map((f) => f[3]!);
  return { devices: [...fixed, ...names.map((n) => sysPath(`dev/${n}`, env))], note: null };
}

const ISO_MAGIC_AT = 16 * 2048 + 1;
const FAT_TYPES = ['FAT12', 'FAT16', 'FAT32', 'FAT  '];

/** The filesystem in a device's (or image's) first sectors, when it is one media are made of; null otherwise. */
export function fsTypeOf(head: Buffer): MediaFsType | null {
  if (head.length >= ISO_MAGIC_AT + 5 && head.toString('latin1', ISO_MAGIC_AT, ISO_MAGIC_AT + 5) === 'CD001') return 'iso9660';
  if (head.length < 512 || head[510] !== 0x55 || head[511] !== 0xaa || (head[0] !== 0xeb && head[0] !== 0xe9)) return null;
  const at54 = head.toString('latin1', 54, 59);
  const at82 = head.toString('latin1', 82, 87);
  return FAT_TYPES.includes(at54) || at82 === 'FAT32' ? 'vfat' : null;
}

/** Reads the first sectors of a device; throws with the system's reason when it cannot be read (no disc in the drive, …). */
export async function readHead(device: string): Promise<Buffer> {
  const fh = await open(device, 'r');
  try {
    const buf = Buffer.alloc(ISO_MAGIC_AT + 5);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export interface Mounter {
  mount(device: string, dir: string, type: MediaFsType): Promise<void>;
  unmount(dir: string): Promise<void>;
}

const TOOL_PATH = `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/local/sbin:/usr/sbin:/sbin`;
const MOUNT_TIMEOUT_MS = 30_000;

function run(cmd: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: MOUNT_TIMEOUT_MS, env: { ...process.env, PATH: TOOL_PATH } }, (err, _out, stderr) => {
      if (!err) return resolve();
      const why = String(stderr).trim().split('\n')[0] || err.message;
      reject(new Error(`${cmd} ${args.join(' ')}: ${why}`));
    });
  });
}

/** The system's mount and umount (util-linux or busybox). */
export const systemMounter: Mounter = {
  mount: (device, dir, type) => run('mount', ['-t', type, '-o', 'ro', device, dir]),
  unmount: (dir) => run('umount', [dir]),
};
