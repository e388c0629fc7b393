/**
 * Passes over every stored secret: the walk itself (each secret table's documents and the
 * points' token column), the key ids the database was sealed with (table `secret_keys`,
 * migration 6), and sealing what older versions stored in the clear (migration 6's step).
 */
import type { Db } from '../db.js';
import { cipherOf, noteSealed } from './binding.js';
import { isEnvelope, SecretError } from './cipher.js';
import { pointSecretWhat, SECRET_TABLES, type Visit } from './fields.js';

/** The key ids recorded for the database; empty before migration 6 or before the first key. */
export function storedKeyIds(db: Db): string[] {
  try {
    return (db.prepare('SELECT key_id FROM secret_keys ORDER BY key_id').all() as { key_id: string }[]).map((r) => r.key_id);
  } catch (e) {
    if (/no such table/.test((e as Error).message)) return [];
    throw e;
  }
}

export function recordKeyId(db: Db, keyId: string, now: number): void {
  db.prepare('DELETE FROM secret_keys').run();
  db.prepare('INSERT INTO secret_keys (key_id, created_at) VALUES (?, ?)').run(keyId, now);
}

/**
 * Visits every secret; rows whose secrets `visit` changed are written back. `onlySealed` skips
 * rows that hold no envelope (a cheap LIKE in SQL). Returns how many secrets were visited.
 */
export function walkSecrets(db: Db, visit: Visit, opts: { onlySealed?: boolean } = {}): number {
  let seen = 0;
  let changed: boolean;
  const counting: Visit = (value, what) => {
    seen++;
    const next = visit(value, what);
    if (next !== value) changed = true;
    return next;
  };
  const filter = opts.onlySealed ? ` WHERE doc LIKE '%"enc:v1:%'` : '';
  for (const t of SECRET_TABLES.values()) {
    const update = db.prepare(`UPDATE ${t.table} SET doc = ? WHERE id = ?`);
    // all(), not iterate(): a connection cannot write while a statement is still reading.
    for (const row of db.prepare(`SELECT id, doc FROM ${t.table}${filter}`).all() as { id: string; doc: string }[]) {
      changed = false;
      const next = t.map(JSON.parse(row.doc), counting);
      if (changed) update.run(JSON.stringify(next), row.id);
    }
  }
  const updatePoint = db.prepare('UPDATE distribution_points SET secret = ? WHERE id = ?');
  for (const row of db.prepare('SELECT id, secret FROM distribution_points WHERE secret IS NOT NULL').all() as { id: string; secret: string }[]) {
    if (opts.onlySealed && !isEnvelope(row.secret)) continue;
    const next = counting(row.secret, pointSecretWhat(row.id));
    if (next === null) throw new SecretError('unreadable', `${pointSecretWhat(row.id)} cannot be kept`);
    if (next !== row.secret) updatePoint.run(next, row.id);
  }
  return seen;
}

/**
 * Migration 6: seals every secret an older version stored in the clear. Needs the key bound
 * (openSiteDatabase binds it before migrating); a database with nothing to seal needs none.
 */
export function sealStoredSecrets(db: Db): void {
  let sealed = 0;
  walkSecrets(db, (value, what) => {
    if (isEnvelope(value)) return value;
    const cipher = cipherOf(db);
    if (!cipher) throw new SecretError('no-key', `${what} is stored in the clear and must be encrypted, but no secret key is loaded for this database`);
    sealed++;
    return cipher.seal(value);
  });
  noteSealed(db, sealed);
}
