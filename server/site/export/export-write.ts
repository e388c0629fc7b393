/**
 * Writes an export to disk: `NAME.zip` and, when content is exported, `NAME_files/` beside
 * it with each content object's files at `NAME_files/<key>/<path>` — a real folder tree, so after
 * an import that folder is the package source and a later "update from source" reads the same
 * files (and makes no new version). Each file is hashed while it is copied out of the store, so
 * a damaged blob fails the export instead of producing one that fails on import.
 *
 * Both are written under temporary names and renamed when complete, the zip last: a zip that
 * exists is a whole export. An existing zip or folder is never overwritten. Owner-only, as
 * everything the site writes that others must not read: files 0600, folders 0700.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContentStore } from '../../../content/store.js';
import { conflict, invalid } from '../../../policy/errors.js';
import { zipStream } from './archive-write.js';
import type { ExportBundle } from './export.js';
import { PRIVATE_DIR, PRIVATE_FILE } from '../private-files.js';

/** `/x/NAME.zip` → `/x/NAME_files` (the seed's *export*_files). */
export function filesFolderOf(zipPath: string): string {
  const base = path.basename(zipPath).replace(/\.zip$/i, '');
  return path.join(path.dirname(zipPath), `${base}_files`);
}

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

/** A transform that hashes what passes and fails at the end unless it hashed to `sha256`. */
export function verifying(sha256: string, size: number, label: string): Transform {
  const hash = createHash('sha256');
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      seen += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      const got = hash.digest('hex');
      if (seen !== size || got !== sha256) done(invalid(`${label}: expected ${size} bytes with sha256 ${sha256}, got ${seen} bytes with sha256 ${got}`, 'content', 'R-27'));
      else done();
    },
  });
}

export interface WrittenExport {
  readonly zip: string;
  readonly filesFolder: string | null;
  readonly files: number;
  readonly bytes: number;
}

export async function writeExport(store: ContentStore, bundle: ExportBundle, zipPath: string, opts: { forceZip64?: boolean } = {}): Promise<WrittenExport> {
  const filesDir = bundle.manifest.includesContent ? filesFolderOf(zipPath) : null;
  if (await exists(zipPath)) throw conflict(`${zipPath} already exists`, 'path');
  if (filesDir && (await exists(filesDir))) throw conflict(`${filesDir} already exists`, 'path');
  await mkdir(path.dirname(zipPath), { recursive: true, mode: PRIVATE_DIR });
  const tag = `.partial-${process.pid}-${randomBytes(6).toString('hex')}`;
  const tmpZip = `${zipPath}${tag}`;
  const tmpFiles = filesDir ? `${filesDir}${tag}` : null;
  let files = 0;
  let bytes = 0;
  try {
    if (tmpFiles) {
      await mkdir(tmpFiles, { mode: PRIVATE_DIR });
      for (const c of bundle.content) {
        for (const f of c.files) {
          // Paths come from our own library (normalised on import), joined under the key's folder.
          const target = path.join(tmpFiles, c.key, ...f.path.split('/'));
          await mkdir(path.dirname(target), { recursive: true, mode: PRIVATE_DIR });
          await pipeline(await store.open(f.sha256), verifying(f.sha256, f.size, `${c.key}/${f.path}`), createWriteStream(target, { flags: 'wx', mode: PRIVATE_FILE }));
          files++;
          bytes += f.size;
        }
      }
    }
    await pipeline(zipStream(bundle.entries, { mtime: new Date(bundle.manifest.exportedAt), ...(opts.forceZip64 ? { forceZip64: true } : {}) }), createWriteStream(tmpZip, { flags: 'wx', mode: PRIVATE_FILE }));
    if (tmpFiles && filesDir) await rename(tmpFiles, filesDir);
    await rename(tmpZip, zipPath);
  } catch (e) {
    await rm(tmpZip, { force: true });
    if (tmpFiles) await rm(tmpFiles, { recursive: true, force: true });
    throw e;
  }
  return { zip: zipPath, filesFolder: filesDir, files, bytes };
}
