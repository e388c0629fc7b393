/**
 * What UEFI machines start from boot media: the boot image itself, read from the media
 * by GRUB, instead of iPXE asking the site. The boot image's content record declares its boot
 * files (`boot`) as paths the site serves at /boot/…: `content/<id>/<version|latest>/<path>`
 * is a file of the boot image's content, on the media at content/<sha256>; any other path is a
 * file of the boot-file store (DATA_DIR/tftproot), which the build copies to boot/files/<path>.
 * The same paths as a network boot, so both start the same bytes. What cannot be found is a
 * refusal before the build starts, never media that only boot on BIOS.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BootImageFiles } from '../../policy/content-refs.js';
import { safePath } from '../ipxe/script.js';
import type { MediaContentVersion } from './content-source.js';
import { LAYOUT, MediaError } from './model.js';

/** A file the UEFI loader reads: its path on the media, and the file the build copies there (store files). */
export interface EfiBootFile {
  readonly media: string;
  readonly from?: string;
}

export type EfiBootPlan =
  | { readonly os: 'linux'; readonly bootImageId: string; readonly kernel: EfiBootFile; readonly initrds: readonly EfiBootFile[]; readonly cmdline: string }
  | { readonly os: 'winpe'; readonly bootImageId: string; readonly wimboot: EfiBootFile; readonly bcd?: EfiBootFile; readonly bootSdi?: EfiBootFile; readonly wim: EfiBootFile };

export interface EfiBootSource {
  readonly bootImageId: string;
  readonly architecture: string;
  /** The boot image's `boot` declaration; null when it has none. */
  readonly boot: BootImageFiles | null;
  /** The boot image's content as it goes on the media. */
  readonly content: MediaContentVersion | undefined;
  /** The site's boot-file store; null when there is none (then only content/… paths resolve). */
  readonly bootFileRoot: string | null;
}

const refuse = (message: string): MediaError => new MediaError('invalid', message);

function fromContent(src: EfiBootSource, what: string, declared: string, segments: readonly string[]): EfiBootFile {
  const [id = '', ref = '', ...rest] = segments;
  const c = src.content;
  if (id.toLowerCase() !== src.bootImageId.toLowerCase() || !c) {
    throw refuse(`boot image ${src.bootImageId} declares its ${what} as ${declared}, which is not its own content; boot media carry only the boot image's content`);
  }
  if (ref.toLowerCase() !== 'latest' && ref !== String(c.version)) {
    throw refuse(`boot image ${src.bootImageId} declares its ${what} in version ${ref} (${declared}); the media carry version ${c.version ?? 'none'}, the current one: declare it under content/${src.bootImageId}/latest/`);
  }
  const want = rest.join('/');
  const file = c.files.find((f) => f.path === want) ?? c.files.find((f) => f.path.toLowerCase() === want.toLowerCase());
  if (!file) throw refuse(`boot image ${src.bootImageId} has no file ${want} in version ${c.version ?? 'none'} (its ${what}, ${declared})`);
  return { media: `${LAYOUT.blobs}/${file.sha256}` };
}

function fromStore(src: EfiBootSource, what: string, declared: string): EfiBootFile {
  const file = src.bootFileRoot === null ? null : path.join(src.bootFileRoot, ...declared.split('/'));
  if (!file || !existsSync(file) || !statSync(file).isFile()) {
    throw refuse(`boot image ${src.bootImageId}'s ${what} ${declared} is not in the boot-file store (DATA_DIR/tftproot): import it there, or declare it as content/${src.bootImageId}/latest/<path>`);
  }
  return { media: `${LAYOUT.bootFiles}/${declared}`, from: file };
}

/** Where one declared boot file is on the media. */
export function resolveBootFile(src: EfiBootSource, what: string, declared: string): EfiBootFile {
  try {
    safePath(declared);
  } catch {
    throw refuse(`boot image ${src.bootImageId}'s ${what} ${JSON.stringify(declared)} is not a safe boot-file path`);
  }
  const segments = declared.split('/');
  return segments[0]!.toLowerCase() === 'content' ? fromContent(src, what, declared, segments.slice(1)) : fromStore(src, what, declared);
}

/** How UEFI machines start this boot image from the media, or an `invalid` error saying why they cannot. */
export function planEfiBoot(src: EfiBootSource): EfiBootPlan {
  const b = src.boot;
  if (!b) {
    throw refuse(`boot image ${src.bootImageId} declares no boot files (its content record's \`boot\`), so UEFI machines cannot start it from the media: set boot to {"os": "linux", "kernel", "initrds", "cmdline"} or {"os": "winpe", "wim", "bcd", "bootSdi"}`);
  }
  if (b.os === 'linux') {
    return {
      os: 'linux',
      bootImageId: src.bootImageId,
      kernel: resolveBootFile(src, 'kernel', b.kernel),
      initrds: b.initrds.map((i) => resolveBootFile(src, 'initrd', i)),
      cmdline: b.cmdline,
    };
  }
  // The store's wimboot is the BIOS and x64 UEFI build, the one iPXE starts for a network boot.
  if (src.architecture !== 'x64') throw refuse(`Windows PE boot image ${src.bootImageId} is ${src.architecture}; boot media start Windows PE through wimboot on x64 only`);
  const wimboot = src.bootFileRoot === null ? null : path.join(src.bootFileRoot, 'wimboot');
  if (!wimboot || !existsSync(wimboot)) {
    throw refuse(`Windows PE boot image ${src.bootImageId} starts through wimboot on UEFI media, and the boot-file store has none: import it (osdeploy boot-files import DIR, with DIR holding wimboot)`);
  }
  return {
    os: 'winpe',
    bootImageId: src.bootImageId,
    wimboot: { media: `${LAYOUT.bootFiles}/wimboot`, from: wimboot },
    ...(b.bcd ? { bcd: resolveBootFile(src, 'BCD', b.bcd) } : {}),
    ...(b.bootSdi ? { bootSdi: resolveBootFile(src, 'boot.sdi', b.bootSdi) } : {}),
    wim: resolveBootFile(src, 'boot.wim', b.wim),
  };
}

/** Every file of the plan, in boot order. */
export function planFiles(plan: EfiBootPlan): EfiBootFile[] {
  if (plan.os === 'linux') return [plan.kernel, ...plan.initrds];
  return [plan.wimboot, ...(plan.bcd ? [plan.bcd] : []), ...(plan.bootSdi ? [plan.bootSdi] : []), plan.wim];
}
