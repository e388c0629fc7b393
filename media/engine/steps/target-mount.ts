/**
 * Puts the target's volumes where the steps expect them: the OS volume at --root, and its disk's
 * EFI system partition at <root>/boot/efi (after the image is applied: an image's own /boot/efi
 * files would not survive being unpacked onto FAT, and GRUB writes the ESP's files itself).
 * A start after a restart into the boot image, or after a crash, mounts them again so the
 * steps after Apply Operating System Image find the target as they left it.
 */
import path from 'node:path';
import type { StepEnv } from './types.js';
import { espFor, volumeKey, type VolumeRecord } from './volumes.js';

export async function mountRoot(env: StepEnv, v: VolumeRecord): Promise<void> {
  if (!v.device) throw new Error(`${volumeKey(v)} is on a disk image file: there is nothing to mount`);
  const here = env.mounts.mountedAt(env.root);
  if (here?.device === v.device) return;
  // Another volume (an earlier Apply step's) is there: everything of ours comes off first.
  if (env.mounts.entries.length > 0) await env.mounts.releaseAll();
  await env.mounts.mount(v.device, env.root, v.fs);
}

/** The ESP of the volume's disk, mounted at <root>/boot/efi; undefined when that disk has none. */
export async function mountEsp(env: StepEnv, v: VolumeRecord): Promise<VolumeRecord | undefined> {
  const esp = espFor(env.disk, v);
  if (!esp?.device) return undefined;
  const dir = path.join(env.root, 'boot', 'efi');
  if (env.mounts.mountedAt(dir)?.device !== esp.device) await env.mounts.mount(esp.device, dir, 'vfat');
  return esp;
}

/** After a restart or crash: the last applied block-device volume (and its ESP) back at --root. */
export async function remountTarget(env: StepEnv): Promise<string | null> {
  const key = env.disk.applied.at(-1);
  const v = env.disk.volumes.find((x) => volumeKey(x) === key);
  if (!v?.device) return null;
  await mountRoot(env, v);
  const esp = await mountEsp(env, v);
  return `${v.device} at ${env.root}${esp ? `, ${esp.device} at ${path.join(env.root, 'boot', 'efi')}` : ''}`;
}
