/** Device collections as documents: the policy `Collection` whole, hidden variables sealed at rest. */
import type { Collection } from '../../../policy/collections.js';

export interface CollectionRepo {
  /** Inserts or replaces the collection; a name another collection has is refused with `CollectionNameTaken`. */
  put(collection: Collection): Promise<void>;
  get(id: string): Promise<Collection | null>;
  byName(name: string): Promise<Collection | null>;
  /** False when there was none. Rules and deployments naming it are the site's to check first. */
  delete(id: string): Promise<boolean>;
  /** Every collection, in id order (bytewise). A site has tens to hundreds, read whole. */
  list(): Promise<Collection[]>;
}

/** Collection names are unique (exact, case-sensitive), as the SQLite table has always required. */
export class CollectionNameTaken extends Error {
  override readonly name = 'CollectionNameTaken';
  readonly field = 'name';
  constructor(
    readonly collectionName: string,
    /** The collection that has the name, when known. */
    readonly heldBy: string | null,
  ) {
    super(`a collection named ${collectionName} already exists`);
  }
}
