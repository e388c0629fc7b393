/**
 * The site's secret for signed content URLs: 32 random bytes kept in the site database
 * (settings row `content-url-secret`), made on first use. Every service on the same database
 * signs and checks with it; a remote point has its own database and so its own secret.
 */
import { randomBytes } from 'node:crypto';
import { MAX_SIGNED_TTL_SECONDS, signedQuery } from '../../content/signed-url.js';
import { invalid } from '../../policy/errors.js';
import type { Db } from '../store/db.js';
import type { SiteContext } from './context.js';

const NAME = 'content-url-secret';
const cache = new WeakMap<Db, Buffer>();

export function contentUrlSecret(db: Db): Buffer {
  const cached = cache.get(db);
  if (cached) return cached;
  // INSERT … ON CONFLICT DO NOTHING: two processes on one database agree on the first secret.
  db.prepare('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING').run(NAME, randomBytes(32).toString('hex'));
  const row = db.prepare('SELECT value FROM settings WHERE name = ?').get(NAME) as { value: string };
  const secret = Buffer.from(row.value, 'hex');
  cache.set(db, secret);
  return secret;
}

/** `base` + `path` with a signature valid for `ttlSeconds` from the site clock. */
export function signedUrl(ctx: SiteContext, base: string, path: string, ttlSeconds: number): { url: string; expires: number } {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_SIGNED_TTL_SECONDS) {
    throw invalid(`ttlSeconds must be 1..${MAX_SIGNED_TTL_SECONDS}`, 'ttlSeconds');
  }
  const expires = Math.floor(ctx.now() / 1000) + ttlSeconds;
  return { url: `${base.replace(/\/+$/, '')}${path}?${signedQuery(contentUrlSecret(ctx.db), path, expires)}`, expires };
}

/** The URL path of one file of a content version; segments are percent-encoded as a client sends them. */
export const contentFilePath = (id: string, version: number | 'latest', file: string): string =>
  `/content/${encodeURIComponent(id)}/${version}/${file.split('/').map(encodeURIComponent).join('/')}`;

export const blobPath = (sha256: string): string => `/content/sha256/${sha256}`;
