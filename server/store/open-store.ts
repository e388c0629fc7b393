/**
 * Picks the site store from where the database is: `postgres://…` or `postgresql://…` is a
 * PostgreSQL server (OSDEPLOY_DATABASE_URL, `--database-url`, config `databaseUrl`); `file:` URLs
 * and plain paths are the embedded SQLite database. Other URL schemes are refused, so a typo
 * such as `postgress://` cannot quietly become a file of that name.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SiteStore } from '../site/repos/store.js';
import { openDatabase, type Db } from './db.js';
import type { PgPoolOptions } from './postgres/pool.js';
import { openPgStore } from './postgres/store.js';
import { openSqliteStore } from './sqlite/store.js';

export type StoreTarget = { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'postgres'; readonly url: string };

export function storeTargetOf(where: string): StoreTarget {
  const text = where.trim();
  if (text === '') throw new Error('the database location is empty: give a SQLite file path or a postgres:// URL');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') {
    if (!/^postgres(ql)?:\/\//i.test(text)) throw new Error(`${redact(text)} is not a PostgreSQL URL (postgres://user@host:port/database)`);
    return { kind: 'postgres', url: text };
  }
  if (scheme === 'file') return { kind: 'sqlite', file: fileURLToPath(text) };
  // One letter before ':' is a Windows drive, not a scheme.
  if (scheme !== undefined && scheme.length > 1 && /^[a-z][a-z0-9+.-]*:\/\//i.test(text))
    throw new Error(`unsupported database URL scheme ${scheme}: use postgres://… for PostgreSQL, or a file path for SQLite`);
  return { kind: 'sqlite', file: text === ':memory:' ? text : path.resolve(text) };
}

/** The URL as it may be logged: without a password. */
export function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

export interface OpenStoreOptions extends PgPoolOptions {
  /** How the SQLite file is opened (the site binds its secret key: secrets/open.ts); default `openDatabase`. */
  readonly openSqlite?: (file: string) => Db;
}

export async function openStore(where: string, opts: OpenStoreOptions = {}): Promise<SiteStore> {
  const target = storeTargetOf(where);
  if (target.kind === 'postgres') return openPgStore(target.url, opts);
  return openSqliteStore(target.file, opts.openSqlite ?? openDatabase);
}
