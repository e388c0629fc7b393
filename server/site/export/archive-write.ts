/**
 * Writes an export .zip with yazl, streaming: the caller pipes the result to a file or an HTTP
 * response. yazl switches an entry (and the central directory) to ZIP64 by itself once a size or
 * offset passes 4 GiB or there are more than 65,535 entries; `forceZip64` makes it do so always,
 * so tests can prove the reader takes ZIP64 without writing 4 GiB.
 */
import { PassThrough, type Readable } from 'node:stream';
import yazl from 'yazl';

export interface ArchiveEntry {
  readonly name: string;
  readonly data: Buffer;
}

export interface WriteOptions {
  /** Entry times: the export time, so the same export makes the same bytes. */
  readonly mtime: Date;
  readonly forceZip64?: boolean;
  readonly comment?: string;
}

export function zipStream(entries: readonly ArchiveEntry[], opts: WriteOptions): Readable {
  const zip = new yazl.ZipFile();
  const force = opts.forceZip64 === true;
  for (const e of entries) zip.addBuffer(e.data, e.name, { mtime: opts.mtime, compress: true, forceZip64Format: force, mode: 0o100644 });
  zip.end({ forceZip64Format: force, comment: opts.comment ?? '' });
  // outputStream is a Node PassThrough already; piping through one gives callers a typed Readable.
  return (zip.outputStream as Readable).pipe(new PassThrough());
}
