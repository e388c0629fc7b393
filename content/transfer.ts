/**
 * Moving a content version into a point's store: every blob is streamed in with
 * its expected sha256 and size, so a byte that differs anywhere fails the copy and nothing is
 * marked installed. The version record is written last, merged with what the point already
 * holds, so a point never lists a version whose bytes it does not have.
 */
import { Transform, type Readable } from 'node:stream';
import { ContentError, isContentError } from './errors.js';
import { serialised, type ContentLibrary } from './library.js';
import { manifestOf, validateContent, type ContentObject, type ContentVersion } from './model.js';
import { normaliseContentPath } from './paths.js';
import { isSha256, type ContentStore } from './store.js';

export interface Blob {
  readonly sha256: string;
  readonly size: number;
}

/** Where a copy reads from: the site's store, an HTTP pull, an archive. */
export interface BlobSource {
  open(blob: Blob, signal?: AbortSignal): Promise<Readable>;
}

export interface CopyOptions {
  /** Called with the bytes done so far in this copy (blobs already present count at once). */
  readonly onProgress?: (bytesDone: number) => void;
  /** Re-hash blobs the target already has and replace damaged ones (a redistribute after validation). */
  readonly verifyExisting?: boolean;
  readonly signal?: AbortSignal;
}

export interface CopyResult {
  readonly blobs: number;
  /** Blobs the target lacked (or had damaged) and received. */
  readonly copied: number;
  readonly bytesCopied: number;
}

/** Distinct blobs of a file list, first occurrence order. */
export function distinctBlobs(files: readonly Blob[]): Blob[] {
  const seen = new Map<string, Blob>();
  for (const f of files) if (!seen.has(f.sha256)) seen.set(f.sha256, { sha256: f.sha256, size: f.size });
  return [...seen.values()];
}

/** Counts bytes as they pass, for progress, without holding them. */
function counter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      onBytes(chunk.length);
      cb(null, chunk);
    },
  });
}

export async function copyBlobs(files: readonly Blob[], source: BlobSource, target: ContentStore, opts: CopyOptions = {}): Promise<CopyResult> {
  const blobs = distinctBlobs(files);
  let done = 0;
  let copied = 0;
  let bytesCopied = 0;
  for (const blob of blobs) {
    opts.signal?.throwIfAborted();
    const have = await target.stat(blob.sha256);
    let present = have !== null && have.size === blob.size;
    if (present && opts.verifyExisting && !(await target.verify(blob.sha256))) {
      await target.delete(blob.sha256);
      present = false;
    }
    if (!present) {
      let base = done;
      const input = await source.open(blob, opts.signal);
      const counted = input.pipe(counter((n) => opts.onProgress?.((base += n))));
      input.once('error', (e) => counted.destroy(e));
      try {
        await target.put(counted, blob);
      } catch (e) {
        throw describeCopyError(e, blob);
      } finally {
        input.destroy();
      }
      copied++;
      bytesCopied += blob.size;
    }
    done += blob.size;
    opts.onProgress?.(done);
  }
  return { blobs: blobs.length, copied, bytesCopied };
}

function describeCopyError(e: unknown, blob: Blob): unknown {
  if (isContentError(e, 'hash-mismatch') || isContentError(e, 'size-mismatch')) {
    const what = e.code === 'hash-mismatch' ? 'hash mismatch' : 'size mismatch';
    return new ContentError(e.code, `${what}: blob ${blob.sha256} (${blob.size} bytes) failed verification: ${e.message}`, { cause: e });
  }
  return e;
}

/**
 * Checks a version record received from elsewhere (a site, an archive): its paths are clean,
 * its hashes well-formed, and its manifest hash is what the file list really hashes to.
 */
export function checkVersionRecord(version: ContentVersion, where: string): void {
  const bad = (m: string): never => {
    throw new ContentError('corrupt', `${where}: ${m}`);
  };
  if (!Number.isSafeInteger(version.version) || version.version < 1) bad('version must be a positive integer');
  if (!Array.isArray(version.files) || !isSha256(version.manifestSha256)) bad('malformed version record');
  let total = 0;
  for (const f of version.files) {
    if (typeof f?.path !== 'string' || normaliseContentPath(f.path) !== f.path) bad(`file path ${JSON.stringify(String(f?.path)).slice(0, 80)} is not a clean content path`);
    if (!isSha256(f.sha256) || !Number.isSafeInteger(f.size) || f.size < 0) bad(`file ${f.path} has a malformed hash or size`);
    total += f.size;
  }
  if (manifestOf(version.files).sha256 !== version.manifestSha256) bad(`manifest hash of version ${version.version} does not match its file list`);
  if (total !== version.totalSize) bad(`totalSize of version ${version.version} does not add up`);
}

/**
 * The point's record after installing `version`: the incoming metadata, its versions plus this
 * one. The source folder stays this point's own (none for a new record): the incoming one names
 * a folder on another host — or whatever a prestaged file says — and a later import without a
 * folder must never read it here.
 */
export function mergeVersion(existing: ContentObject | undefined, incoming: ContentObject, version: ContentVersion): ContentObject {
  const others = (existing?.versions ?? []).filter((v) => v.version !== version.version);
  const versions = [...others, version].sort((a, b) => a.version - b.version);
  const { withoutSource: _w, ...rest } = incoming;
  return { ...rest, sourcePath: existing?.sourcePath ?? '', versions } as ContentObject;
}

/**
 * Installs one version at a point: checks the record, copies the blobs it lacks (verifying every
 * hash), then records the version. Runs under the library's per-id lock so an import cannot race it.
 */
export async function installVersion(library: ContentLibrary, incoming: ContentObject, version: ContentVersion, source: BlobSource, opts: CopyOptions = {}): Promise<CopyResult> {
  validateContent(incoming);
  checkVersionRecord(version, `content ${incoming.id}`);
  return serialised(library, incoming.id, async () => {
    const existing = await library.records.get(incoming.id);
    if (existing && existing.kind !== incoming.kind) throw new ContentError('exists', `content ${incoming.id} exists here as a ${existing.kind}, not a ${incoming.kind}`);
    const held = existing?.versions.find((v) => v.version === version.version);
    if (held && held.manifestSha256 !== version.manifestSha256) {
      throw new ContentError('exists', `content ${incoming.id} version ${version.version} exists here with different files`);
    }
    const result = await copyBlobs(version.files, source, library.store, opts);
    await library.records.put(mergeVersion(existing, incoming, version));
    return result;
  });
}

/** A BlobSource reading from another store (the local point shares the site's store). */
export const storeSource = (store: ContentStore): BlobSource => ({
  open: async (blob) => {
    try {
      return await store.open(blob.sha256);
    } catch (e) {
      if (isContentError(e, 'not-found')) throw new ContentError('not-found', `the source has no blob ${blob.sha256}`, { cause: e });
      throw e;
    }
  },
});
