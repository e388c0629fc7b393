/**
 * The content library's records: one row per content object, the whole `ContentObject`
 * (versions and their file lists) as its document, and beside it the small `ContentInfo` policy
 * reads (what references check, what boot images declare) and the current version's number, so
 * those reads never parse file lists. The repository derives both from the object on `put`.
 */
import type { ContentObject } from '../../../content/model.js';
import type { ContentInfo } from '../../../policy/content-refs.js';

export interface ContentRepo {
  get(id: string): Promise<ContentObject | null>;
  /**
   * Inserts or replaces the whole record in one statement, so readers see the old record or the
   * new one, never a mix. `updatedAt` (epoch ms) is when it was written.
   */
  put(record: ContentObject, updatedAt: number): Promise<void>;
  /** Removes the record; false when there was none. Its blobs are the content store's. */
  delete(id: string): Promise<boolean>;
  /** Every record, in id order (bytewise). */
  list(): Promise<ContentObject[]>;
  /** What policy needs of one object, without its file lists; null when there is none. */
  info(id: string): Promise<ContentInfo | null>;
  /** The facts of every object, in id order. */
  infos(): Promise<ContentInfo[]>;
  /** The facts of every boot image, in id order: what the public boot routes may serve is what these declare. */
  bootImageInfos(): Promise<ContentInfo[]>;
}
