/**
 * What the record contract tests share: a store's secret key (bound to the connection or pool it
 * seals through, as the site binds it), its rows as they are on disk, and the error a refused
 * call rejects with.
 */
import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import type { SiteStore } from '../../../../server/site/repos/store.js';
import type { PgSiteStore } from '../../../../server/store/postgres/store.js';
import { bindSecrets } from '../../../../server/store/secrets/binding.js';
import { SecretCipher } from '../../../../server/store/secrets/cipher.js';
import type { SqliteSiteStore } from '../../../../server/store/sqlite/store.js';

/** What the store seals through: the SQLite connection, or the PostgreSQL pool. */
export const holderOf = (store: SiteStore): object => (store.kind === 'sqlite' ? (store as SqliteSiteStore).db : (store as PgSiteStore).pool);

/** Binds a fresh key to the store, as the site does when it opens its database. */
export function withKey(store: SiteStore): void {
  bindSecrets(holderOf(store), {
    cipher: new SecretCipher(randomBytes(32), 'the test key'),
    onUnreadable: (what) => {
      throw new Error(`unexpected unreadable secret: ${what}`);
    },
  });
}

/** Rows as they are on disk, past the repository (`?` placeholders on both engines). */
export async function raw(store: SiteStore, sql: string, ...args: unknown[]): Promise<Record<string, unknown>[]> {
  if (store.kind === 'sqlite') return (store as SqliteSiteStore).db.prepare(sql).all(...args) as Record<string, unknown>[];
  let i = 0;
  return (await (store as PgSiteStore).pool.query<Record<string, unknown>>(sql.replace(/\?/g, () => `$${++i}`), args)).rows;
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function refusal(t: Test, p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  t.fail('expected a refusal');
  return undefined;
}
