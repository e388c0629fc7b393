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
  /** A deployment's messages, in arrival order. */
  ofDeployment(deploymentId: string): Promise<StatusMessage[]>;
  /** A computer's messages, in arrival order. */
  ofComputer(computerId: string): Promise<StatusMessage[]>;
  /** Messages matching every given filter, newest first. */
  page(filter: StatusFilter, page: PageRequest): Promise<Page<StatusMessage>>;

  /** remembers the start; false when that computer's start of that deployment is remembered already. */
  recordRequiredPxeStart(start: RequiredPxeStart): Promise<boolean>;
  /** Every remembered start (the policy snapshot), by computer then deployment. */
  requiredPxeStarts(): Promise<RequiredPxeStart[]>;
  /** One computer's remembered starts, oldest first. */
  requiredPxeStartsOf(computerId: string): Promise<RequiredPxeStart[]>;
  /** "Clear Required PXE Deployments" (by computer), or a deleted deployment's records; returns how many went. */
  clearRequiredPxeStarts(target: { readonly computerId: string } | { readonly deploymentId: string }): Promise<number>;
}
