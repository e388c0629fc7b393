/**
 * FAT filesystem images without loop devices or root: mkfs.vfat -C makes the image file,
 * mtools (mmd, mcopy) fill it. Used for the ISO's EFI system image and the prestaged disk.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { runTool } from './tools.js';

export interface FatFile {
  /** Path inside the filesystem, '/'-separated, e.g. EFI/BOOT/BOOTX64.EFI. */
  readonly target: string;
  readonly source: string;
}

export interface FatOptions {
  readonly sizeKiB: number;
  readonly label: string;
  /** FAT32 for the prestaged disk (large files, Windows-readable); mkfs.vfat chooses otherwise. */
  readonly fat32?: boolean;
}

/** Creates `image` (replacing it) and formats it. */
export async function makeFat(image: string, o: FatOptions): Promise<void> {
  await rm(image, { force: true });
  const args = ['-C', '-n', o.label.slice(0, 11).toUpperCase(), ...(o.fat32 ? ['-F', '32'] : []), image, String(Math.ceil(o.sizeKiB))];
  await runTool('mkfs.vfat', args);
}

/** Makes every directory the files need, then copies them in, in order. */
export async function fillFat(image: string, files: readonly FatFile[]): Promise<void> {
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.target.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const sorted = [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1));
  // mmd and mcopy take many arguments at once; batches keep command lines short.
  for (let i = 0; i < sorted.length; i += 200) await runTool('mmd', ['-i', image, ...sorted.slice(i, i + 200).map((d) => `::/${d}`)]);
  for (const f of files) await runTool('mcopy', ['-o', '-i', image, f.source, `::/${f.target}`]);
}

/** Copies a whole tree into the filesystem's root in one mcopy (fast for many files). */
export async function fillFatTree(image: string, root: string): Promise<void> {
  const top = (await readdir(root)).sort().map((n) => path.join(root, n));
  if (top.length) await runTool('mcopy', ['-s', '-o', '-i', image, ...top, '::/']);
}

/**
 * KiB a set of files needs on FAT, plus room for directories and FATs. mkfs.vfat uses clusters
 * of at most 4 KiB up to 8 GiB and up to 32 KiB above; counting with those is an upper bound.
 */
export function fatSizeKiB(sizes: readonly number[], minKiB: number): number {
  const total = sizes.reduce((n, s) => n + s, 0);
  const cluster = total > 7 * 2 ** 30 ? 32768 : 4096;
  const clusters = sizes.reduce((n, s) => n + Math.max(1, Math.ceil(s / cluster)), 0);
  const data = (clusters * cluster) / 1024 + sizes.length * 2;
  return Math.max(minKiB, Math.ceil((data * 1.05 + 1024) / 1024) * 1024);
}
