/**
 * What a transaction changed among the inputs of boot and client resolution, so the policy
 * state (server/site/policy-state.ts) can apply those changes instead of rebuilding the site.
 * The store records a change whenever it writes a policy table; writes to any other table
 * (status, runs, tokens, audit, media, distribution) record nothing and cost the policy nothing.
 */
import type { CommitListener, StoreChange } from '../site/repos/changes.js';
import type { Db } from './db.js';

export { POLICY_TABLES, type PolicyTable, type StoreChange } from '../site/repos/changes.js';

export interface Journal {
  depth: number;
  changes: StoreChange[];
}

const journals = new WeakMap<Db, Journal>();
const listeners = new WeakMap<Db, Set<CommitListener>>();

function report(db: Db, changes: readonly StoreChange[]): void {
  if (changes.length) for (const fn of listeners.get(db) ?? []) fn(changes);
}

/** Adds a listener for committed changes (the policy state); returns its removal. */
export function onCommittedChanges(db: Db, fn: CommitListener): () => void {
  let set = listeners.get(db);
  if (!set) listeners.set(db, (set = new Set()));
  set.add(fn);
  return () => set.delete(fn);
}

/**
 * Opens a journal for a transaction about to begin on `db`, or returns null when one is open
 * already (the outer transaction reports). Pair with `closeJournal` once it committed or rolled back.
 */
export function openJournal(db: Db): Journal | null {
  if (journals.has(db)) return null;
  const journal: Journal = { depth: 1, changes: [] };
  journals.set(db, journal);
  return journal;
}

/** Ends the journal; after a commit, hands what the transaction changed to the listeners. */
export function closeJournal(db: Db, journal: Journal | null, committed: boolean): void {
  if (!journal) return;
  journals.delete(db);
  if (committed) report(db, journal.changes);
}

/** Runs `fn` in one transaction; after it commits, hands what it changed to the listeners. */
export function journaled<T>(db: Db, fn: () => T): T {
  const journal = openJournal(db);
  if (!journal) return db.transaction(fn)(); // nested: the outer call commits and reports
  let committed = false;
  try {
    const result = db.transaction(fn)();
    committed = true;
    return result;
  } finally {
    closeJournal(db, journal, committed);
  }
}

/** Called by the store when it writes a policy input. Outside any transaction it reports at once. */
export function recordChange(db: Db, change: StoreChange): void {
  const journal = journals.get(db);
  if (journal) journal.changes.push(change);
  else if (!db.inTransaction) report(db, [change]);
  // Inside a transaction opened elsewhere (migrations, key rotation): report once it has ended,
  // committed or not; the policy state re-reads what it is told about, so either way is right.
  else queueMicrotask(() => report(db, [change]));
}

/** Changes committed on another connection of this database (the status writer thread). */
export function reportCommitted(db: Db, changes: readonly StoreChange[]): void {
  report(db, changes);
}
