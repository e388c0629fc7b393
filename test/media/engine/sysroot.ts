/**
 * A fake system root for the engine's media search (OSDEPLOY_ENGINE_SYSROOT, media/engine/kernel.ts):
 * a kernel command line, a mount table whose mount points are real folders, an optional
 * /proc/partitions, and devices as symlinks under dev/ (to image files or loop devices).
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir, type Teardowns } from './step-env.js';

export interface FakeSystem {
  /** The kernel command line, e.g. `quiet osdeploy.media=PS1M00001`. */
  readonly cmdline: string;
  /** Mount table entries: the device, the (real) mount point, the filesystem type. */
  readonly mounts?: readonly { readonly device: string; readonly dir: string; readonly type: string }[];
  /** /proc/partitions names (each needs a device below to be found). */
  readonly partitions?: readonly string[];
  /** Paths under dev/ (`disk/by-label/OSDEPLOY`, `sr0`) and what each is a symlink to. */
  readonly devices?: Readonly<Record<string, string>>;
}

const esc = (s: string): string => s.replace(/ /g, '\\040');

export function fakeSysroot(t: Teardowns, sys: FakeSystem): string {
  const root = tempDir(t, 'osdeploy-sysroot-');
  mkdirSync(path.join(root, 'proc', 'self'), { recursive: true });
  writeFileSync(path.join(root, 'proc', 'cmdline'), `${sys.cmdline}\n`);
  const kernel = ['proc /proc proc rw,relatime 0 0', 'sysfs /sys sysfs rw,relatime 0 0'];
  const lines = [...kernel, ...(sys.mounts ?? []).map((m) => `${esc(m.device)} ${esc(m.dir)} ${m.type} ro,relatime 0 0`)];
  writeFileSync(path.join(root, 'proc', 'self', 'mounts'), `${lines.join('\n')}\n`);
  if (sys.partitions) {
    const rows = sys.partitions.map((n, i) => ` 259        ${i}      65536 ${n}`);
    writeFileSync(path.join(root, 'proc', 'partitions'), `major minor  #blocks  name\n\n${rows.join('\n')}\n`);
  }
  for (const [rel, target] of Object.entries(sys.devices ?? {})) {
    const link = path.join(root, 'dev', ...rel.split('/'));
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(target, link);
  }
  return root;
}
