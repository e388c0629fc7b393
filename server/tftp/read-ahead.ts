/**
 * Positioned reads for one transfer, in chunks of many blocks: one read per chunk instead of one
 * per block keeps the thread pool out of the per-packet path. Each chunk is a fresh buffer, so
 * datagrams still queued in the socket keep pointing at bytes nobody overwrites. The file is
 * never held whole (SPEC R-22's rule applies to TFTP too).
 */
import { Buffer } from 'node:buffer';
import type { OpenFile } from './file-source.js';

const EMPTY = Buffer.alloc(0);

export class ReadAhead {
  private chunk: Buffer = EMPTY;
  private start = 0;

  constructor(
    private readonly file: OpenFile,
    private readonly chunkBytes: number,
  ) {}

  /** Bytes `offset..offset+length` if the current chunk holds them, else null. */
  get(offset: number, length: number): Buffer | null {
    if (length === 0) return EMPTY;
    const from = offset - this.start;
    if (from < 0 || from + length > this.chunk.length) return null;
    return this.chunk.subarray(from, from + length);
  }

  /** Reads a chunk starting at `offset` that holds at least `length` bytes; throws if the file got shorter. */
  async fill(offset: number, length: number): Promise<void> {
    const want = Math.min(Math.max(this.chunkBytes, length), Math.max(length, this.file.size - offset));
    const buf = Buffer.allocUnsafeSlow(want);
    let got = 0;
    while (got < want) {
      const n = await this.file.read(buf.subarray(got), offset + got);
      if (n === 0) break;
      got += n;
    }
    if (got < length) throw new Error(`file shrank during the transfer (${offset + got} < ${offset + length})`);
    this.chunk = buf.subarray(0, got);
    this.start = offset;
  }
}
