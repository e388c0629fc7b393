/**
 * Filesystem ContentStore: blob `<sha256>` lives at `root/ab/cd/<sha256>` (two fan-out levels
 * keep directories small at millions of blobs). A put streams into `root/.tmp`, is hashed while
 * written, fsynced, then hard-linked into place, so a blob is either absent or whole.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, type Dirent } from 'node:fs';
import { link, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ContentError } from './errors.js';
import {
  assertSha256,
  checkExpectation,
  checkFinal,
  checkRange,
  checkRunningSize,
  isSha256,
  toBytes,
  type ByteRange,
  type ContentStore,
  type PutExpectation,
  type PutResult,
} from './store.js';

const TMP_DIR = '.tmp';
const READ_CHUNK = 1 << 20;
/** Large puts start a datasync every this many bytes (see put). */
const FLUSH_EVERY = 64 * 1024 * 1024;
const FAN = /^[0-9a-f]{2}$/;
/** Filesystems without hard links (some FUSE and SMB mounts) answer with one of these. */
const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

const errCode = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | null)?.code;

export class FsContentStore implements ContentStore {
  readonly root: string;
  readonly #tmp: string;

  /**
   * Creates the root if needed and removes temp files left by a crashed put. Synchronous on
   * purpose: it runs once at startup, before the store is shared.
   */
  constructor(root: string) {
    this.root = path.resolve(root);
    this.#tmp = path.join(this.root, TMP_DIR);
    mkdirSync(this.#tmp, { recursive: true });
    removeStaleTemps(this.#tmp);
  }

  /** Where a blob lives; validates the hash first so no other string ever becomes a path. */
  pathOf(sha256: string): string {
    assertSha256(sha256);
    return path.join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async stat(sha256: string): Promise<{ size: number } | null> {
    const file = this.pathOf(sha256);
    try {
      const s = await stat(file);
      return s.isFile() ? { size: s.size } : null;
    } catch (e) {
      if (errCode(e) === 'ENOENT') return null;
      throw e;
    }
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.stat(sha256)) !== null;
  }

  async open(sha256: string, range?: ByteRange): Promise<Readable> {
    const fh = await this.#openBlob(sha256);
    try {
      // Size from the open handle, not the path: a concurrent delete cannot change what we serve.
      const { size } = await fh.stat();
      if (range) checkRange(range, size, sha256);
      // 1 MiB reads: a quarter of the syscalls of the 64 KiB default on large images (bench/content.ts).
      return fh.createReadStream({ highWaterMark: READ_CHUNK, ...(range ? { start: range.start, end: range.end } : {}) });
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** An open handle on a blob and its size, for callers that read it themselves (HTTP, see file-pump.ts). */
  async openHandle(sha256: string): Promise<{ handle: FileHandle; size: number }> {
    const handle = await this.#openBlob(sha256);
    try {
      return { handle, size: (await handle.stat()).size };
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  async put(source: Readable, expected?: PutExpectation): Promise<PutResult> {
    checkExpectation(expected);
    // The pid in the name lets a later start tell a crashed writer's leftovers from a live one's.
    const tmp = path.join(this.#tmp, `${process.pid}-${randomBytes(8).toString('hex')}.part`);
    const fh = await open(tmp, 'wx');
    let closed = false;
    try {
      const hash = createHash('sha256');
      let size = 0;
      let flushedAt = 0;
      let flushing: Promise<void> = Promise.resolve();
      for await (const chunk of source) {
        const bytes = toBytes(chunk);
        size += bytes.length;
        checkRunningSize(size, expected);
        // Start the write (it runs on the thread pool), hash meanwhile on this thread: the two
        // overlap, so an import runs near hashing speed instead of hash time plus write time.
        const writing = writeAll(fh, bytes);
        hash.update(bytes);
        await writing;
        // Flush to disk as we go, one flush at a time, so the final fsync waits for the tail only.
        if (size - flushedAt >= FLUSH_EVERY) {
          flushedAt = size;
          await flushing;
          flushing = fh.datasync();
          flushing.catch(() => undefined); // awaited below
        }
      }
      await flushing;
      const sha256 = hash.digest('hex');
      checkFinal(sha256, size, expected);
      await fh.sync();
      await fh.close();
      closed = true;
      return { sha256, size, stored: await this.#publish(tmp, sha256) };
    } catch (e) {
      if (!closed) await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
  }

  async delete(sha256: string): Promise<boolean> {
    try {
      await unlink(this.pathOf(sha256));
      return true;
    } catch (e) {
      if (errCode(e) === 'ENOENT') return false;
      throw e;
    }
  }

  /** Yields hashes in sorted order; anything that is not a well-placed blob is ignored. */
  async *list(): AsyncIterable<string> {
    for (const a of await sortedEntries(this.root, (d) => d.isDirectory() && FAN.test(d.name))) {
      const dirA = path.join(this.root, a);
      for (const b of await sortedEntries(dirA, (d) => d.isDirectory() && FAN.test(d.name))) {
        const dirB = path.join(dirA, b);
        const prefix = a + b;
        yield* await sortedEntries(dirB, (d) => d.isFile() && isSha256(d.name) && d.name.startsWith(prefix));
      }
    }
  }

  async verify(sha256: string): Promise<boolean> {
    const fh = await this.#openBlob(sha256);
    const hash = createHash('sha256');
    for await (const chunk of fh.createReadStream({ highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    return hash.digest('hex') === sha256;
  }

  async #openBlob(sha256: string): Promise<FileHandle> {
    const file = this.pathOf(sha256);
    try {
      return await open(file, 'r');
    } catch (e) {
      if (errCode(e) === 'ENOENT') throw new ContentError('not-found', `no blob ${sha256}`, { cause: e });
      throw e;
    }
  }

  /** Makes a complete temp file visible under its hash; false when the blob was already there. */
  async #publish(tmp: string, sha256: string): Promise<boolean> {
    const final = this.pathOf(sha256);
    const dir = path.dirname(final);
    const created = await mkdir(dir, { recursive: true });
    let stored = true;
    try {
      // link() never replaces: of two concurrent puts of the same bytes exactly one reports stored.
      await link(tmp, final);
      await unlink(tmp);
    } catch (e) {
      if (errCode(e) === 'EEXIST') stored = false;
      else if (!LINK_UNSUPPORTED.has(errCode(e) ?? '')) throw e;
      else if (await this.has(sha256)) stored = false;
      else await rename(tmp, final);
      if (!stored) await unlink(tmp);
    }
    if (stored) {
      // fsync the directories whose entries changed so the blob survives a power cut.
      await syncDir(dir);
      if (created !== undefined) await Promise.all([syncDir(path.dirname(dir)), syncDir(this.root)]);
    }
    return stored;
  }
}

async function writeAll(fh: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, offset, bytes.length - offset);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    offset += bytesWritten;
  }
}

async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the data itself was fsynced.
  } finally {
    await fh?.close();
  }
}

async function sortedEntries(dir: string, keep: (d: Dirent) => boolean): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter(keep).map((d) => d.name).sort();
  } catch (e) {
    if (errCode(e) === 'ENOENT') return [];
    throw e;
  }
}

/**
 * Removes temp files whose writer is gone. A temp file of a live process (another store on the
 * same root, e.g. a CLI next to the service, or another instance in this process) is in use.
 */
function removeStaleTemps(tmpDir: string): void {
  for (const name of readdirSync(tmpDir)) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1] ?? NaN);
    if (Number.isSafeInteger(pid) && pid > 0 && isAlive(pid)) continue;
    rmSync(path.join(tmpDir, name), { force: true, recursive: true });
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errCode(e) === 'EPERM';
  }
}
