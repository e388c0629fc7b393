/**
 * Sending a byte range of a file to a socket fast, without buffering the file: two
 * fixed buffers take turns, one being read from the file while the other is written, and a
 * buffer is reused only after the socket said it is done with it. Against a stream that
 * allocates a fresh buffer per chunk this saves the allocation and page-faulting of every
 * megabyte (bench/content.ts); nginx uses sendfile, which Node does not expose.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

export const PUMP_CHUNK = 1 << 20;

/** A store that can hand out an open file for a blob (FsContentStore). */
export interface FileHandleSource {
  openHandle(sha256: string): Promise<{ handle: FileHandle; size: number }>;
}

export const hasFileHandles = (store: unknown): store is FileHandleSource => typeof (store as FileHandleSource | null)?.openHandle === 'function';

function writeChunk(out: Writable, chunk: Buffer, closed: Promise<never>): Promise<void> {
  const written = new Promise<void>((resolve, reject) => {
    out.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
  return Promise.race([written, closed]);
}

/** What the pump reads from: a FileHandle, or anything that reads like one. */
export type PumpSource = Pick<FileHandle, 'read'> | { read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> };

/** Writes bytes [start, end] of `handle` to `out`; rejects if the file shrinks or `out` closes first. */
export async function pumpFile(handle: PumpSource, start: number, end: number, out: Writable, chunk = PUMP_CHUNK): Promise<void> {
  if (end < start) return;
  const size = Math.min(chunk, end - start + 1);
  const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
  const pending: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
  // A client that hangs up must not leave us waiting on a write callback forever.
  const closed = new Promise<never>((_, reject) => out.once('close', () => reject(new Error('the client closed the connection'))));
  closed.catch(() => undefined);
  let position = start;
  let turn = 0;
  while (position <= end) {
    await pending[turn];
    const buf = buffers[turn]!;
    const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, end - position + 1), position);
    if (bytesRead <= 0) throw new Error('the file shrank while being served');
    position += bytesRead;
    const write = writeChunk(out, bytesRead === buf.length ? buf : buf.subarray(0, bytesRead), closed);
    write.catch(() => undefined); // awaited below; this only keeps a failure meanwhile from being "unhandled"
    pending[turn] = write;
    turn ^= 1;
  }
  await Promise.all(pending);
}
