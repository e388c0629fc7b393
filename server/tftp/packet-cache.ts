/**
 * DATA packets for one transfer, built ahead in chunks of many blocks: one positioned read per
 * chunk instead of one per block keeps the thread pool out of the per-packet path, and each
 * packet is a ready-made slice (header + data, RFC 1350 §5) that is sent as one buffer and
 * resent as is. Each chunk is a fresh buffer, so datagrams still queued in the socket keep
 * pointing at bytes nobody overwrites (reusing buffers measured no faster). The file is never
 * held whole.
 */
import { Buffer } from 'node:buffer';
import { DATA_HEADER_BYTES, writeDataHeader } from '../wire/tftp/index.js';
import type { OpenFile } from './file-source.js';

export class PacketCache {
  private arena: Buffer = Buffer.alloc(0);
  private first = 1;
  private count = 0;
  private readonly stride: number;

  constructor(
    private readonly file: OpenFile,
    private readonly size: number,
    private readonly blksize: number,
    private readonly chunkBlocks: number,
  ) {
    this.stride = DATA_HEADER_BYTES + blksize;
  }

  /** Data bytes of absolute block `n` (1-based). */
  private lengthOf(n: number): number {
    return Math.max(0, Math.min(this.blksize, this.size - (n - 1) * this.blksize));
  }

  /** The DATA packet for absolute block `n` if the current chunk holds it, else null. */
  get(n: number): Buffer | null {
    const i = n - this.first;
    if (i < 0 || i >= this.count) return null;
    const at = i * this.stride;
    return this.arena.subarray(at, at + DATA_HEADER_BYTES + this.lengthOf(n));
  }

  /** Reads the chunk starting at block `n`; throws if the file got shorter than its size. */
  async fill(n: number): Promise<void> {
    const lastBlock = Math.floor(this.size / this.blksize) + 1;
    const count = Math.max(1, Math.min(this.chunkBlocks, lastBlock - n + 1));
    const offset = (n - 1) * this.blksize;
    const want = Math.max(0, Math.min(count * this.blksize, this.size - offset));
    const arena = Buffer.allocUnsafeSlow(count * this.stride);
    let got = 0;
    while (got < want) {
      const r = await this.file.read(arena.subarray(got, want), offset + got);
      if (r === 0) throw new Error(`file shrank during the transfer (${offset + got} < ${offset + want})`);
      got += r;
    }
    // Spread the blocks out from the back so each gets its 4-byte header in front of it.
    for (let i = count - 1; i >= 0; i--) {
      const at = i * this.stride;
      const len = this.lengthOf(n + i);
      arena.copyWithin(at + DATA_HEADER_BYTES, i * this.blksize, i * this.blksize + len);
      writeDataHeader(arena.subarray(at), (n + i) & 0xffff);
    }
    this.arena = arena;
    this.first = n;
    this.count = count;
  }
}
