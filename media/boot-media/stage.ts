/**
 * Lays out a media tree in a staging folder (model.ts LAYOUT): boot loaders and their
 * configuration, the header, the (sealed) variables file, and content by hash. Every format is
 * made from this one tree.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MediaContentSource, MediaContentVersion } from './content-source.js';
import { headerAad, sealJson } from './crypto.js';
import { fatSizeKiB, fillFat, makeFat } from './fat.js';
import { copyFileTo, under, writeStream } from './files.js';
import { planFiles, type EfiBootPlan } from './efi-boot.js';
import { buildGrubLoader, efiTarget } from './grub.js';
import { grubConfig, winpeIdentity } from './grub-config.js';
import { LAYOUT, type MediaContentEntry, type MediaHeader, type MediaSecrets } from './model.js';
import { mediaScript, syslinuxConfig, type ScriptTarget } from './script.js';
import { requireBootFile } from './tools.js';

export interface LoaderFiles {
  /** Overrides for the iPXE binaries (the site's boot-file store's ipxe.lkrn and ipxe.efi, when it has them). */
  readonly ipxeLkrn?: string;
  readonly ipxeEfi?: string;
}

const json = (v: unknown): string => `${JSON.stringify(v, null, 1)}\n`;

async function put(stage: string, rel: string, text: string): Promise<void> {
  const file = under(stage, rel);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text, { mode: 0o644 });
}

/** BIOS: isolinux (ISO) or syslinux (USB stick) starts ipxe.lkrn with the media's script, which asks the site. */
async function stageBiosLoaders(stage: string, target: ScriptTarget, loaders: LoaderFiles): Promise<void> {
  await copyFileTo(requireBootFile('ipxeLkrn', loaders.ipxeLkrn), under(stage, LAYOUT.ipxeLkrn));
  await copyFileTo(requireBootFile('isolinuxBin'), under(stage, `${LAYOUT.isolinuxDir}/isolinux.bin`));
  await copyFileTo(requireBootFile('ldlinux'), under(stage, `${LAYOUT.isolinuxDir}/ldlinux.c32`));
  const cfg = syslinuxConfig(target.mediaId);
  await put(stage, `${LAYOUT.isolinuxDir}/isolinux.cfg`, cfg);
  await put(stage, LAYOUT.syslinuxCfg, cfg);
  await put(stage, LAYOUT.biosScript, mediaScript(target, false));
}

/** x64 media carry iPXE for UEFI too, as GRUB's second menu entry (Debian's ipxe.efi is x64 only). */
export const withEfiIpxe = (architecture: string): boolean => architecture === 'x64';

/**
 * UEFI: GRUB (EFI/BOOT/BOOTX64.EFI, or the architecture's name) starts the boot image from the
 * media (efi-boot.ts, grub-config.ts); boot-file store files it needs are copied in. iPXE with
 * the media's script (EFI/BOOT/ipxe.efi, autoexec.ipxe) is the menu's other entry.
 */
async function stageUefiLoaders(stage: string, target: ScriptTarget, plan: EfiBootPlan, loaders: LoaderFiles): Promise<void> {
  for (const f of planFiles(plan)) if (f.from) await copyFileTo(f.from, under(stage, f.media));
  if (plan.os === 'winpe') await put(stage, LAYOUT.winpeIdentity, winpeIdentity(target));
  const ipxe = withEfiIpxe(target.architecture);
  await put(stage, LAYOUT.grubConfig, grubConfig(target, plan, { ipxe }));
  await buildGrubLoader(under(stage, efiTarget(target.architecture).loader), under(stage, LAYOUT.grubConfig), target.architecture);
  if (!ipxe) return;
  await copyFileTo(requireBootFile('ipxeEfi', loaders.ipxeEfi), under(stage, LAYOUT.efiIpxe));
  const efiScript = mediaScript(target, true);
  await put(stage, LAYOUT.efiScript, efiScript);
  await put(stage, LAYOUT.efiScriptRoot, efiScript);
}

/** The boot loaders of both firmware kinds and their configuration. */
export async function stageLoaders(stage: string, target: ScriptTarget, plan: EfiBootPlan, loaders: LoaderFiles = {}): Promise<void> {
  await stageBiosLoaders(stage, target, loaders);
  await stageUefiLoaders(stage, target, plan, loaders);
}

/** The ISO's El Torito UEFI entry: a FAT image holding the EFI loader (GRUB), and iPXE with its script. */
export async function stageEfiImage(stage: string, architecture: string): Promise<void> {
  const paths = [efiTarget(architecture).loader, ...(withEfiIpxe(architecture) ? [LAYOUT.efiIpxe, LAYOUT.efiScript, LAYOUT.efiScriptRoot] : [])];
  const files = paths.map((p) => ({ target: p, source: under(stage, p) }));
  const sizes = await Promise.all(files.map(async (f) => (await stat(f.source)).size));
  const image = under(stage, LAYOUT.efiImage);
  await makeFat(image, { sizeKiB: fatSizeKiB(sizes, 1440), label: 'OSDEPLOYEFI' });
  await fillFat(image, files);
}

/** osdeploy/media.json and osdeploy/variables.json: sealed with the password when there is one. */
export async function stageHeader(stage: string, header: MediaHeader, secrets: MediaSecrets, password: string | null): Promise<void> {
  await put(stage, LAYOUT.header, json(header));
  const body = password
    ? sealJson(secrets, password, headerAad(header))
    : { format: 'osdeploy-media-variables', version: 1, protected: false, ...secrets };
  await put(stage, LAYOUT.variables, json(body));
}

export interface ContentToStage {
  readonly content: MediaContentVersion;
  readonly root: 'content' | 'os';
}

/**
 * Content by hash under content/ (each blob once), or laid out by path under os/ (the
 * prestaged OS image). `onBytes` sees every byte written, for progress.
 */
export async function stageContent(stage: string, items: readonly ContentToStage[], source: MediaContentSource, onBytes?: (n: number) => void): Promise<MediaContentEntry[]> {
  const written = new Set<string>();
  const entries: MediaContentEntry[] = [];
  for (const { content: c, root } of items) {
    for (const f of c.files) {
      const rel = root === 'os' ? `${LAYOUT.osImage}/${f.path}` : `${LAYOUT.blobs}/${f.sha256}`;
      if (written.has(rel)) continue;
      written.add(rel);
      await writeStream(await source.open(f.sha256), under(stage, rel), onBytes);
    }
    entries.push({ id: c.id, kind: c.kind, name: c.name, version: c.version, manifestSha256: c.manifestSha256, root, files: c.files.map(({ path: p, sha256, size }) => ({ path: p, sha256, size })) });
  }
  await put(stage, LAYOUT.content, json({ format: 'osdeploy-media-content', content: entries }));
  return entries;
}

export const contentBytes = (items: readonly ContentToStage[]): number => {
  const seen = new Set<string>();
  let n = 0;
  for (const { content, root } of items)
    for (const f of content.files) {
      const key = root === 'os' ? `os:${f.path}` : f.sha256;
      if (!seen.has(key)) n += f.size;
      seen.add(key);
    }
  return n;
};
