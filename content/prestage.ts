/**
 * Prestaged content files (R-08): one gzip-compressed tar holding `osdeploy-prestage.json`
 * (format, the content objects with the version each carries, their dependency lists and every
 * blob's sha256 and size) first, then each blob once as `blobs/<sha256>`. Metadata first lets
 * the importer check every entry against it as the archive streams past, never unpacking to disk.
 */
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { ContentError } from './errors.js';
import { currentVersion, type ContentObject, type ContentVersion } from './model.js';
import type { ContentStore } from './store.js';
import { distinctBlobs, type Blob } from './transfer.js';

export const PRESTAGE_FORMAT = 'osdeploy-prestage/1';
export const METADATA_ENTRY = 'osdeploy-prestage.json';
export const blobEntry = (sha256: string): string => `blobs/${sha256}`;

export interface PrestageContent {
  /** The object with exactly one version: the one this file carries. */
  readonly object: ContentObject;
  readonly version: number;
  /** Ids this object depends on (applications), for the importer to report what else it needs. */
  readonly dependencies: readonly string[];
}

export interface PrestageMetadata {
  readonly format: typeof PRESTAGE_FORMAT;
  readonly createdAt: string;
  /** Who made it, e.g. `site PS1`. */
  readonly origin: string;
  readonly content: readonly PrestageContent[];
  readonly blobs: readonly Blob[];
}

export interface PrestageChoice {
  readonly object: ContentObject;
  /** Defaults to the current version. */
  readonly version?: number;
}

/** Builds the metadata for the chosen objects; each needs the version asked for (or a current one). */
export function prestageMetadata(choices: readonly PrestageChoice[], origin: string, now: Date): PrestageMetadata {
  const content: PrestageContent[] = [];
  const files: Blob[] = [];
  const seen = new Set<string>();
  for (const { object, version } of choices) {
    if (seen.has(object.id)) continue;
    seen.add(object.id);
    const v: ContentVersion | undefined = version === undefined ? currentVersion(object) : object.versions.find((x) => x.version === version);
    if (!v) {
      if (object.withoutSource) continue; // nothing to carry
      throw new ContentError('not-found', `${object.name} (${object.id}) has no ${version === undefined ? 'content version; import its source first' : `version ${version}`}`);
    }
    content.push({ object: { ...object, versions: [v] }, version: v.version, dependencies: object.kind === 'application' ? [...object.dependencies] : [] });
    files.push(...v.files);
  }
  if (content.length === 0) throw new ContentError('invalid', 'nothing to prestage: none of the chosen content has files');
  return { format: PRESTAGE_FORMAT, createdAt: now.toISOString(), origin, content, blobs: distinctBlobs(files) };
}

/** Total bytes of blob data the file will carry (before compression). */
export const prestageBytes = (meta: PrestageMetadata): number => meta.blobs.reduce((n, b) => n + b.size, 0);

/**
 * Streams the archive to `out`: metadata, then every blob read from `store`, gzip level 1
 * (content is mostly compressed already: WIMs, CABs, MSIs; speed matters more than ratio).
 */
export async function writePrestaged(store: ContentStore, meta: PrestageMetadata, out: Writable, opts: { level?: number; onBlob?: (blob: Blob) => void } = {}): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createGzip({ level: opts.level ?? 1 }), out);
  const fail = (e: unknown) => {
    pack.destroy(e as Error);
    return done.catch(() => undefined).then(() => Promise.reject(e));
  };
  try {
    const json = Buffer.from(JSON.stringify(meta));
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: METADATA_ENTRY, size: json.length, mode: 0o644, mtime: new Date(meta.createdAt) }, json, (err) => (err ? reject(err) : resolve())),
    );
    for (const blob of meta.blobs) {
      const source: Readable = await store.open(blob.sha256);
      const entry = pack.entry({ name: blobEntry(blob.sha256), size: blob.size, mode: 0o644, mtime: new Date(meta.createdAt) });
      await pipeline(source, entry);
      opts.onBlob?.(blob);
    }
    pack.finalize();
  } catch (e) {
    return fail(e);
  }
  await done;
}
