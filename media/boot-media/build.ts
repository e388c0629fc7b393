/**
 * Builds one media: stage the tree, hash it into the manifest, then package it as
 * an ISO (xorriso), a folder, a tar, or a prestaged disk image. Progress events let the CLI
 * show long builds; every external program is checked for before any work starts.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { BootImageFiles } from '../../policy/content-refs.js';
import { packFolderToFile } from './archive.js';
import type { MediaContentSource } from './content-source.js';
import { buildDiskImage } from './disk.js';
import { planEfiBoot, type EfiBootPlan } from './efi-boot.js';
import { requireGrub } from './grub.js';
import { buildIso } from './iso.js';
import { writeManifest } from './manifest.js';
import { LAYOUT, MediaError, type MediaFormat, type MediaHeader, type MediaManifest, type MediaSecrets } from './model.js';
import type { ScriptTarget } from './script.js';
import { contentBytes, stageContent, stageEfiImage, stageHeader, stageLoaders, withEfiIpxe, type ContentToStage, type LoaderFiles } from './stage.js';
import { BOOT_FILES, requireBootFile, requireTool } from './tools.js';

export interface MediaBuildSpec {
  readonly header: MediaHeader;
  readonly format: MediaFormat;
  readonly secrets: MediaSecrets;
  readonly password: string | null;
  readonly script: ScriptTarget;
  readonly content: readonly ContentToStage[];
  readonly loaders?: LoaderFiles;
  /** The boot image's boot files (its content record's `boot`): UEFI machines start them from the media. */
  readonly bootFiles: BootImageFiles | null;
  /** The site's boot-file store (DATA_DIR/tftproot), for boot files not under content/; null when none. */
  readonly bootFileRoot: string | null;
}

export type BuildPhase = 'check' | 'loaders' | 'content' | 'manifest' | 'package' | 'done';

export interface BuildEvent {
  readonly phase: BuildPhase;
  readonly message: string;
  readonly done: number;
  readonly total: number;
}

export interface BuildResult {
  /** The ISO, tar or disk image file; for `folder`, the folder. */
  readonly output: string;
  readonly size: number;
  /** sha256 of the file; for a folder, of its manifest. */
  readonly sha256: string;
  readonly manifest: MediaManifest;
}

/** Fails before any work when a program or boot file the format and architecture need is missing. */
export function checkTools(format: MediaFormat, architecture: string, loaders: LoaderFiles = {}): void {
  const tools = format === 'iso' ? ['xorriso', 'mkfs.vfat', 'mmd', 'mcopy'] : format === 'raw' ? ['mkfs.vfat', 'mcopy', 'sfdisk'] : [];
  for (const t of tools) requireTool(t);
  requireGrub(architecture);
  for (const f of Object.keys(BOOT_FILES) as (keyof typeof BOOT_FILES)[]) {
    if (f === 'isohdpfx' && format !== 'iso') continue;
    if (f === 'ipxeEfi' && !withEfiIpxe(architecture)) continue;
    requireBootFile(f, f === 'ipxeLkrn' ? loaders.ipxeLkrn : f === 'ipxeEfi' ? loaders.ipxeEfi : undefined);
  }
}

/** How UEFI machines start the media's boot image, or why they cannot (checked before any work). */
export function efiBootOf(spec: MediaBuildSpec): EfiBootPlan {
  const { bootImageId, architecture } = spec.header;
  const content = spec.content.find((c) => c.content.id === bootImageId && c.root === 'content')?.content;
  return planEfiBoot({ bootImageId, architecture, boot: spec.bootFiles, content, bootFileRoot: spec.bootFileRoot });
}

async function fileSha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Blobs are named by their hash: the manifest's hash of each must be its name (a corrupt store shows here). */
function checkBlobs(manifest: MediaManifest): void {
  for (const f of manifest.files) {
    const m = new RegExp(`^${LAYOUT.blobs}/([0-9a-f]{64})$`).exec(f.path);
    if (m && m[1] !== f.sha256) throw new MediaError('tool-failed', `content blob ${m[1]} read from the content store hashes to ${f.sha256}; the store is corrupt (verify the content)`);
  }
}

/**
 * Builds into `work` (a scratch folder it may fill) and leaves the result at `out`. `work` is
 * removed at the end, also on failure.
 */
export async function buildMedia(spec: MediaBuildSpec, source: MediaContentSource, work: string, out: string, progress: (e: BuildEvent) => void = () => {}): Promise<BuildResult> {
  const { format } = spec;
  progress({ phase: 'check', message: 'checking tools', done: 0, total: 1 });
  checkTools(format, spec.header.architecture, spec.loaders);
  const efi = efiBootOf(spec);
  const stage = path.join(work, 'stage');
  await rm(work, { recursive: true, force: true });
  await mkdir(stage, { recursive: true });
  try {
    progress({ phase: 'loaders', message: 'boot loaders and variables', done: 0, total: 1 });
    await stageLoaders(stage, spec.script, efi, spec.loaders);
    await stageHeader(stage, spec.header, spec.secrets, spec.password);

    const total = contentBytes(spec.content);
    let done = 0;
    let last = 0;
    progress({ phase: 'content', message: `content: ${spec.content.length} object(s)`, done, total });
    await stageContent(stage, spec.content, source, (n) => {
      done += n;
      // At most one event per 1% (or 4 MiB for small totals), so a big image does not flood.
      if (done - last >= Math.max(total / 100, 4 * 2 ** 20) || done === total) {
        last = done;
        progress({ phase: 'content', message: 'copying content', done, total });
      }
    });
    if (format === 'iso') await stageEfiImage(stage, spec.header.architecture);

    const manifest = await writeManifest(stage, spec.header.id, (i, n) => {
      if (i === n || i % 50 === 0) progress({ phase: 'manifest', message: 'hashing every file', done: i, total: n });
    });
    checkBlobs(manifest);

    progress({ phase: 'package', message: `writing the ${format === 'raw' ? 'disk image' : format}`, done: 0, total: 1 });
    await rm(out, { recursive: true, force: true });
    await mkdir(path.dirname(out), { recursive: true });
    if (format === 'iso') await buildIso(stage, out);
    else if (format === 'tar') await packFolderToFile(stage, out, new Date(spec.header.createdAt));
    else if (format === 'raw') await buildDiskImage(stage, out, work, (message) => progress({ phase: 'package', message, done: 0, total: 1 }));
    else await rename(stage, out);

    const isFolder = format === 'folder';
    const size = isFolder ? manifest.files.reduce((n, f) => n + f.size, 0) : (await stat(out)).size;
    const sha256 = await fileSha256(isFolder ? path.join(out, ...LAYOUT.manifest.split('/')) : out);
    progress({ phase: 'done', message: `built ${path.basename(out)}`, done: 1, total: 1 });
    return { output: out, size, sha256, manifest };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
