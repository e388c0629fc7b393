/**
 * Signed content URLs, under the site's content URL key: 32 random bytes in the site
 * database (settings row `content-url-secret`), made on first use and held in memory
 * (site-keys.ts). Every service on the same database signs and checks with it; a remote point
 * has its own database and so its own key.
 */
import { MAX_SIGNED_TTL_SECONDS, signedQuery } from '../../content/signed-url.js';
import { invalid } from '../../policy/errors.js';
import type { SiteContext } from './context.js';
import { siteKeys } from './site-keys.js';

/** The key signed URLs are checked with (read once, then from memory). */
export const contentUrlSecret = async (ctx: SiteContext): Promise<Buffer> => (await siteKeys(ctx).load()).contentUrl;

/** `base` + `path` with a signature valid for `ttlSeconds` from the site clock. */
export function signedUrl(ctx: SiteContext, base: string, path: string, ttlSeconds: number): { url: string; expires: number } {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_SIGNED_TTL_SECONDS) {
    throw invalid(`ttlSeconds must be 1..${MAX_SIGNED_TTL_SECONDS}`, 'ttlSeconds');
  }
  const expires = Math.floor(ctx.now() / 1000) + ttlSeconds;
  return { url: `${base.replace(/\/+$/, '')}${path}?${signedQuery(siteKeys(ctx).get().contentUrl, path, expires)}`, expires };
}

/** The URL path of one file of a content version; segments are percent-encoded as a client sends them. */
export const contentFilePath = (id: string, version: number | 'latest', file: string): string =>
  `/content/${encodeURIComponent(id)}/${version}/${file.split('/').map(encodeURIComponent).join('/')}`;

export const blobPath = (sha256: string): string => `/content/sha256/${sha256}`;
