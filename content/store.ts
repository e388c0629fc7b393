/**
 * The single-instance, hash-addressed blob store. Owned by its users (library,
 * distribution, HTTP and TFTP serving): only what they need, so a filesystem store, an
 * in-memory fake and later a remote one can all pass test/content/store-contract.ts.
 */
import type { Readable } from 'node:stream';
import { ContentError } from './errors.js';

/** Byte range, both ends inclusive, as in an HTTP Range header after the server resolved it. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface PutExpectation {
  readonly sha256?: string;
  readonly size?: number;
}

export interface PutResult {
  readonly sha256: string;
  readonly size: number;
  /** False when the store already held these bytes (single instance). */
  readonly stored: boolean;
}

export interface ContentStore {
  stat(sha256: string): Promise<{ size: number } | null>;
  /** Throws `not-found`, or `range-not-satisfiable` unless 0 ≤ start ≤ end < size. */
  open(sha256: string, range?: ByteRange): Promise<Readable>;
  /**
   * Streams `source` in, hashing while writing. Throws `hash-mismatch`/`size-mismatch` (and
   * stores nothing) when `expected` is not met. Never leaves a partial blob visible.
   */
  put(source: Readable, expected?: PutExpectation): Promise<PutResult>;
  has(sha256: string): Promise<boolean>;
  /** True when a blob was removed, false when there was none. */
  delete(sha256: string): Promise<boolean>;
  list(): AsyncIterable<string>;
  /** Re-hashes the stored bytes; false when they no longer match. Throws `not-found`. */
  verify(sha256: string): Promise<boolean>;
}

const SHA256 = /^[0-9a-f]{64}$/;

export const isSha256 = (s: unknown): s is string => typeof s === 'string' && SHA256.test(s);

/**
 * Every store validates a hash string before it builds a path or a key from it: a hash is the
 * only name a blob has, so anything else (`../x`, upper case, short) is an attempt or a bug.
 */
export function assertSha256(s: unknown): string {
  if (!isSha256(s)) {
    const shown = typeof s === 'string' ? JSON.stringify(s.slice(0, 80)) : typeof s;
    throw new ContentError('hostile-path', `not a sha256 (64 lower-case hex digits): ${shown}`);
  }
  return s;
}

/** Strict range check shared by every store; HTTP clamps an over-long end before calling (RFC 9110 §14.1.2). */
export function checkRange(range: ByteRange, size: number, sha256: string): void {
  const { start, end } = range;
  const ok = Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && end < size;
  if (!ok) {
    throw new ContentError('range-not-satisfiable', `range ${start}-${end} is outside blob ${sha256} of ${size} bytes`);
  }
}

/** Validates an expectation up front so a bad one fails before any byte is read. */
export function checkExpectation(expected: PutExpectation | undefined): void {
  if (expected?.sha256 !== undefined) assertSha256(expected.sha256);
  const size = expected?.size;
  if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0)) {
    throw new ContentError('invalid', `expected size must be a non-negative integer, got ${String(size)}`);
  }
}

/** Fails as soon as the stream is longer than expected, so a runaway source is not read to its end. */
export function checkRunningSize(size: number, expected: PutExpectation | undefined): void {
  if (expected?.size !== undefined && size > expected.size) {
    throw new ContentError('size-mismatch', `expected ${expected.size} bytes, got more`);
  }
}

export function checkFinal(sha256: string, size: number, expected: PutExpectation | undefined): void {
  if (expected?.size !== undefined && size !== expected.size) {
    throw new ContentError('size-mismatch', `expected ${expected.size} bytes, got ${size}`);
  }
  if (expected?.sha256 !== undefined && sha256 !== expected.sha256) {
    throw new ContentError('hash-mismatch', `expected sha256 ${expected.sha256}, got ${sha256}`);
  }
}

/** Streams may yield strings when an encoding was set; the store always hashes bytes. */
export const toBytes = (chunk: unknown): Buffer => {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new ContentError('invalid', `content streams must yield bytes, got ${typeof chunk}`);
};
