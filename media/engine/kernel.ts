/**
 * What the engine reads from the kernel it runs under: the command line (`osdeploy.site=`,
 * `osdeploy.media=`, … as the media's GRUB passes them, media/boot-media/grub-config.ts), the
 * mount table and the block devices. All of them are paths under one root, `/` on a machine;
 * OSDEPLOY_ENGINE_SYSROOT moves that root, for tests only: a fake /proc/cmdline and
 * /proc/self/mounts in a folder, devices as symlinks under its dev/. Mount points in the mount
 * table are taken as written (they are the machine's own paths).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const SYSROOT_ENV = 'OSDEPLOY_ENGINE_SYSROOT';

/** `rel` (e.g. `proc/cmdline`) under the root the engine reads the kernel's files from. */
export const sysPath = (rel: string, env: NodeJS.ProcessEnv = process.env): string => path.join(env[SYSROOT_ENV] || '/', rel);

/** The kernel command line's `NAME=VALUE` words (the first of each name), quotes around a value removed; empty when unreadable. */
export function kernelArgs(env: NodeJS.ProcessEnv = process.env): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  let text: string;
  try {
    text = readFileSync(sysPath('proc/cmdline', env), 'utf8');
  } catch {
    return out;
  }
  for (const word of text.split(/\s+/)) {
    const at = word.indexOf('=');
    if (at <= 0) continue;
    const name = word.slice(0, at);
    const value = word.slice(at + 1).replace(/^"(.*)"$/, '$1');
    if (!out.has(name)) out.set(name, value);
  }
  return out;
}

export const kernelArg = (name: string, env: NodeJS.ProcessEnv = process.env): string | undefined => kernelArgs(env).get(name);
