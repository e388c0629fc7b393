/**
 * Importing a prestaged content file at a point. The archive streams through
 * gunzip and tar once: the metadata must come first and be sound, then every entry must be a
 * blob it lists, of the listed size, whose bytes hash to its name. Anything else (another path,
 * a link, a device, a lying size or hash, a truncated or corrupt stream) refuses the whole file:
 * blobs this import added are removed again and no content record is written.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { ContentError, isContentError } from './errors.js';
import type { ContentLibrary } from './library.js';
import { validateContent, type NewContent } from './model.js';
import { METADATA_ENTRY, PRESTAGE_FORMAT, type PrestageMetadata } from './prestage.js';
import { isSha256, type ContentStore } from './store.js';
import { checkVersionRecord, installVersion, storeSource, type Blob } from './transfer.js';

/** The metadata is read into memory to be checked; larger than this is not a file we made. */
export const MAX_METADATA_BYTES = 64 * 1024 * 1024;
const BLOB_ENTRY = /^blobs\/([0-9a-f]{64})$/;

const corrupt = (m: string, cause?: unknown): ContentError =>
  new ContentError('corrupt', `prestaged content file refused: ${m}`, cause === undefined ? undefined : { cause });

export interface PrestageImportResult {
  readonly content: readonly { id: string; name: string; kind: string; version: number }[];
  readonly blobs: number;
  /** Blobs the point did not have yet. */
  readonly stored: number;
  readonly bytes: number;
  /** Dependencies named in the file that neither the file nor the point holds. */
  readonly missingDependencies: readonly string[];
  /** What the import did not take from the file, e.g. the source folders it names. */
  readonly warnings: readonly string[];
}

/** Reads and checks the whole archive into `store`; on any failure removes what it added and throws. */
export async function readPrestaged(input: Readable, store: ContentStore): Promise<{ meta: PrestageMetadata; stored: string[] }> {
  const extract = tar.extract();
  const feed = pipeline(input, createGunzip(), extract);
  feed.catch(() => undefined); // reported through the iterator below
  const stored: string[] = [];
  try {
    let meta: PrestageMetadata | undefined;
    const expected = new Map<string, number>();
    for await (const entry of extract) {
      const { name, type, size } = entry.header;
      const shown = JSON.stringify(String(name).slice(0, 120));
      if (type !== 'file') throw corrupt(`entry ${shown} is a ${String(type)}; only files are allowed`);
      if (!meta) {
        if (name !== METADATA_ENTRY) throw corrupt(`the first entry must be ${METADATA_ENTRY}, not ${shown}`);
        if (size === undefined || size > MAX_METADATA_BYTES) throw corrupt('the metadata entry is too large');
        meta = parseMetadata(await readEntry(Readable.from(entry)));
        for (const b of meta.blobs) expected.set(b.sha256, b.size);
        continue;
      }
      const sha256 = BLOB_ENTRY.exec(name)?.[1];
      if (!sha256 || !expected.has(sha256)) throw corrupt(`unexpected entry ${shown}`);
      const want = expected.get(sha256)!;
      if (size !== want) throw corrupt(`entry ${shown} is ${String(size)} bytes; the metadata says ${want}`);
      expected.delete(sha256);
      try {
        // tar-stream entries are streamx streams; Readable.from gives the store the Node stream it takes.
        const r = await store.put(Readable.from(entry), { sha256, size: want });
        if (r.stored) stored.push(sha256);
      } catch (e) {
        const what = isContentError(e, 'hash-mismatch') ? 'hash mismatch: ' : isContentError(e, 'size-mismatch') ? 'size mismatch: ' : '';
        throw corrupt(`blob ${sha256}: ${what}${(e as Error).message}`, e);
      }
    }
    await feed;
    if (!meta) throw corrupt('the file holds no metadata');
    if (expected.size > 0) throw corrupt(`${expected.size} blob(s) listed in the metadata are missing, e.g. ${[...expected.keys()][0]}`);
    return { meta, stored };
  } catch (e) {
    await Promise.all(stored.map((s) => store.delete(s).catch(() => false)));
    input.destroy();
    throw e instanceof ContentError ? e : corrupt(`the file is truncated or corrupt (${(e as Error).message})`, e);
  }
}

