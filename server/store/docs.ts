/**
 * Shared helpers for tables that keep a policy object as a JSON document beside the columns
 * that queries and constraints need. Table and column names come from code, never from input.
 * Secrets inside documents are sealed on the way in and opened on the way out (secrets/).
 */
import type { Db } from './db.js';
import { POLICY_TABLES, recordChange, type PolicyTable } from './change-journal.js';
import { openDoc, sealDoc } from './secrets/binding.js';

export function getDoc<T>(db: Db, table: string, id: string): T | undefined {
  const row = db.prepare(`SELECT doc FROM ${table} WHERE id = ?`).get(id) as { doc: string } | undefined;
  return row ? openDoc<T>(db, table, row.doc) : undefined;
}

export function allDocs<T>(db: Db, table: string, orderBy = 'id'): T[] {
  return (db.prepare(`SELECT doc FROM ${table} ORDER BY ${orderBy}`).all() as { doc: string }[]).map((r) => openDoc<T>(db, table, r.doc));
}

/** Up to `limit` documents with ids after `afterId`, in id order: a full read in pages. */
export function docsAfter<T>(db: Db, table: string, afterId: string, limit: number): T[] {
  return (db.prepare(`SELECT doc FROM ${table} WHERE id > ? ORDER BY id LIMIT ?`).all(afterId, limit) as { doc: string }[]).map((r) => openDoc<T>(db, table, r.doc));
}

/** Inserts or replaces the row `id` with `columns` and the document. */
export function putDoc(db: Db, table: string, id: string, columns: Record<string, unknown>, doc: unknown): void {
  const names = ['id', ...Object.keys(columns), 'doc'];
  const values = [id, ...Object.values(columns), JSON.stringify(sealDoc(db, table, doc))];
  const updates = names.slice(1).map((n) => `${n} = excluded.${n}`).join(', ');
  db.prepare(`INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')}) ON CONFLICT (id) DO UPDATE SET ${updates}`).run(...values);
  if (POLICY_TABLES.has(table)) recordChange(db, { kind: 'doc', table: table as PolicyTable, id, doc: doc as object });
}

/** A document read with SQL of its own (filters, paging), as `getDoc` would return it. */
export const readDoc = <T>(db: Db, table: string, text: string): T => openDoc<T>(db, table, text);

export function deleteRow(db: Db, table: string, id: string): boolean {
  const deleted = db.prepare(`DELETE FROM ${table} WHERE id = ?`).run(id).changes > 0;
  if (deleted && POLICY_TABLES.has(table)) recordChange(db, { kind: 'doc', table: table as PolicyTable, id, doc: null });
  return deleted;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
}

/** Escapes LIKE wildcards so a filter value matches literally. */
export const likeContains = (s: string): string => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
