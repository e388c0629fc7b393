/**
 * Receives an export's content folder over HTTP as one tar stream (the CLI's `ts import` sends
 * NAME_files this way) and writes it to the import's own `NAME_files`. The tar is hostile input
 * only regular files whose name is exactly `<key>/<path>` of a file the export lists are
 * taken — every other name, a link, a size that differs from the listed one, a repeated entry
 * or bytes that do not hash to the listed sha256 refuses the upload, and what it wrote is
 * removed. The commit verifies the folder once more as it stores the files (files.ts).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { VersionFile } from '../../../content/model.js';
import { invalid } from '../../../policy/errors.js';
import { hostileName } from './archive-read.js';
import { verifying } from './export-write.js';

const refuse = (what: string) => invalid(`content upload refused: ${what}`, 'files', 'R-32');

/** `files`: by content key, what the export lists. Returns the count and bytes written. */
export async function receiveFilesTar(body: Readable, filesDir: string, files: ReadonlyMap<string, readonly VersionFile[]>): Promise<{ files: number; bytes: number }> {
  const expected = new Map<string, VersionFile & { key: string }>();
  for (const [key, list] of files) for (const f of list) expected.set(`${key}/${f.path}`, { ...f, key });
  const seen = new Set<string>();
  const extract = tar.extract();
  const feed = pipeline(body, extract);
  feed.catch(() => undefined); // reported through the iterator below
  let bytes = 0;
  try {
    // No await before this loop: tar-stream drops entries that arrive before it is iterated.
    for await (const entry of extract) {
      const { name, type, size } = entry.header;
      const shown = JSON.stringify(String(name).slice(0, 200));
      const hostile = hostileName(String(name));
      if (hostile) throw refuse(`entry ${shown} ${hostile}`);
      if (type === 'directory') {
        entry.resume();
        continue;
      }
      if (type !== 'file') throw refuse(`entry ${shown} is a ${String(type)}; only files are taken`);
      const f = expected.get(name);
      if (!f) throw refuse(`entry ${shown} is not a file the export lists`);
      if (seen.has(name)) throw refuse(`entry ${shown} appears twice`);
      seen.add(name);
      if (size !== f.size) throw refuse(`entry ${shown} is ${String(size)} bytes; the export lists ${f.size}`);
      // Names were matched exactly against listed, normalised paths: joining them stays inside.
      const target = path.join(filesDir, f.key, ...f.path.split('/'));
      const tmp = `${target}.partial-${randomBytes(6).toString('hex')}`;
      await mkdir(path.dirname(target), { recursive: true });
      try {
        await pipeline(Readable.from(entry), verifying(f.sha256, f.size, name), createWriteStream(tmp, { flags: 'wx' }));
      } catch (e) {
        await rm(tmp, { force: true });
        throw (e as { rule?: string }).rule ? refuse((e as Error).message) : e;
      }
      await rename(tmp, target);
      bytes += f.size;
    }
    await feed;
  } catch (e) {
    body.destroy();
    await rm(filesDir, { recursive: true, force: true });
    if ((e as { rule?: string }).rule) throw e;
    throw refuse(`the tar stream is truncated or corrupt (${(e as Error).message})`);
  }
  return { files: seen.size, bytes };
}
