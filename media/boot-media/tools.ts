/**
 * The external programs media builds drive (DESIGN.md: xorriso as a child process, the FAT
 * images with dosfstools and mtools). Each is looked up on PATH before use, and a missing one
 * is an error that says which Debian packages to install.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { MediaError } from './model.js';

/** Program → the apt-get command that provides it (and the boot files it goes with). */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  xorriso: 'apt-get install xorriso isolinux',
  'mkfs.vfat': 'apt-get install dosfstools',
  mcopy: 'apt-get install mtools',
  mmd: 'apt-get install mtools',
  sfdisk: 'apt-get install fdisk',
  'grub-mkimage': 'apt-get install grub-efi-amd64-bin grub-common',
};

/** Boot files from Debian packages the media carries. */
export const BOOT_FILES = {
  isolinuxBin: { path: '/usr/lib/ISOLINUX/isolinux.bin', install: 'apt-get install isolinux' },
  isohdpfx: { path: '/usr/lib/ISOLINUX/isohdpfx.bin', install: 'apt-get install isolinux' },
  ldlinux: { path: '/usr/lib/syslinux/modules/bios/ldlinux.c32', install: 'apt-get install syslinux-common' },
  ipxeLkrn: { path: '/usr/lib/ipxe/ipxe.lkrn', install: 'apt-get install ipxe' },
  ipxeEfi: { path: '/usr/lib/ipxe/ipxe.efi', install: 'apt-get install ipxe' },
} as const;

const SEARCH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The program's full path, or null. sbin directories are searched too (mkfs.vfat, sfdisk). */
export function findTool(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SEARCH];
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

export function requireTool(name: string): string {
  const file = findTool(name);
  if (!file) throw new MediaError('tool-missing', `${name} is not installed; install it with: ${TOOL_PACKAGES[name] ?? `apt-get install ${name}`}`);
  return file;
}

/** A boot file the media needs, from `override` when given, else its Debian package path. */
export function requireBootFile(which: keyof typeof BOOT_FILES, override?: string): string {
  const spec = BOOT_FILES[which];
  const file = override ?? spec.path;
  if (!existsSync(file)) throw new MediaError('tool-missing', `${file} is missing; install it with: ${spec.install}`);
  return file;
}

export interface ToolResult {
  readonly stdout: string;
  readonly stderr: string;
}

export interface ToolOptions {
  readonly input?: string;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /** Exit codes that are not failures (xorriso's extract answers 32 for "some files missing"). */
  readonly okCodes?: readonly number[];
}

const MAX_OUTPUT = 1024 * 1024;

/** Runs `name args…` to its end; a non-zero exit is a `tool-failed` error with the tail of stderr. */
export function runTool(name: string, args: readonly string[], opts: ToolOptions = {}): Promise<ToolResult> {
  const file = requireTool(name);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: opts.cwd, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C', MTOOLS_SKIP_CHECK: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (b: Buffer) => {
      if (stdout.length < MAX_OUTPUT) stdout += b.toString('utf8');
    });
    child.stderr?.on('data', (b: Buffer) => {
      if (stderr.length < MAX_OUTPUT) stderr += b.toString('utf8');
    });
    if (opts.input !== undefined) {
      child.stdin?.on('error', () => {});
      child.stdin?.end(opts.input);
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 10 * 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new MediaError('tool-failed', `${name} could not start: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 || (code !== null && opts.okCodes?.includes(code))) return resolve({ stdout, stderr });
      const tail = (stderr || stdout).trim().split('\n').slice(-6).join('\n');
      reject(new MediaError('tool-failed', `${name} ${signal ? `was killed (${signal})` : `exited with ${code}`}: ${tail}`));
    });
  });
}
