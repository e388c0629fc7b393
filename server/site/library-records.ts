/**
 * The content library's records (content/records.ts) on the site store: the library reads and
 * writes them through the content repository (`ctx.store.content`), so they live wherever the
 * site database does. What boots read of content (each object's facts) comes from the policy
 * state's content index in memory (policy-state.ts), never from the database.
 */
import type { ContentObject } from '../../content/model.js';
import type { LibraryRecords } from '../../content/records.js';
import type { ContentRepo } from './repos/content.js';

export class SiteLibraryRecords implements LibraryRecords {
  /** `repo` is a getter: the composition root makes the records beside the store they use. */
  constructor(
    private readonly repo: () => ContentRepo,
    private readonly now: () => number,
  ) {}

  async get(id: string): Promise<ContentObject | undefined> {
    return (await this.repo().get(id)) ?? undefined;
  }

  put(record: ContentObject): Promise<void> {
    return this.repo().put(record, this.now());
  }

  list(): Promise<ContentObject[]> {
    return this.repo().list();
  }

  /** Removes the record (its blobs stay in the store); false when there was none. */
  delete(id: string): Promise<boolean> {
    return this.repo().delete(id);
  }
}
