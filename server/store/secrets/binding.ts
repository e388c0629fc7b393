/**
 * The storage seam for secrets: a database handle is bound to its cipher when the site opens it
 * (open.ts), and the document helpers (docs.ts, points.ts) seal secrets on their way into SQLite
 * and open them on their way out, so the policy layer and the API see plain values as before.
 *
 * Reading is strict about the key and lenient about damage: a value sealed with another key
 * throws (`wrong-key`; nothing is dropped that the right key could still open), while a value
 * that is malformed or fails authentication under our own key — which no key can open — is
 * reported through `onUnreadable` (logged, naming it) and left out of what is read, so one
 * damaged password makes its task sequence "need passwords" instead of failing every boot.
 */
import type { Db } from '../db.js';
import { isEnvelope, SecretError, type SecretCipher } from './cipher.js';
import { SECRET_TABLES, type Visit } from './fields.js';

export interface SecretBinding {
  readonly cipher: SecretCipher;
  /** Told once per value that cannot be read; never given the value. */
  readonly onUnreadable: (what: string, error: SecretError) => void;
}

/**
 * Keyed by the handle the documents go through: a better-sqlite3 connection, or any object a
 * store uses as its handle (the PostgreSQL store binds its pool), so both seal the same way.
 */
export type SecretHolder = object;
const bindings = new WeakMap<SecretHolder, SecretBinding>();

export function bindSecrets(db: SecretHolder, binding: SecretBinding): void {
  bindings.set(db, binding);
}

export const cipherOf = (db: SecretHolder): SecretCipher | null => bindings.get(db)?.cipher ?? null;

/** How many clear values a migration sealed on this handle, so the opener can scrub the file after it. */
const sealedCounts = new WeakMap<Db, number>();
export const noteSealed = (db: Db, n: number): void => void sealedCounts.set(db, (sealedCounts.get(db) ?? 0) + n);
export function takeSealed(db: Db): number {
  const n = sealedCounts.get(db) ?? 0;
  sealedCounts.delete(db);
  return n;
}

const noKey = (what: string): SecretError =>
  new SecretError('no-key', `${what} must be stored encrypted, but no secret key is loaded for this database (open it through openSite or openSiteDatabase)`);

/** The visitor that seals plain values (an envelope this key already sealed is kept as it is). */
export function sealer(db: SecretHolder): Visit {
  return (value, what) => {
    const cipher = cipherOf(db);
    if (!cipher) throw noKey(what);
    return isEnvelope(value) && cipher.sealedHere(value) ? value : cipher.seal(value);
  };
}

/** The visitor that opens envelopes; plain values (from before encryption) pass as they are. */
export function opener(db: SecretHolder): Visit {
  return (value, what) => {
    if (!isEnvelope(value)) return value;
    const binding = bindings.get(db);
    if (!binding) throw noKey(what);
    try {
      return binding.cipher.open(value, what);
    } catch (e) {
      if (e instanceof SecretError && e.code === 'unreadable') {
        binding.onUnreadable(what, e);
        return null;
      }
      throw e;
    }
  };
}

/** `doc` as it is stored: secrets of the table sealed. */
export function sealDoc(db: SecretHolder, table: string, doc: unknown): unknown {
  const t = SECRET_TABLES.get(table);
  return t ? t.map(doc, sealer(db)) : doc;
}

/** A stored document as the policy layer reads it: secrets opened. */
export function openDoc<T>(db: SecretHolder, table: string, text: string): T {
  const doc = JSON.parse(text) as unknown;
  const t = SECRET_TABLES.get(table);
  // Only documents that hold an envelope need the walk: most computers have no hidden variable.
  return (t && text.includes('"enc:v1:') ? t.map(doc, opener(db)) : doc) as T;
}

export const sealValue = (db: SecretHolder, plain: string, what: string): string => sealer(db)(plain, what)!;
export const openValue = (db: SecretHolder, stored: string, what: string): string | null => opener(db)(stored, what);
