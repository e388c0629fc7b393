/**
 * Where media builds read content from (DESIGN.md lesson 5: a small interface owned by its
 * user). The site passes its content library; tests pass a library over the in-memory store.
 */
import type { Readable } from 'node:stream';
import { currentVersion, type ContentLibrary } from '../../content/index.js';

export interface MediaContentVersion {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  /** Null when the object has no version (no source files): it goes on the media with no files. */
  readonly version: number | null;
  readonly manifestSha256: string | null;
  readonly files: readonly { readonly path: string; readonly sha256: string; readonly size: number }[];
}

export interface MediaContentSource {
  /** The current version of a content object, or null when there is no such object. */
  current(id: string): Promise<MediaContentVersion | null>;
  open(sha256: string): Promise<Readable>;
}

export function librarySource(library: ContentLibrary): MediaContentSource {
  return {
    async current(id) {
      const o = await library.records.get(id);
      if (!o) return null;
      const v = currentVersion(o);
      return { id: o.id, kind: o.kind, name: o.name, version: v?.version ?? null, manifestSha256: v?.manifestSha256 ?? null, files: v?.files ?? [] };
    },
    open: (sha256) => library.store.open(sha256),
  };
}
