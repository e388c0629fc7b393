/**
 * Status messages (R-30) and what the site remembers of runs: each message is stored once (its
 * engine-made id makes a resend harmless) and returned whole, in arrival order, so runs are
 * derived from them (policy/status.ts `runsOf`) exactly as they were sent; and R-19's record
 * that a computer started a Required deployment from PXE, written in the same transaction as
 * the runStarted message that proved it.
 */
import type { StatusMessage } from '../../../policy/status.js';
import type { Page, PageRequest } from './common.js';

export interface StatusFilter {
  readonly computerId?: string;
  readonly deploymentId?: string;
}

export interface RequiredPxeStart {
  readonly computerId: string;
  readonly deploymentId: string;
  readonly startedAt: number;
}

export interface StatusRepo {
  /** Stores the message; false when a message with its id is stored already (nothing changes). */
  insert(message: StatusMessage): Promise<boolean>;
  /** Stores a batch in order (one round trip where the engine allows); per message, stored (true) or a duplicate (false). */
  insertMany(messages: readonly StatusMessage[]): Promise<boolean[]>;
  /** A deployment's messages, in arrival order. */
  ofDeployment(deploymentId: string): Promise<StatusMessage[]>;
  /** A computer's messages, in arrival order. */
  ofComputer(computerId: string): Promise<StatusMessage[]>;
  /** Messages matching every given filter, newest first. */
  page(filter: StatusFilter, page: PageRequest): Promise<Page<StatusMessage>>;
}

/** One status message as a status writer stores it (../status.ts prepares them on the main thread). */
export interface StatusRow {
  readonly id: string;
  readonly at: number;
  readonly computerId: string;
  readonly deploymentId: string;
  readonly kind: string;
  /** The message document, as JSON text. */
  readonly doc: string;
  /** record that this computer started this Required deployment from PXE, if the message is new. */
  readonly requiredPxeStart: boolean;
}

export interface StatusWriteResult {
  /** Per row: stored (true) or a duplicate of a message stored before (false). */
  readonly inserted: readonly boolean[];
  /** R-19 records this batch added. */
  readonly pxeStartsAdded: readonly { readonly computerId: string; readonly deploymentId: string }[];
  /** The thread that wrote it (0: the main thread). */
  readonly thread: number;
}

/** Stores batches of status messages with the R-19 records they start, each batch in one transaction. */
export interface StatusWriter {
  write(rows: readonly StatusRow[], now: number): Promise<StatusWriteResult>;
  close(): Promise<void>;
}
