/**
 * The content library: content objects whose versions list files by hash in a
 * ContentStore. Bytes go into the store first; the version record is written last, in one
 * records.put, so a crash mid-import leaves at most unreferenced blobs, never a half version.
 */
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ContentError, isContentError } from './errors.js';
import {
  currentVersion,
  manifestOf,
  validateContent,
  type ContentObject,
  type ContentVersion,
  type NewContent,
  type VersionFile,
} from './model.js';
import { normaliseContentPath } from './paths.js';
import type { LibraryRecords } from './records.js';
import type { ByteRange, ContentStore } from './store.js';
import { openWalkedFile, walkFolder } from './walk.js';

export interface ContentLibrary {
  readonly store: ContentStore;
  readonly records: LibraryRecords;
}

export type VersionRef = number | 'latest';

export interface ImportResult {
  readonly content: ContentObject;
  readonly version: ContentVersion;
  /** False when the folder held exactly the current version's files: no version was made. */
  readonly changed: boolean;
}

export interface VerifyMismatch {
  readonly path: string;
  readonly sha256: string;
  readonly reason: 'missing' | 'corrupt';
}

export interface VerifyReport {
  readonly id: string;
  readonly version: number;
  readonly ok: boolean;
  /** The recorded manifest hash still matches the recorded file list. */
  readonly manifestOk: boolean;
  /** Distinct blobs re-hashed. */
  readonly blobsChecked: number;
  readonly mismatches: readonly VerifyMismatch[];
}

/**
 * Work on one content id runs one at a time in this process, so two imports cannot both claim
 * version N+1 and lose one. Keyed by the records object: one lock table per library.
 */
const locks = new WeakMap<LibraryRecords, Map<string, Promise<unknown>>>();

export async function serialised<T>(library: ContentLibrary, id: string, fn: () => Promise<T>): Promise<T> {
  let perId = locks.get(library.records);
  if (!perId) locks.set(library.records, (perId = new Map()));
  const run = (perId.get(id) ?? Promise.resolve()).then(fn);
  const tail = run.catch(() => undefined);
  perId.set(id, tail);
  try {
    return await run;
  } finally {
    if (perId.get(id) === tail) perId.delete(id);
  }
}

export async function createContent(library: ContentLibrary, input: NewContent): Promise<ContentObject> {
  validateContent(input);
  return serialised(library, input.id, async () => {
    if (await library.records.get(input.id)) throw new ContentError('exists', `content ${input.id} already exists`);
    const record = { ...input, versions: [] } as ContentObject;
    await library.records.put(record);
    return record;
  });
}

export async function getContent(library: ContentLibrary, id: string): Promise<ContentObject> {
  const record = await library.records.get(id);
  if (!record) throw new ContentError('not-found', `no content ${id}`);
  return record;
}

/**
 * Imports `folder` as the next version of content `id`: streams every file into the store
 * (hashing while copying), then records the version. An unchanged folder makes no version.
 * Re-importing also restores any blob the store lost, since every file is put again.
 */
export async function importFolder(library: ContentLibrary, id: string, folder: string, now: Date): Promise<ImportResult> {
  if (Number.isNaN(now.getTime())) throw new ContentError('invalid', 'import time is not a valid date');
  return serialised(library, id, async () => {
    // The first import turns a record "without source files" into one that has them.
    const { withoutSource: _none, ...record } = await getContent(library, id);
    const files: VersionFile[] = [];
    for (const entry of await walkFolder(folder)) {
      const stream = await openWalkedFile(entry);
      try {
        const { sha256, size } = await library.store.put(stream);
        files.push({ path: entry.path, sha256, size });
      } finally {
        stream.destroy(); // closes the file even when put failed before reading it
      }
    }
    const manifest = manifestOf(files);
    const current = currentVersion(record);
    const sourcePath = path.resolve(folder);
    if (current && current.manifestSha256 === manifest.sha256) {
      const content = { ...record, sourcePath } as ContentObject;
      if (record.sourcePath !== sourcePath || _none !== undefined) await library.records.put(content);
      return { content, version: current, changed: false };
    }
    const version: ContentVersion = {
      version: (current?.version ?? 0) + 1,
      createdAt: now.toISOString(),
      files: manifest.files,
      totalSize: manifest.files.reduce((n, f) => n + f.size, 0),
      manifestSha256: manifest.sha256,
    };
    const content = { ...record, sourcePath, versions: [...record.versions, version] } as ContentObject;
    await library.records.put(content);
    return { content, version, changed: true };
  });
}

export async function getVersion(library: ContentLibrary, id: string, ref: VersionRef): Promise<ContentVersion> {
  const record = await getContent(library, id);
  const version = ref === 'latest' ? currentVersion(record) : record.versions.find((v) => v.version === ref);
  if (!version) throw new ContentError('not-found', `content ${id} has no version ${String(ref)}`);
  return version;
}

/** The file entry behind a content path (size and hash: Content-Length and ETag for R-22). */
export async function resolveFile(library: ContentLibrary, id: string, ref: VersionRef, filePath: string): Promise<VersionFile> {
  const wanted = normaliseContentPath(filePath);
  const version = await getVersion(library, id, ref);
  const file = version.files.find((f) => f.path === wanted);
  if (!file) throw new ContentError('not-found', `content ${id} version ${version.version} has no file ${wanted}`);
  return file;
}

/** Streams one file of a version, whole or a range (end inclusive), from the store. */
export async function readFileRange(
  library: ContentLibrary,
  id: string,
  ref: VersionRef,
  filePath: string,
  range?: ByteRange,
): Promise<Readable> {
  const file = await resolveFile(library, id, ref, filePath);
  return library.store.open(file.sha256, range);
}

/** Re-hashes every blob of a version and names each path whose bytes are missing or corrupt. */
export async function verifyVersion(library: ContentLibrary, id: string, ref: VersionRef): Promise<VerifyReport> {
  const version = await getVersion(library, id, ref);
  const { blobsChecked, mismatches } = await verifyFiles(library.store, version.files);
  const manifestOk = manifestOf(version.files).sha256 === version.manifestSha256;
  return { id, version: version.version, ok: manifestOk && mismatches.length === 0, manifestOk, blobsChecked, mismatches };
}

/** Re-hashes each distinct blob of `files` in `store`; a shared blob is read once. */
export async function verifyFiles(store: ContentStore, files: readonly VersionFile[]): Promise<{ blobsChecked: number; mismatches: VerifyMismatch[] }> {
  const pathsByHash = new Map<string, string[]>();
  for (const f of files) pathsByHash.set(f.sha256, [...(pathsByHash.get(f.sha256) ?? []), f.path]);
  const mismatches: VerifyMismatch[] = [];
  for (const [sha256, paths] of pathsByHash) {
    let reason: VerifyMismatch['reason'] | undefined;
    try {
      if (!(await store.verify(sha256))) reason = 'corrupt';
    } catch (e) {
      if (!isContentError(e, 'not-found')) throw e;
      reason = 'missing';
    }
    if (reason) for (const p of paths) mismatches.push({ path: p, sha256, reason });
  }
  mismatches.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { blobsChecked: pathsByHash.size, mismatches };
}
