/** The audit log: append-only, read newest first, filtered by exact target, action or actor. */
import type { Page, PageRequest } from './common.js';

export interface AuditEntry {
  /** Epoch ms. */
  readonly at: number;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface AuditRecord extends AuditEntry {
  /** Position in the log, increasing with every append. */
  readonly seq: number;
}

export interface AuditFilter {
  readonly target?: string;
  readonly action?: string;
  readonly actor?: string;
}

export interface AuditRepo {
  /** Appends one record and returns its seq. */
  append(entry: AuditEntry): Promise<number>;
  /** Records that match every given filter, newest first. */
  page(filter: AuditFilter, page: PageRequest): Promise<Page<AuditRecord>>;
}
