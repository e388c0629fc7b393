/**
 * Walks a source folder for import. The folder is the trust boundary: nothing outside it is
 * read. Symlinks are followed only to regular files inside the folder; one pointing out (or to a
 * directory, which could loop) refuses the import rather than silently leaving a file out.
 * Special files (FIFOs, sockets, devices) are skipped: they have no content to version.
 */
import { constants } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ContentError } from './errors.js';
import { comparePaths, normaliseContentPath } from './paths.js';

export interface WalkedFile {
  /** Normalised content path (content/paths.ts). */
  readonly path: string;
  /** The real file to read: the entry itself, or a symlink's target inside the folder. */
  readonly absolute: string;
  /** Identity seen while walking; reading checks it so a file swapped afterwards is refused. */
  readonly dev: number;
  readonly ino: number;
}

/** Returns every file under `folder`, sorted by content path. */
export async function walkFolder(folder: string): Promise<WalkedFile[]> {
  let root: string;
  try {
    root = await realpath(folder);
    if (!(await stat(root)).isDirectory()) throw new ContentError('invalid', `source ${folder} is not a folder`);
  } catch (e) {
    if (e instanceof ContentError) throw e;
    throw new ContentError('not-found', `source folder ${folder} cannot be read`, { cause: e });
  }
  const out: WalkedFile[] = [];
  await walkInto(root, root, '', out);
  out.sort((a, b) => comparePaths(a.path, b.path));
  refuseCollisions(out);
  return out;
}

async function walkInto(root: string, dir: string, rel: string, out: WalkedFile[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const absolute = path.join(dir, entry.name);
    // A `\` in a name becomes a separator: `boot\bcd` from a Windows copy means boot/bcd.
    const contentPath = normaliseContentPath(rel === '' ? entry.name : `${rel}/${entry.name}`);
    if (entry.isDirectory()) {
      await walkInto(root, absolute, contentPath, out);
    } else if (entry.isSymbolicLink()) {
      out.push(await followLink(root, absolute, contentPath));
    } else if (entry.isFile()) {
      const s = await stat(absolute);
      out.push({ path: contentPath, absolute, dev: s.dev, ino: s.ino });
    }
  }
}

async function followLink(root: string, link: string, contentPath: string): Promise<WalkedFile> {
  let target: string;
  try {
    target = await realpath(link);
  } catch (e) {
    throw new ContentError('invalid', `symlink ${contentPath} is broken`, { cause: e });
  }
  const inside = path.relative(root, target);
  if (inside === '' || inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) {
    throw new ContentError('hostile-path', `symlink ${contentPath} points outside the source folder`);
  }
  const s = await stat(target);
  if (!s.isFile()) throw new ContentError('invalid', `symlink ${contentPath} does not point to a file; only file links are followed`);
  return { path: contentPath, absolute: target, dev: s.dev, ino: s.ino };
}

/** Two names mapping to one path (`a\b` and `a/b`), or a path that is both file and folder. */
function refuseCollisions(files: readonly WalkedFile[]): void {
  const seen = new Set<string>();
  const dirs = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) throw new ContentError('hostile-path', `two source files map to ${f.path}`);
    seen.add(f.path);
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  for (const d of dirs) if (seen.has(d)) throw new ContentError('hostile-path', `${d} is both a file and a folder`);
}

// O_NOFOLLOW: a last-moment swap to a symlink fails to open; O_NONBLOCK: a swap to a FIFO cannot hang us.
const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** Opens a walked file for streaming, refusing it if it is no longer the file the walk saw. */
export async function openWalkedFile(file: WalkedFile): Promise<Readable> {
  const fh = await open(file.absolute, READ_FLAGS);
  try {
    const s = await fh.stat();
    if (!s.isFile() || s.dev !== file.dev || s.ino !== file.ino) {
      throw new ContentError('invalid', `${file.path} changed while being imported; import again`);
    }
  } catch (e) {
    await fh.close();
    throw e;
  }
  return fh.createReadStream({ highWaterMark: 1 << 20 });
}
