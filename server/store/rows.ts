/**
 * What the SQLite and PostgreSQL repositories share: row shapes and their mapping, the JSON
 * text both keep documents as, and WHERE clauses built from filters (column names come from
 * code, values are always parameters).
 */
import type { TokenRecord } from '../site/repos/tokens.js';

export const TOKEN_COLUMNS = 'id, name, role, hash, created_at, revoked_at, expires_at, media_id, scope, computer_id';

export interface TokenRow {
  id: string;
  name: string;
  role: string;
  hash: string;
  created_at: number;
  revoked_at: number | null;
  expires_at: number | null;
  media_id: string | null;
  scope: string | null;
  computer_id: string | null;
}

export const tokenOf = (r: TokenRow): TokenRecord => ({
  id: r.id,
  name: r.name,
  role: r.role,
  hash: r.hash,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  expiresAt: r.expires_at,
  mediaId: r.media_id,
  scope: r.scope,
  computerId: r.computer_id,
});

export const tokenValues = (t: TokenRecord): unknown[] => [t.id, t.name, t.role, t.hash, t.createdAt, t.revokedAt, t.expiresAt, t.mediaId, t.scope, t.computerId];

/** Documents are stored as JSON text on both engines (postgres/migrations.ts says why not jsonb). */
export function jsonText(value: unknown, what: string): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`${what} is not JSON-serialisable`);
  return text;
}

/** `WHERE a = ? AND b = ?` for the filters that are set, with the engine's placeholders. */
export function whereOf(filters: readonly (readonly [column: string, value: string | undefined])[], p: (i: number) => string): { clause: string; args: string[] } {
  const set = filters.filter((f): f is readonly [string, string] => f[1] !== undefined && f[1] !== '');
  return { clause: set.length ? `WHERE ${set.map(([c], i) => `${c} = ${p(i + 1)}`).join(' AND ')}` : '', args: set.map(([, v]) => v) };
}

export const sqlitePlaceholder = (): string => '?';
export const pgPlaceholder = (i: number): string => `$${i}`;

/** The paging arguments as the site's routes pass them, checked once for both engines. */
export function checkPage(page: { offset: number; limit: number }): void {
  if (!Number.isSafeInteger(page.offset) || page.offset < 0) throw new RangeError(`offset must be a whole number ≥ 0, not ${page.offset}`);
  if (!Number.isSafeInteger(page.limit) || page.limit < 0) throw new RangeError(`limit must be a whole number ≥ 0, not ${page.limit}`);
}

/** The id statements both engines run (site/repos/ids.ts; placeholders by `p`): advance a kind's counter, claim an id. */
export const ID_SQL = (p: (i: number) => string) => ({
  advance: `INSERT INTO counters (name, value) VALUES (${p(1)}, 1) ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`,
  claim: `INSERT INTO site_ids (id, kind) VALUES (${p(1)}, ${p(2)}) ON CONFLICT (id) DO NOTHING`,
});
