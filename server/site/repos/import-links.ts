/**
 * Import links: the local object each imported object became or was linked to, keyed by
 * the exporting site's code and the id it had there, so importing the same file again proposes
 * Ignore Duplicate. A link whose local object was deleted is simply stale: the site checks that
 * the object still exists before it uses one.
 */
export interface ImportLink {
  readonly originSite: string;
  readonly originId: string;
  /** The exported type: taskSequence or a content kind. */
  readonly type: string;
  readonly localId: string;
}

export interface ImportLinkRepo {
  /** The link of one exported object, or null. */
  get(originSite: string, originId: string): Promise<ImportLink | null>;
  /** The links of those of `originIds` that have one, in no particular order (one round trip for a whole plan). */
  ofOrigins(originSite: string, originIds: readonly string[]): Promise<ImportLink[]>;
  /** Inserts or replaces the link of (originSite, originId); `at` (epoch ms) is when it was imported. */
  put(link: ImportLink, at: number): Promise<void>;
}
