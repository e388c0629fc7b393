/**
 * Netascii (RFC 1350 §1, the Telnet NVT form of RFC 764): a "netascii" read sends every LF as
 * CR LF and every bare CR as CR NUL, which is what tftp-hpa's client undoes in its default mode.
 *
 * `netasciiFile(file)` presents the converted bytes as another `OpenFile`: it scans the file
 * once for the converted size (so tsize and the last block are known, RFC 2349), then serves
 * positioned reads by converting forward from the nearest checkpoint. Transfers read mostly
 * forward and retransmit at most one window back, so a few checkpoints keep this linear.
 */
import { Buffer } from 'node:buffer';
import type { OpenFile } from './file-source.js';

const CR = 0x0d;
const LF = 0x0a;
const CHUNK = 64 * 1024;
const MAX_CHECKPOINTS = 64;

/** Converter state at a converted offset: the source offset and a byte still owed, or -1. */
interface Checkpoint {
  out: number;
  src: number;
  owed: number;
}

/** Converts `file` forward from `from`, calling `sink` with each converted chunk; stops when it returns false. */
async function convert(file: OpenFile, from: Checkpoint, sink: (bytes: Buffer, at: Checkpoint) => boolean): Promise<Checkpoint> {
  const at = { ...from };
  const input = Buffer.allocUnsafe(CHUNK);
  const output = Buffer.allocUnsafe(CHUNK * 2 + 1);
  for (;;) {
    const start = { ...at };
    let n = 0;
    if (at.owed >= 0) output[n++] = at.owed;
    at.owed = -1;
    const got = at.src < file.size ? await file.read(input, at.src) : 0;
    for (let i = 0; i < got; i++) {
      const b = input[i] as number;
      if (b === LF) {
        output[n++] = CR;
        output[n++] = LF;
      } else if (b === CR) {
        output[n++] = CR;
        output[n++] = 0;
      } else output[n++] = b;
    }
    at.src += got;
    at.out += n;
    if (n > 0 && !sink(output.subarray(0, n), start)) return at;
    if (got === 0) return at;
  }
}

/** The netascii form of `file` as a file of its own (its `close` closes `file`). */
export async function netasciiFile(file: OpenFile): Promise<OpenFile> {
  const end = await convert(file, { out: 0, src: 0, owed: -1 }, () => true);
  const size = end.out;
  let checkpoints: Checkpoint[] = [{ out: 0, src: 0, owed: -1 }];

  async function read(buf: Buffer, position: number): Promise<number> {
    if (position >= size || buf.length === 0) return 0;
    let from = checkpoints[0] as Checkpoint;
    for (const c of checkpoints) if (c.out <= position && c.out > from.out) from = c;
    let filled = 0;
    // Each converted chunk starts at `at`; copy the part of it that overlaps [position, position+len).
    await convert(file, from, (bytes, at) => {
      const skip = Math.max(0, position + filled - at.out);
      if (skip < bytes.length) filled += bytes.copy(buf, filled, skip);
      if (filled < buf.length) return true;
      // Remember where the next read will most likely start.
      const consumed = at.out + bytes.length;
      if (consumed > position + filled) remember(position + filled, at, bytes);
      return false;
    });
    return filled;
  }

  /** Records a checkpoint at converted offset `out`, which lies inside the chunk starting at `at`. */
  function remember(out: number, at: Checkpoint, bytes: Buffer): void {
    // Rewind: walk the chunk's source bytes until the converted position reaches `out`.
    let o = at.out;
    let src = at.src;
    let i = 0;
    if (at.owed >= 0) {
      o++;
      i++;
    }
    while (o < out) {
      const b = bytes[i] as number;
      const expands = b === CR;
      o += expands ? 2 : 1;
      i += expands ? 2 : 1;
      src++;
    }
    // Landing in the middle of a CR LF / CR NUL pair leaves its second byte owed.
    const owed = o > out ? (bytes[i - 1] as number) : -1;
    checkpoints.push({ out, src, owed });
    if (checkpoints.length > MAX_CHECKPOINTS) checkpoints = [checkpoints[0] as Checkpoint, ...checkpoints.slice(-MAX_CHECKPOINTS / 2)];
  }

  return { size, read, close: () => file.close() };
}
