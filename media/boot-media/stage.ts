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
import { LAYOUT, type MediaContentEntry, type MediaHeader, type MediaSecrets } from './model.js';
import { mediaScript, syslinuxConfig, type ScriptTarget } from './script.js';
import { requireBootFile } from './tools.js';

export interface LoaderFiles {
  /** Overrides for the iPXE binaries (e.g. a newer ipxe.efi from the boot-file store). */
  readonly ipxeLkrn?: string;
  readonly ipxeEfi?: string;
}

const json = (v: unknown): string => `${JSON.stringify(v, null, 1)}\n`;

async function put(stage: string, rel: string, text: string): Promise<void> {
  const file = under(stage, rel);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text, { mode: 0o644 });
}

/** iPXE for BIOS (isolinux → ipxe.lkrn + script) and UEFI (EFI/BOOT/BOOTX64.EFI + autoexec.ipxe). */
export async function stageLoaders(stage: string, target: ScriptTarget, loaders: LoaderFiles = {}): Promise<void> {
  await copyFileTo(requireBootFile('ipxeLkrn', loaders.ipxeLkrn), under(stage, LAYOUT.ipxeLkrn));
  await copyFileTo(requireBootFile('ipxeEfi', loaders.ipxeEfi), under(stage, LAYOUT.efiLoader));
  await copyFileTo(requireBootFile('isolinuxBin'), under(stage, `${LAYOUT.isolinuxDir}/isolinux.bin`));
  await copyFileTo(requireBootFile('ldlinux'), under(stage, `${LAYOUT.isolinuxDir}/ldlinux.c32`));
  const cfg = syslinuxConfig(target.mediaId);
  await put(stage, `${LAYOUT.isolinuxDir}/isolinux.cfg`, cfg);
  await put(stage, LAYOUT.syslinuxCfg, cfg);
  await put(stage, LAYOUT.biosScript, mediaScript(target, false));
  const efiScript = mediaScript(target, true);
  await put(stage, LAYOUT.efiScript, efiScript);
  await put(stage, LAYOUT.efiScriptRoot, efiScript);
}

/** The ISO's El Torito UEFI entry: a FAT image holding the EFI loader and its script. */
export async function stageEfiImage(stage: string): Promise<void> {
  const files = [LAYOUT.efiLoader, LAYOUT.efiScript, LAYOUT.efiScriptRoot].map((p) => ({ target: p, source: under(stage, p) }));
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