/** Imports the archive and records each version it carries as held here. */
export async function importPrestaged(library: ContentLibrary, input: Readable): Promise<PrestageImportResult> {
  const { meta, stored } = await readPrestaged(input, library.store);
  const undo = () => Promise.all(stored.map((s) => library.store.delete(s).catch(() => false)));
  // Refuse conflicts before writing any record, so a refused file changes nothing.
  for (const c of meta.content) {
    const existing = await library.records.get(c.object.id);
    const v = c.object.versions[0]!;
    const held = existing?.versions.find((x) => x.version === v.version);
    if ((existing && existing.kind !== c.object.kind) || (held && held.manifestSha256 !== v.manifestSha256)) {
      await undo();
      throw new ContentError('exists', `prestaged content file refused: ${c.object.id} version ${v.version} exists here with different files or kind`);
    }
  }
  for (const c of meta.content) await installVersion(library, c.object, c.object.versions[0]!, storeSource(library.store));
  const ids = new Set(meta.content.map((c) => c.object.id));
  const missing = new Set<string>();
  for (const c of meta.content) for (const d of c.dependencies) if (!ids.has(d) && !(await library.records.get(d))) missing.add(d);
  return {
    content: meta.content.map((c) => ({ id: c.object.id, name: c.object.name, kind: c.object.kind, version: c.version })),
    blobs: meta.blobs.length,
    stored: stored.length,
    bytes: meta.blobs.reduce((n, b) => n + b.size, 0),
    missingDependencies: [...missing].sort(),
    warnings: ignoredSourceWarnings(meta),
  };
}

/** installVersion never takes a record's source folder from the file (transfer.ts mergeVersion): say so. */
function ignoredSourceWarnings(meta: PrestageMetadata): string[] {
  const named = meta.content.filter((c) => typeof c.object.sourcePath === 'string' && c.object.sourcePath !== '');
  if (named.length === 0) return [];
  const shown = named.slice(0, 5).map((c) => `${c.object.id} ${JSON.stringify(c.object.sourcePath.slice(0, 200))}`);
  const more = named.length > 5 ? ` and ${named.length - 5} more` : '';
  return [`source folders named in the file are ignored (${shown.join(', ')}${more}): a prestaged import never reads a folder of this host that a file names`];
}

async function readEntry(entry: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of entry) {
    n += (chunk as Buffer).length;
    if (n > MAX_METADATA_BYTES) throw corrupt('the metadata entry is too large');
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/** Checks every field the importer relies on; the file is untrusted input. */
export function parseMetadata(bytes: Buffer): PrestageMetadata {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw corrupt('the metadata is not JSON', e);
  }
  const m = raw as Partial<PrestageMetadata> | null;
  if (!m || typeof m !== 'object' || m.format !== PRESTAGE_FORMAT) throw corrupt(`not a ${PRESTAGE_FORMAT} file`);
  if (!Array.isArray(m.blobs) || !Array.isArray(m.content) || m.content.length === 0) throw corrupt('metadata lacks content or blobs');
  const sizes = new Map<string, number>();
  for (const b of m.blobs as Blob[]) {
    if (!isSha256(b?.sha256) || !Number.isSafeInteger(b.size) || b.size < 0) throw corrupt('a blob entry has a malformed hash or size');
    if (sizes.has(b.sha256)) throw corrupt(`blob ${b.sha256} is listed twice`);
    sizes.set(b.sha256, b.size);
  }
  const ids = new Set<string>();
  for (const c of m.content) {
    const o = c?.object;
    if (!o || typeof o !== 'object' || !Array.isArray(o.versions) || o.versions.length !== 1) throw corrupt('each content entry must carry one version');
    try {
      validateContent(o as NewContent);
      checkVersionRecord(o.versions[0]!, `content ${o.id}`);
    } catch (e) {
      throw corrupt((e as Error).message, e);
    }
    if (ids.has(o.id)) throw corrupt(`content ${o.id} is listed twice`);
    ids.add(o.id);
    if (c.version !== o.versions[0]!.version) throw corrupt(`content ${o.id}: version ${String(c.version)} disagrees with its record`);
    if (!Array.isArray(c.dependencies) || !c.dependencies.every((d: unknown) => typeof d === 'string')) throw corrupt(`content ${o.id}: malformed dependency list`);
    for (const f of o.versions[0]!.files) {
      if (sizes.get(f.sha256) !== f.size) throw corrupt(`content ${o.id} file ${f.path}: its blob is not listed with that size`);
    }
  }
  return m as PrestageMetadata;
}
