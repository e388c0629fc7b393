/**
 * Brings an export's content (`NAME_files/<key>/…`) into the single-instance store, verifying
 * every file against the sha256 and size the export lists. The folder is foreign
 * input: content/walk.ts refuses links out of it, the file set must be exactly the listed one,
 * and the store refuses bytes that do not hash to the listed value. Blobs go in before the
 * import's transaction; they are addressed by hash, so those left by a failed import are
 * harmless — nothing refers to them, and a later import of the same bytes reuses them.
 */
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { isContentError } from '../../../content/errors.js';
import type { VersionFile } from '../../../content/model.js';
import type { ContentStore } from '../../../content/store.js';
import { openWalkedFile, walkFolder } from '../../../content/walk.js';
import { invalid, refused } from '../../../policy/errors.js';

/** The clear error for an export whose content folder did not travel with it. */
export function missingFilesFolder(filesDir: string, zipPath: string): Error {
  const name = path.basename(filesDir);
  return invalid(
    `the export's content folder ${name} is missing: content was exported, so ${name}/ must sit beside ${path.basename(zipPath)} (${filesDir}); copy the .zip and its ${name} folder together`,
    'filesFolder',
    'R-28',
  );
}

export async function isFolder(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isDirectory(), () => false);
}

export interface Ingested {
  readonly files: number;
  readonly bytes: number;
  /** Blobs the store did not have before. */
  readonly stored: number;
}

/** Verifies `filesDir/key` holds exactly `files` and puts each into `store`. */
export async function ingestContentFiles(store: ContentStore, filesDir: string, key: string, files: readonly VersionFile[]): Promise<Ingested> {
  const folder = path.basename(filesDir);
  const where = `${folder}/${key}`;
  const keyDir = path.join(filesDir, key);
  if (!(await isFolder(keyDir))) throw invalid(`${where} is missing from the export's content folder`, 'filesFolder', 'R-28');
  // The key folder itself must not be a link out of NAME_files (walkFolder guards below it).
  const [root, real] = await Promise.all([realpath(filesDir), realpath(keyDir)]);
  if (path.dirname(real) !== root) throw refused(`${where} points outside ${folder}`, 'R-32', 'filesFolder');
  let walked;
  try {
    walked = await walkFolder(keyDir);
  } catch (e) {
    throw refused(`${where}: ${(e as Error).message}`, 'R-32', 'filesFolder');
  }
  const expected = new Map(files.map((f) => [f.path, f]));
  for (const w of walked) if (!expected.has(w.path)) throw refused(`${where}/${w.path} is not a file the export lists`, 'R-32', 'filesFolder');
  const present = new Set(walked.map((w) => w.path));
  for (const f of files) if (!present.has(f.path)) throw invalid(`${where}/${f.path} is missing`, 'filesFolder', 'R-28');
  let bytes = 0;
  let stored = 0;
  for (const w of walked) {
    const f = expected.get(w.path)!;
    const stream = await openWalkedFile(w);
    try {
      const r = await store.put(stream, { sha256: f.sha256, size: f.size });
      bytes += r.size;
      if (r.stored) stored++;
    } catch (e) {
      if (isContentError(e, 'hash-mismatch') || isContentError(e, 'size-mismatch'))
        throw refused(`${where}/${w.path} does not match the export: it lists ${f.size} bytes with sha256 ${f.sha256} (${e.message})`, 'R-32', 'filesFolder');
      throw e;
    } finally {
      stream.destroy();
    }
  }
  return { files: walked.length, bytes, stored };
}
