/**
 * In-memory ContentStore: the fake every test of a ContentStore user runs against. It keeps the
 * same contract as FsContentStore (test/content/store-contract.ts), including streaming reads in
 * chunks and "nothing stored" on a failed put; only durability is missing.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ContentError } from './errors.js';
import {
  assertSha256,
  checkExpectation,
  checkFinal,
  checkRange,
  checkRunningSize,
  toBytes,
  type ByteRange,
  type ContentStore,
  type PutExpectation,
  type PutResult,
} from './store.js';

/** Reads are cut into chunks so consumers see a stream, not one buffer, as with a file. */
const CHUNK = 64 * 1024;

export class MemoryContentStore implements ContentStore {
  readonly #blobs = new Map<string, Buffer>();

  async stat(sha256: string): Promise<{ size: number } | null> {
    const blob = this.#blobs.get(assertSha256(sha256));
    return blob ? { size: blob.length } : null;
  }

  async has(sha256: string): Promise<boolean> {
    return this.#blobs.has(assertSha256(sha256));
  }

  async open(sha256: string, range?: ByteRange): Promise<Readable> {
    const blob = this.#get(sha256);
    if (range) checkRange(range, blob.length, sha256);
    const view = range ? blob.subarray(range.start, range.end + 1) : blob;
    return Readable.from(chunks(view), { objectMode: false });
  }

  async put(source: Readable, expected?: PutExpectation): Promise<PutResult> {
    checkExpectation(expected);
    const hash = createHash('sha256');
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of source) {
      const bytes = toBytes(chunk);
      size += bytes.length;
      checkRunningSize(size, expected);
      hash.update(bytes);
      parts.push(bytes);
    }
    const sha256 = hash.digest('hex');
    checkFinal(sha256, size, expected);
    if (this.#blobs.has(sha256)) return { sha256, size, stored: false };
    // concat copies, so the caller's buffers stay theirs and later changes to them reach nothing stored.
    this.#blobs.set(sha256, Buffer.concat(parts, size));
    return { sha256, size, stored: true };
  }

  async delete(sha256: string): Promise<boolean> {
    return this.#blobs.delete(assertSha256(sha256));
  }

  async *list(): AsyncIterable<string> {
    yield* [...this.#blobs.keys()].sort();
  }

  async verify(sha256: string): Promise<boolean> {
    const blob = this.#get(sha256);
    return createHash('sha256').update(blob).digest('hex') === sha256;
  }

  /**
   * Test-only: damage a stored blob in place, as bit rot or a stray write would on disk (flips
   * the first byte; an empty blob gains one).
   */
  corruptForTest(sha256: string): void {
    const blob = this.#get(sha256);
    if (blob.length === 0) this.#blobs.set(sha256, Buffer.from([0]));
    else blob[0] = (blob[0] ?? 0) ^ 0xff;
  }

  #get(sha256: string): Buffer {
    const blob = this.#blobs.get(assertSha256(sha256));
    if (!blob) throw new ContentError('not-found', `no blob ${sha256}`);
    return blob;
  }
}

function* chunks(view: Buffer): Generator<Buffer> {
  for (let i = 0; i < view.length; i += CHUNK) yield view.subarray(i, Math.min(i + CHUNK, view.length));
}
