/**
 * Distribution in four small repositories: points (a remote point's tokens sealed at rest
 * in a column of their own, so no document a reader gets ever carries them), point groups, what
 * each point holds of each content version ("holdings"), and distribution jobs. Records are the
 * pure `content/` types, stored whole; the site checks references (collections, points in groups)
 * before it calls in.
 */
import type { DistributionJob } from '../../../content/distribution-job.js';
import type { DistributionPoint, Holding, PointGroup } from '../../../content/distribution.js';
import type { Page, PageRequest } from './common.js';

/** Tokens the site uses with a remote point: its own (admin) one, and a client one for machines. */
export interface PointSecret {
  readonly token: string;
  readonly clientToken: string | null;
}

export interface PointRepo {
  /**
   * Inserts or replaces the point. `secret`: left out keeps the stored tokens, null removes them.
   * A name another point has is refused with `PointNameTaken`, and then nothing is stored.
   */
  put(point: DistributionPoint, secret?: PointSecret | null): Promise<void>;
  get(id: string): Promise<DistributionPoint | null>;
  /** Every point, in id order (bytewise). A site has a handful to hundreds, read whole. */
  list(): Promise<DistributionPoint[]>;
  /** The point's tokens; null when it has none, or when they cannot be decrypted (logged by the opener). */
  secret(id: string): Promise<PointSecret | null>;
  /** Removes the point and its holdings together; false when there was none. Groups naming it are the site's to edit. */
  delete(id: string): Promise<boolean>;
}

export interface PointGroupRepo {
  /** Inserts or replaces the group; a name another group has is refused with `PointNameTaken`. */
  put(group: PointGroup): Promise<void>;
  get(id: string): Promise<PointGroup | null>;
  /** Every group, in id order. */
  list(): Promise<PointGroup[]>;
  delete(id: string): Promise<boolean>;
}

export interface HoldingFilter {
  readonly pointId?: string;
  readonly contentId?: string;
  /** Any of these content ids; an empty list matches nothing. */
  readonly contentIds?: readonly string[];
}

export interface HoldingRepo {
  /** Holdings matching every given filter, by point, content and version. */
  list(filter?: HoldingFilter): Promise<Holding[]>;
  /**
   * Inserts or replaces the holding of (point, content, version). False, and nothing stored, when
   * the point is not stored (removed while a transfer to it ran).
   */
  put(holding: Holding): Promise<boolean>;
  /** Forgets every point's holdings of a content object (deleting it); returns how many went. */
  deleteOfContent(contentId: string): Promise<number>;
}

export interface DistributionJobRepo {
  /** Inserts or replaces the job (its state and items change as it runs). */
  put(job: DistributionJob): Promise<void>;
  get(id: string): Promise<DistributionJob | null>;
  /** Newest first (created_at, then id, both descending), with the total. */
  page(page: PageRequest): Promise<Page<DistributionJob>>;
  /** Jobs still queued or running, oldest first: what a restart finds interrupted. */
  unfinished(): Promise<DistributionJob[]>;
}

/** Point and group names are unique (exact, case-sensitive), each among its kind. */
export class PointNameTaken extends Error {
  override readonly name = 'PointNameTaken';
  readonly field = 'name';
  constructor(
    readonly what: 'distribution point' | 'distribution point group',
    readonly takenName: string,
    /** The point or group that has the name, when known. */
    readonly heldBy: string | null,
  ) {
    super(`a ${what} named ${takenName} exists`);
  }
}
