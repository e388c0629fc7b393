/** File helpers for media staging: sorted walks, hashing, streamed copies. */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface WalkedFile {
  /** '/'-separated, relative to the walked root. */
  readonly path: string;
  readonly size: number;
}

const byPath = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Every regular file under `root`, path-sorted; symlinks are not followed (nothing outside gets in). */
export async function walkFiles(root: string): Promise<WalkedFile[]> {
  const out: WalkedFile[] = [];
  const visit = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await visit(child);
      else if (e.isFile()) out.push({ path: child, size: (await stat(path.join(root, child))).size });
    }
  };
  await visit('');
  return out.sort((a, b) => byPath(a.path, b.path));
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Streams `source` into `file` (parents made), calling `onBytes` as it goes. */
export async function writeStream(source: Readable, file: string, onBytes?: (n: number) => void): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  if (onBytes) source.on('data', (b: Buffer) => onBytes(b.length));
  await pipeline(source, createWriteStream(file, { mode: 0o644 }));
}

export async function copyFileTo(from: string, to: string): Promise<void> {
  await writeStream(createReadStream(from), to);
}

/** A media path joined under `root`, refusing anything that would leave it. */
export function under(root: string, rel: string): string {
  if (rel.includes('\0') || rel.split('/').some((s) => s === '..' || s === '') || path.isAbsolute(rel)) throw new Error(`unsafe media path ${JSON.stringify(rel)}`);
  return path.join(root, ...rel.split('/'));
}
