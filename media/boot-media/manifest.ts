/**
 * The media's manifest: every file on it with its size and sha256, written last into
 * osdeploy/manifest.json, and checked again by `osdeploy media inspect`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256File, under, walkFiles } from './files.js';
import { LAYOUT, type ManifestEntry, type MediaManifest } from './model.js';

export async function writeManifest(stage: string, mediaId: string, onFile?: (done: number, total: number) => void): Promise<MediaManifest> {
  const files = (await walkFiles(stage)).filter((f) => f.path !== LAYOUT.manifest);
  const entries: ManifestEntry[] = [];
  for (const [i, f] of files.entries()) {
    entries.push({ path: f.path, size: f.size, sha256: await sha256File(under(stage, f.path)) });
    onFile?.(i + 1, files.length);
  }
  const manifest: MediaManifest = { format: 'osdeploy-media-manifest', mediaId, files: entries };
  const file = under(stage, LAYOUT.manifest);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}

export interface ManifestCheck {
  readonly ok: boolean;
  readonly checked: number;
  readonly missing: readonly string[];
  readonly changed: readonly string[];
  /** Files on the media the manifest does not list. */
  readonly extra: readonly string[];
  /** Differences the format explains (El Torito patches isolinux.bin; xorriso adds the boot catalog). */
  readonly expected: readonly string[];
}

/** Differences an ISO always has, with why. */
export const ISO_EXPECTED: Readonly<Record<string, string>> = {
  'isolinux/isolinux.bin': 'patched with the El Torito boot info table',
  'isolinux/boot.cat': 'the El Torito boot catalog, written by xorriso',
};

export async function checkManifest(root: string, manifest: MediaManifest, expected: Readonly<Record<string, string>> = {}): Promise<ManifestCheck> {
  const present = new Map((await walkFiles(root)).map((f) => [f.path, f.size]));
  const missing: string[] = [];
  const changed: string[] = [];
  const notes: string[] = [];
  for (const e of manifest.files) {
    const size = present.get(e.path);
    present.delete(e.path);
    if (size === undefined) {
      missing.push(e.path);
      continue;
    }
    if (size === e.size && (await sha256File(under(root, e.path))) === e.sha256) continue;
    if (expected[e.path]) notes.push(`${e.path}: ${expected[e.path]}`);
    else changed.push(e.path);
  }
  present.delete(LAYOUT.manifest);
  const extra: string[] = [];
  for (const p of present.keys()) {
    if (expected[p]) notes.push(`${p}: ${expected[p]}`);
    else extra.push(p);
  }
  return { ok: missing.length + changed.length + extra.length === 0, checked: manifest.files.length, missing, changed, extra, expected: notes };
}
