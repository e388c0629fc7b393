/**
 * The USB formats: a tar of the media tree, to unpack onto a FAT32 stick (the folder
 * format is the same tree, unpacked). Unpacking refuses links, absolute paths and `..`, so a
 * hostile archive cannot write outside its folder.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { under, walkFiles } from './files.js';
import { MediaError } from './model.js';

/** Streams every file under `root` into a tar written to `out`; `onBytes` sees the file bytes. */
export async function packFolder(root: string, out: Writable, mtime: Date, onBytes?: (n: number) => void): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, out);
  try {
    const files = await walkFiles(root);
    const dirs = new Set<string>();
    for (const f of files) {
      const parts = f.path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const d = parts.slice(0, i).join('/');
        if (dirs.has(d)) continue;
        dirs.add(d);
        await new Promise<void>((resolve, reject) => pack.entry({ name: `${d}/`, type: 'directory', mode: 0o755, mtime }, (e) => (e ? reject(e) : resolve())));
      }
      const entry = pack.entry({ name: f.path, size: f.size, mode: 0o644, mtime });
      const source = createReadStream(under(root, f.path));
      if (onBytes) source.on('data', (b) => onBytes((b as Buffer).length));
      await pipeline(source, entry);
    }
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
    await done.catch(() => undefined);
    throw e;
  }
  await done;
}

export async function packFolderToFile(root: string, file: string, mtime: Date, onBytes?: (n: number) => void): Promise<void> {
  await packFolder(root, createWriteStream(file, { mode: 0o644 }), mtime, onBytes);
}

const MAX_ENTRIES = 1_000_000;

/** Unpacks a media tar from `input` into `dir`; only plain files and folders, only inside `dir`. */
export async function unpackTar(input: Readable, dir: string, onBytes?: (n: number) => void): Promise<number> {
  const extract = tar.extract();
  const feed = pipeline(input, extract);
  feed.catch(() => undefined);
  let count = 0;
  try {
    for await (const entry of extract) {
      const { name, type } = entry.header;
      const rel = String(name).replace(/\/+$/, '');
      if (++count > MAX_ENTRIES) throw new MediaError('not-media', 'the archive has too many entries');
      let target: string;
      try {
        target = under(dir, rel);
      } catch {
        throw new MediaError('not-media', `the archive entry ${JSON.stringify(rel.slice(0, 120))} would land outside the folder`);
      }
      if (type === 'directory') {
        await mkdir(target, { recursive: true });
        entry.resume();
        continue;
      }
      if (type !== 'file') throw new MediaError('not-media', `the archive entry ${JSON.stringify(rel.slice(0, 120))} is a ${String(type)}; media holds only files`);
      await mkdir(path.dirname(target), { recursive: true });
      const body = Readable.from(entry);
      if (onBytes) body.on('data', (b: Buffer) => onBytes(b.length));
      await pipeline(body, createWriteStream(target, { mode: 0o644 }));
    }
    await feed;
  } catch (e) {
    input.destroy();
    if (e instanceof MediaError) throw e;
    throw new MediaError('not-media', `the archive is truncated or not a tar (${(e as Error).message})`);
  }
  return count;
}
