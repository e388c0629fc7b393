/**
 * Computers (R-17) and their MAC addresses. The document is the policy `Computer` whole, hidden
 * variables sealed at rest; the MACs and the SMBIOS UUID are also kept beside it, where lookups
 * and uniqueness need them. Values are stored as given: the site normalises MACs and UUIDs
 * (policy/normalize.ts) before it calls in.
 */
import type { Computer } from '../../../policy/computers.js';
import type { Page, PageRequest } from './common.js';

export interface ComputerFilter {
  /** Substring of the name, ASCII case-insensitive (as the site's list has always matched). */
  readonly name?: string;
  /** Only the computer holding this (normalised) MAC. */
  readonly mac?: string;
  /** Only the computer with this (normalised) SMBIOS UUID. */
  readonly smbiosUuid?: string;
}

export interface ComputerRepo {
  /**
   * Inserts or replaces the computer, and makes its stored MACs exactly `macAddresses`.
   * `createdAt` (epoch ms) is kept only when the computer is new: a replaced computer keeps its
   * own, so an edit does not move it in `page`. A MAC or UUID another computer holds is refused
   * with `ComputerIdentityTaken`, and then nothing of the put is stored.
   */
  put(computer: Computer, createdAt: number): Promise<void>;
  get(id: string): Promise<Computer | null>;
  /** The computer holding the MAC, or null. */
  byMac(mac: string): Promise<Computer | null>;
  byUuid(smbiosUuid: string): Promise<Computer | null>;
  /** Which of `ids` are stored computers (collection rules naming members, R-17). */
  existing(ids: readonly string[]): Promise<Set<string>>;
  /** Removes the computer and its MACs; false when there was none. */
  delete(id: string): Promise<boolean>;
  /** Computers matching every given filter, oldest first (created_at, then id), with the total. */
  page(filter: ComputerFilter, page: PageRequest): Promise<Page<Computer>>;
  /** How many computers are stored. */
  count(): Promise<number>;
  /** Up to `limit` computers with ids after `afterId` (bytewise), in id order: a full read in pages ('' starts). */
  after(afterId: string, limit: number): Promise<Computer[]>;
}

/**
 * A put refused because another computer already holds one of the MACs or the SMBIOS UUID.
 * `field` is the API's name for what clashed, so the site can answer 409 naming it.
 */
export class ComputerIdentityTaken extends Error {
  override readonly name = 'ComputerIdentityTaken';
  constructor(
    readonly field: 'macAddresses' | 'smbiosUuid',
    /** The MAC or UUID, or null when the database refused it without saying which (a concurrent put). */
    readonly value: string | null,
    /** The computer that holds it, when known. */
    readonly heldBy: string | null,
  ) {
    super(
      field === 'macAddresses'
        ? `another computer${heldBy ? ` (${heldBy})` : ''} already has ${value ? `the MAC address ${value}` : 'one of the MAC addresses'}`
        : `another computer${heldBy ? ` (${heldBy})` : ''} already has ${value ? `SMBIOS UUID ${value}` : 'the SMBIOS UUID'}`,
    );
  }
}
