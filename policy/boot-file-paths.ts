/**
 * The paths a boot image declares for its network boot files: kernel and initrds, or
 * wim, BCD and boot.sdi. Each is a path under the boot-file store or `content/<id>/<version|
 * latest>/<file>`, and it ends up in iPXE scripts, URLs, TFTP requests and GRUB configs. So a
 * declared path is plain: `/`-separated segments of letters, digits, `.`, `_` and `-`; never
 * absolute, never `..` or `.`, no empty segment, no `\`, no control or other character. Paths
 * are checked when written (API, export import, prestaged files); a record stored before the
 * rule existed is checked again when a boot script is made from it.
 */
import type { BootImageFiles } from './content-refs.js';

export const MAX_BOOT_FILE_PATH = 1024;
const SEGMENT = /^[A-Za-z0-9._-]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Why `p` is not a safe boot-file path, or null when it is. */
export function bootFilePathProblem(p: unknown): string | null {
  if (typeof p !== 'string' || p.length === 0) return 'must be a non-empty path';
  if (p.length > MAX_BOOT_FILE_PATH) return `is longer than ${MAX_BOOT_FILE_PATH} characters`;
  if (CONTROL.test(p)) return 'contains a control character';
  if (p.includes('\\')) return 'must separate folders with "/", not "\\"';
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return 'must be relative to the boot-file store, not absolute';
  const segments = p.split('/');
  if (segments.includes('..')) return 'must not climb out of the boot-file store ("..")';
  if (segments.some((s) => s === '' || s === '.')) return 'has an empty or "." folder';
  if (segments.some((s) => !SEGMENT.test(s))) return 'may hold only letters, digits, ".", "_" and "-" between "/"';
  return null;
}

export interface BootFilesProblem {
  /** The field under `boot`: `kernel`, `initrds.0`, `wim`, `bcd`, `bootSdi`. */
  readonly field: string;
  readonly reason: string;
}

/** Every declared path of `boot` with its field name, in declaration order. */
export function declaredBootPaths(boot: BootImageFiles): [field: string, path: string][] {
  if (boot.os === 'linux') return [['kernel', boot.kernel], ...(boot.initrds ?? []).map((p, i): [string, string] => [`initrds.${i}`, p])];
  return [['wim', boot.wim], ...(boot.bcd === undefined ? [] : [['bcd', boot.bcd] as [string, string]]), ...(boot.bootSdi === undefined ? [] : [['bootSdi', boot.bootSdi] as [string, string]])];
}

/** The first unsafe path `boot` declares, naming its field; null when all are safe. */
export function bootFilesProblem(boot: BootImageFiles): BootFilesProblem | null {
  if (boot.os === 'linux' && !Array.isArray(boot.initrds)) return { field: 'initrds', reason: 'must be a list of paths' };
  for (const [field, p] of declaredBootPaths(boot)) {
    const reason = bootFilePathProblem(p);
    if (reason) return { field, reason: `${JSON.stringify(String(p).slice(0, 200))} ${reason}` };
  }
  return null;
}
