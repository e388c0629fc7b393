/**
 * Where TFTP reads boot files from. `BootFileSource` is the small interface the service owns
 * (DESIGN.md lesson 5); `RootedFileSource` serves files from directories on disk.
 *
 * Rooted paths (DESIGN.md lesson 7, SPEC R-21): a request path is resolved under each root in
 * turn and can never leave it. `\` is a separator (Windows Boot Manager asks for `Boot\x64\BCD`),
 * a leading `/` is dropped (PXE ROMs often send `/pxelinux.0`), and each segment is matched
 * case-insensitively because Windows clients do not care about case while the store does.
 * `..` segments and NUL are refused outright; symlinks are followed only while the real path
 * stays inside the root. TFTP has no URL encoding, so `%2e%2e` is just a file name.
 */
import { constants, type Dirent } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';

export interface OpenFile {
  readonly size: number;
  /** The descriptor, when the file is a real open file (the native data path reads through it). */
  readonly fd?: number;
  /** Reads up to `buf.length` bytes at `position`; returns the count (0 at end of file). */
  read(buf: Buffer, position: number): Promise<number>;
  close(): Promise<void>;
}

export interface BootFileSource {
  /** The file, or null when no root has it. Throws `PathRefusedError` for a hostile path. */
  open(path: string): Promise<OpenFile | null>;
}

export type PathRefusal = 'nul' | 'dot-dot' | 'outside-root' | 'permission';

/** A request path that must not be served; the service answers "access violation". */
export class PathRefusedError extends Error {
  override readonly name = 'PathRefusedError';
  constructor(
    readonly reason: PathRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** Splits a TFTP path into segments, refusing what could escape a root. */
export function pathSegments(path: string): string[] {
  if (path.includes('\0')) throw new PathRefusedError('nul', 'path contains NUL');
  const segments = path
    .replace(/\\/g, '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new PathRefusedError('dot-dot', 'path contains a ".." segment');
  return segments;
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG' || code === 'ELOOP';
}

function within(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** Entry of `dir` named `name`: the exact name if present, else the first case-insensitive match. */
async function matchEntry(dir: string, name: string): Promise<string | null> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
  const lower = name.toLowerCase();
  let found: string | null = null;
  for (const e of entries) {
    if (e.name === name) return e.name;
    if (e.name.toLowerCase() === lower && (found === null || e.name < found)) found = e.name;
  }
  return found;
}

export class RootedFileSource implements BootFileSource {
  private readonly roots: readonly string[];
  private realRoots: Promise<(string | null)[]> | null = null;

  /** `roots` are searched in order; the first that holds the file serves it. */
  constructor(roots: readonly string[]) {
    this.roots = roots.map((r) => resolve(r));
  }

  private rootsResolved(): Promise<(string | null)[]> {
    // A root that does not exist (yet) is skipped rather than failing every request.
    this.realRoots ??= Promise.all(this.roots.map((r) => realpath(r).catch(() => null)));
    return this.realRoots;
  }

  async open(path: string): Promise<OpenFile | null> {
    const segments = pathSegments(path);
    if (segments.length === 0) return null;
    for (const root of await this.rootsResolved()) {
      if (root === null) continue;
      const found = await this.resolveIn(root, segments);
      if (found === null) continue;
      const file = await this.openChecked(root, found);
      if (file) return file;
    }
    return null;
  }

  /** Walks `segments` under `root`, trying the exact path first, then case-insensitively. */
  private async resolveIn(root: string, segments: readonly string[]): Promise<string | null> {
    const exact = resolve(root, ...segments);
    try {
      await stat(exact);
      return exact;
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    let dir = root;
    for (const segment of segments) {
      const name = await matchEntry(dir, segment);
      if (name === null) return null;
      dir = resolve(dir, name);
    }
    return dir;
  }

  /** Opens `candidate` if its real path stays in `root` and it is a regular file. */
  private async openChecked(root: string, candidate: string): Promise<OpenFile | null> {
    let real: string;
    try {
      real = await realpath(candidate);
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    if (!within(root, real)) throw new PathRefusedError('outside-root', 'path resolves outside the root');
    let handle;
    try {
      // O_NOFOLLOW: the real path has no symlink left to swap in; O_NONBLOCK: never hang on a FIFO.
      handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') throw new PathRefusedError('permission', 'file is not readable');
      if (isMissing(err)) return null;
      throw err;
    }
    const st = await handle.stat();
    if (!st.isFile()) {
      await handle.close();
      return null;
    }
    const fh = handle;
    return {
      size: st.size,
      fd: fh.fd,
      read: async (buf, position) => (await fh.read(buf, 0, buf.length, position)).bytesRead,
      close: () => fh.close(),
    };
  }
}
