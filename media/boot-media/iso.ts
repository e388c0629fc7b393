/**
 * ISO images with xorriso: El Torito BIOS (isolinux, boot info table) and UEFI (the FAT
 * EFI system image) entries, hybrid (isohdpfx.bin MBR plus a GPT entry for the EFI image) so
 * the same file boots from a CD or written to a USB stick with dd. Reading back uses
 * xorriso's extraction (osirrox), so no mount and no root.
 */
import { chmod, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { LAYOUT, VOLUME_ID } from './model.js';
import { requireBootFile, runTool } from './tools.js';

export async function buildIso(stage: string, out: string, volumeId = VOLUME_ID): Promise<void> {
  const mbr = requireBootFile('isohdpfx');
  await runTool('xorriso', [
    '-as', 'mkisofs',
    '-o', out,
    '-V', volumeId,
    '-R', '-J', '-joliet-long',
    '-isohybrid-mbr', mbr,
    '-c', `${LAYOUT.isolinuxDir}/boot.cat`,
    '-b', `${LAYOUT.isolinuxDir}/isolinux.bin`, '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table',
    '-eltorito-alt-boot',
    '-e', LAYOUT.efiImage, '-no-emul-boot', '-isohybrid-gpt-basdat',
    stage,
  ]);
}

/** xorriso marks extracted files read-only; make the tree removable again. */
async function writable(target: string): Promise<void> {
  if (!(await stat(target)).isDirectory()) return chmod(target, 0o644);
  await chmod(target, 0o755);
  const dir = target;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await writable(p);
    else if (e.isFile()) await chmod(p, 0o644);
  }
}

/** Extracts the whole ISO into the folder `dir`, or one file of it (`inner`) to the file `dir`. */
export async function extractIso(iso: string, dir: string, inner = '/'): Promise<void> {
  await runTool('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', inner, dir]);
  await writable(dir);
}

/** Every file path on the ISO, relative, sorted. */
export async function listIso(iso: string): Promise<string[]> {
  const { stdout } = await runTool('xorriso', ['-indev', iso, '-find', '/', '-type', 'f']);
  return stdout
    .split('\n')
    .map((l) => l.trim().replace(/^'|'$/g, ''))
    .filter((l) => l.startsWith('/'))
    .map((l) => l.slice(1))
    .sort();
}

export interface ElToritoEntry {
  readonly platform: string;
  readonly path: string;
}

/** The boot entries, from `-report_el_torito plain`. */
export async function elToritoEntries(iso: string): Promise<{ entries: ElToritoEntry[]; report: string }> {
  const { stdout, stderr } = await runTool('xorriso', ['-indev', iso, '-report_el_torito', 'plain']);
  const report = `${stdout}\n${stderr}`;
  const platforms = new Map<string, string>();
  const paths = new Map<string, string>();
  for (const line of report.split('\n')) {
    const img = /^El Torito boot img :\s+(\d+)\s+(\S+)/.exec(line);
    if (img) platforms.set(img[1]!, img[2]!);
    const p = /^El Torito img path :\s+(\d+)\s+(\S+)/.exec(line);
    if (p) paths.set(p[1]!, p[2]!);
  }
  return { entries: [...platforms].map(([n, platform]) => ({ platform, path: paths.get(n) ?? '' })), report };
}
