/**
 * The UEFI loader of boot media: GRUB from Debian (`grub-efi-amd64-bin`, `grub-efi-ia32-bin`,
 * `grub-efi-arm64-bin`, with `grub-common`'s grub-mkimage), built at media build time with the
 * media's configuration (grub-config.ts) in its memdisk and only the modules that configuration
 * uses. Each architecture has the removable-media name its firmware looks for; media for an
 * architecture whose GRUB modules are not installed are refused, never given another's loader.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { MediaError } from './model.js';
import { requireTool, runTool } from './tools.js';

export interface EfiTarget {
  /** grub-mkimage's -O. */
  readonly format: string;
  /** The removable-media path UEFI firmware starts (UEFI spec 2.10, 3.5.1.1). */
  readonly loader: string;
  readonly modules: string;
  readonly install: string;
}

const GRUB_LIB = '/usr/lib/grub';

export const EFI_TARGETS: Readonly<Record<string, EfiTarget>> = {
  x64: { format: 'x86_64-efi', loader: 'EFI/BOOT/BOOTX64.EFI', modules: `${GRUB_LIB}/x86_64-efi`, install: 'apt-get install grub-efi-amd64-bin grub-common' },
  x86: { format: 'i386-efi', loader: 'EFI/BOOT/BOOTIA32.EFI', modules: `${GRUB_LIB}/i386-efi`, install: 'apt-get install grub-efi-ia32-bin grub-common' },
  arm64: { format: 'arm64-efi', loader: 'EFI/BOOT/BOOTAA64.EFI', modules: `${GRUB_LIB}/arm64-efi`, install: 'apt-get install grub-efi-arm64-bin grub-common' },
};

/**
 * What the configuration needs, all built in: filesystems and partition tables the media may be
 * on (ISO 9660 on a CD or a dd'ed stick, FAT on a USB folder or the prestaged disk), `search`,
 * the loaders, the menu and script commands (normal, echo, sleep, minicmd's `exit`), and the
 * memdisk holding grub.cfg. all_video gives the kernel a framebuffer. Nothing is left to load
 * from disk, so GRUB never probes for modules it does not have (and prints no errors for them).
 */
const MODULES = ['memdisk', 'tar', 'part_gpt', 'part_msdos', 'iso9660', 'fat', 'search', 'search_fs_file', 'normal', 'test', 'echo', 'sleep', 'minicmd', 'linux', 'chain', 'all_video'];

export function efiTarget(architecture: string): EfiTarget {
  const t = EFI_TARGETS[architecture];
  if (!t) throw new MediaError('invalid', `no UEFI loader for architecture ${JSON.stringify(architecture)} (x86, x64 or arm64)`);
  return t;
}

/** Fails when grub-mkimage or this architecture's GRUB modules are missing, naming the install command. */
export function requireGrub(architecture: string): EfiTarget {
  const t = efiTarget(architecture);
  if (!existsSync(`${t.modules}/linux.mod`)) throw new MediaError('tool-missing', `GRUB for ${t.format} (${t.modules}) is missing, needed for ${architecture} UEFI media; install it with: ${t.install}`);
  requireTool('grub-mkimage');
  return t;
}

/** A tar holding only boot/grub/grub.cfg: GRUB's memdisk, its $prefix. */
async function memdisk(file: string, config: Buffer): Promise<void> {
  const pack = tar.pack();
  const mtime = new Date(0);
  for (const d of ['boot/', 'boot/grub/']) pack.entry({ name: d, type: 'directory', mode: 0o755, mtime });
  pack.entry({ name: 'boot/grub/grub.cfg', size: config.length, mode: 0o644, mtime }, config);
  pack.finalize();
  await pipeline(pack, createWriteStream(file));
}

/** Builds the EFI loader at `out` with the file `config` as its grub.cfg, read from its memdisk. */
export async function buildGrubLoader(out: string, config: string, architecture: string): Promise<void> {
  const t = requireGrub(architecture);
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'osdeploy-grub-'));
  try {
    const disk = path.join(scratch, 'memdisk.tar');
    await memdisk(disk, await readFile(config));
    await runTool('grub-mkimage', ['-O', t.format, '-d', t.modules, '-o', out, '-p', '(memdisk)/boot/grub', '-m', disk, ...MODULES]);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
