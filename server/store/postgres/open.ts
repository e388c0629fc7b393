/**
 * Opening the site on PostgreSQL (OSDEPLOY_DATABASE_URL): connect, migrate (one node at a time:
 * migrate.ts), then load the secret key and check it against the key id the database records,
 * as the SQLite opener does (secrets/open.ts). A node started with another key than the one the
 * site's secrets were sealed with is refused before it writes anything; the first node of a new
 * database records its key.
 */
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { redact } from '../open-store.js';
import { bindingOf, loadCipher, type SecretKeyConfig } from '../secrets/open.js';
import { SecretError } from '../secrets/cipher.js';
import { migratePg } from './migrate.js';
import { createPool } from './pool.js';
import { PgSiteStore } from './store.js';

export interface OpenPgSiteOptions extends SecretKeyConfig {
  readonly log?: Logger;
  /** Pool size (pg's default is 10). */
  readonly max?: number;
}

export async function openPgSite(url: string, opts: OpenPgSiteOptions): Promise<PgSiteStore> {
  const where = `the site database ${redact(url)}`;
  const pool = createPool(url, {
    ...(opts.max !== undefined ? { max: opts.max } : {}),
    onIdleError: (err) => opts.log?.warn({ err: err.message }, 'an idle database connection failed; it is replaced on next use'),
  });
  try {
    await migratePg(pool);
    const stored = (await pool.query<{ key_id: string }>('SELECT key_id FROM secret_keys ORDER BY key_id')).rows.map((r) => r.key_id);
    const cipher = loadCipher(opts, stored, where);
    if (stored.length === 0) await recordFirstKey(pool, cipher.keyId, cipher.source, where);
    return new PgSiteStore(pool, { ownsPool: true, secrets: bindingOf(cipher, opts.log) });
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
}

/** Two first nodes at once: the first key recorded wins, and the other node is refused before it seals anything. */
async function recordFirstKey(pool: Pool, keyId: string, source: string, where: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtext('osdeploy secret key'))");
    const now = (await client.query<{ key_id: string }>('SELECT key_id FROM secret_keys')).rows.map((r) => r.key_id);
    if (now.length === 0) await client.query('INSERT INTO secret_keys (key_id, created_at) VALUES ($1, $2)', [keyId, Date.now()]);
    await client.query('COMMIT');
    if (now.length > 0 && !now.includes(keyId)) throw new SecretError('wrong-key', `${source} (key ${keyId}) is not the key ${where} records (key ${now.join(', ')}): give every node the same key`);
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}
