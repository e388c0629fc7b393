/**
 * The content library's records (content/records.ts) on the site store: the library reads and
 * writes them through the content repository (`ctx.store.content`), so they live wherever the
 * site database does. Two synchronous reads stay for the boot path, which answers without
 * awaiting the database, until the policy state keeps them in memory.
 */
import type { ContentObject } from '../../content/model.js';
import type { LibraryRecords } from '../../content/records.js';
import type { ContentInfo } from '../../policy/content-refs.js';
import type { ContentRepo } from './repos/content.js';

/** The boot path's synchronous reads: contentIndex (content.ts) and content-boot-source.ts. */
export interface ContentSyncReads {
  info(id: string): ContentInfo | undefined;
  bootImageInfos(): ContentInfo[];
}

/**
 * @deprecated Synchronous calls of code not yet on the content repository (export, distribution,
 * points, media); use `ctx.store.content` (or `ctx.library.records.get/put/list`) instead.
 */
export interface LegacyContentCalls {
  getSync(id: string): ContentObject | undefined;
  putSync(record: ContentObject): void;
  listSync(): ContentObject[];
}

export class SiteLibraryRecords implements LibraryRecords, ContentSyncReads, LegacyContentCalls {
  /** `repo` is a getter: the composition root makes the records beside the store they use. */
  constructor(
    private readonly repo: () => ContentRepo,
    private readonly reads: ContentSyncReads & LegacyContentCalls,
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

  info(id: string): ContentInfo | undefined {
    return this.reads.info(id);
  }

  bootImageInfos(): ContentInfo[] {
    return this.reads.bootImageInfos();
  }

  /** @deprecated see LegacyContentCalls */
  getSync(id: string): ContentObject | undefined {
    return this.reads.getSync(id);
  }

  /** @deprecated see LegacyContentCalls */
  putSync(record: ContentObject): void {
    this.reads.putSync(record);
  }

  /** @deprecated see LegacyContentCalls */
  listSync(): ContentObject[] {
    return this.reads.listSync();
  }
}
