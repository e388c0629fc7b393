/**
 * What a transaction changed among the inputs of boot and client resolution, so the policy
 * state (server/site/policy-state.ts) can apply those changes instead of rebuilding the site.
 * The store records a change whenever it writes a policy table; writes to any other table
 * (status, runs, tokens, audit, media, distribution) record nothing and cost the policy nothing.
 */
import type { Db } from './db.js';

export type PolicyTable = 'computers' | 'collections' | 'task_sequences' | 'deployments';
export const POLICY_TABLES: ReadonlySet<string> = new Set<PolicyTable>(['computers', 'collections', 'task_sequences', 'deployments']);

export type StoreChange =
  | { readonly kind: 'doc'; readonly table: PolicyTable; readonly id: string }
  | { readonly kind: 'settings' }
  /** R-19 records: the pair was added (`present`) or removed. */
  | { readonly kind: 'pxeStart'; readonly computerId: string; readonly deploymentId: string; readonly present: boolean };

interface Journal {
  depth: number;
  changes: StoreChange[];
}

const journals = new WeakMap<Db, Journal>();
const listeners = new WeakMap<Db, (changes: readonly StoreChange[]) => void>();

/** Who applies committed changes (the policy state); called with each transaction's changes. */
export function onCommittedChanges(db: Db, fn: (changes: readonly StoreChange[]) => void): void {
  listeners.set(db, fn);
}

/** Runs `fn` in one transaction; after it commits, hands what it changed to the listener. */
export function journaled<T>(db: Db, fn: () => T): T {
  let journal = journals.get(db);
  if (journal) {
    // Nested: the outer call commits and reports.
    journal.depth++;
    try {
      return db.transaction(fn)();
    } finally {
      journal.depth--;
    }
  }
  journal = { depth: 1, changes: [] };
  journals.set(db, journal);
  let result: T;
  try {
    result = db.transaction(fn)();
  } finally {
    journals.delete(db);
  }
  if (journal.changes.length) listeners.get(db)?.(journal.changes);
  return result;
}

/** Called by the store when it writes a policy input. Outside `journaled` it reports at once. */
export function recordChange(db: Db, change: StoreChange): void {
  const journal = journals.get(db);
  if (journal) journal.changes.push(change);
  else if (!db.inTransaction) listeners.get(db)?.([change]);
  // Inside a transaction opened elsewhere (migrations, key rotation): report once it has ended,
  // committed or not; the policy state re-reads what it is told about, so either way is right.
  else queueMicrotask(() => listeners.get(db)?.([change]));
}

/** Changes committed on another connection of this database (the status writer thread). */
export function reportCommitted(db: Db, changes: readonly StoreChange[]): void {
  if (changes.length) listeners.get(db)?.(changes);
}
