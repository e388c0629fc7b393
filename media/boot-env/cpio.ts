/**
 * The cpio "newc" format the Linux kernel unpacks as an initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst): a 110-byte ASCII header, the
 * NUL-terminated name and the data, each padded to 4 bytes, and a `TRAILER!!!` entry at the end.
 * Entries are written as they come, so a large image never sits in memory whole.
 */
import { Buffer } from 'node:buffer';

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

export interface CpioEntry {
  /** Relative path inside the archive, `/`-separated, no leading `/`. */
  readonly name: string;
  /** File type and permission bits (S_IF* | 0o755). */
  readonly mode: number;
  /** File contents, or a symbolic link's target. */
  readonly data?: Buffer;
  /** Major and minor number of a device node. */
  readonly rdev?: readonly [number, number];
  /** Modification time, seconds since the epoch (0 keeps the image reproducible). */
  readonly mtime?: number;
}

const pad4 = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);
const hex = (n: number): string => n.toString(16).padStart(8, '0');

/** One entry's header, name and data with their padding, as the parts to write in order. */
export function cpioParts(e: CpioEntry, ino: number): Buffer[] {
  if (e.name.startsWith('/') || e.name.includes('\0')) throw new Error(`cpio: bad entry name ${JSON.stringify(e.name)}`);
  const data = e.data ?? Buffer.alloc(0);
  if (data.length > 0xffffffff) throw new Error(`cpio: ${e.name} is larger than 4 GiB`);
  const name = Buffer.from(`${e.name}\0`);
  const trailer = e.name === 'TRAILER!!!';
  const fields = [trailer ? 0 : ino, e.mode, 0, 0, e.mode & S_IFDIR ? 2 : 1, e.mtime ?? 0, data.length, 0, 0, e.rdev?.[0] ?? 0, e.rdev?.[1] ?? 0, name.length, 0];
  const header = Buffer.from(`070701${fields.map(hex).join('')}`, 'ascii');
  return [header, name, pad4(header.length + name.length), data, pad4(data.length)];
}

/** Writes entries to `sink` (a gzip stream, a file) one by one, then the trailer on `end()`. */
export class CpioWriter {
  private ino = 1;
  bytes = 0;
  constructor(private readonly sink: (chunk: Buffer) => Promise<void>) {}

  async add(e: CpioEntry): Promise<void> {
    for (const part of cpioParts(e, this.ino++)) {
      if (part.length === 0) continue;
      this.bytes += part.length;
      await this.sink(part);
    }
  }

  async end(): Promise<void> {
    await this.add({ name: 'TRAILER!!!', mode: 0 });
  }
}

/** A whole archive in memory, for small images (tests, the boot identity initrd). */
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of [...entries, { name: 'TRAILER!!!', mode: 0 }]) parts.push(...cpioParts(e, ino++));
  return Buffer.concat(parts);
}
