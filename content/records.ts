/**
 * Where the library keeps its content objects. Owned by the library; the server implements it
 * on the site database (one row write per put, so a new version appears in one step).
 */
import type { ContentObject } from './model.js';

export interface LibraryRecords {
  get(id: string): Promise<ContentObject | undefined>;
  /** Replaces the whole record atomically: readers see the old or the new one, never a mix. */
  put(record: ContentObject): Promise<void>;
  list(): Promise<ContentObject[]>;
}

/** In-memory records for tests; copies in and out so callers cannot mutate what is stored. */
export class MemoryLibraryRecords implements LibraryRecords {
  readonly #records = new Map<string, ContentObject>();

  async get(id: string): Promise<ContentObject | undefined> {
    const r = this.#records.get(id);
    return r && structuredClone(r);
  }

  async put(record: ContentObject): Promise<void> {
    this.#records.set(record.id, structuredClone(record));
  }

  async list(): Promise<ContentObject[]> {
    return [...this.#records.values()].map((r) => structuredClone(r)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
