/**
 * Files the site writes that carry what others must not read: unprotected media hold
 * their client token and media variables, exports hold the site's task sequences. They are
 * written owner-only: files 0600 in folders 0700. Folders are made 0700 before anything is
 * written into them, so nothing inside is reachable by others even while it is being written.
 */
import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';

export const PRIVATE_FILE = 0o600;
export const PRIVATE_DIR = 0o700;

/** mkdir -p with mode 0700 for what it makes, and `dir` itself 0700 even when it existed. */
export async function privateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR });
  await chmod(dir, PRIVATE_DIR);
}

/** Files 0600 and folders 0700 under (and including) `target`; symbolic links are left alone. */
export async function restrictTree(target: string): Promise<void> {
  const st = await lstat(target);
  if (st.isSymbolicLink()) return;
  if (!st.isDirectory()) return chmod(target, PRIVATE_FILE);
  await chmod(target, PRIVATE_DIR);
  for (const e of await readdir(target)) await restrictTree(path.join(target, e));
}

/**
 * At start: DATA_DIR/media, each media's folder and DATA_DIR/exports become 0700, so media and
 * exports an older version wrote 0644 in 0755 folders are no longer readable by others.
 */
export function protectDataDirs(dataDir: string): void {
  const media = path.join(dataDir, 'media');
  for (const dir of [media, path.join(dataDir, 'exports')]) if (existsSync(dir)) chmodSync(dir, PRIVATE_DIR);
  if (!existsSync(media)) return;
  for (const e of readdirSync(media, { withFileTypes: true })) if (e.isDirectory()) chmodSync(path.join(media, e.name), PRIVATE_DIR);
}
