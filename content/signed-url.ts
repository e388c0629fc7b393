/**
 * Signed content URLs: `?expires=<unix seconds>&sig=<base64url HMAC-SHA256>` over
 * the method class, the exact path and the expiry, with a secret only the site knows. A link can
 * be handed to something that holds no token (a remote point pulling, a media build, firmware)
 * and stops working at its expiry; changing any byte of the path breaks it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A link valid for longer than this is refused when made: a leaked link must die eventually. */
export const MAX_SIGNED_TTL_SECONDS = 7 * 24 * 3600;

// GET and HEAD read the same bytes, so one signature covers both.
const payload = (path: string, expires: number): string => `GET\n${path}\n${expires}`;

export function signPath(secret: Buffer, path: string, expires: number): string {
  return createHmac('sha256', secret).update(payload(path, expires)).digest('base64url');
}

/** Query string (without `?`) that makes `path` readable until `expires` (unix seconds). */
export function signedQuery(secret: Buffer, path: string, expires: number): string {
  return `expires=${expires}&sig=${signPath(secret, path, expires)}`;
}

export type SignatureCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Checks a presented signature for `path` at time `nowSeconds`. `path` must be the raw request
 * path (percent-encoding as sent), so two spellings of one file need two signatures.
 */
export function checkSignature(secret: Buffer, path: string, expiresRaw: unknown, sigRaw: unknown, nowSeconds: number): SignatureCheck {
  if (typeof expiresRaw !== 'string' || !/^\d{1,12}$/.test(expiresRaw)) return { ok: false, reason: 'expires must be unix seconds' };
  if (typeof sigRaw !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(sigRaw)) return { ok: false, reason: 'sig is not a signature' };
  const expires = Number(expiresRaw);
  const want = Buffer.from(signPath(secret, path, expires), 'base64url');
  const got = Buffer.from(sigRaw, 'base64url');
  // Compare first, in constant time, so a forged link learns nothing from the expiry check.
  if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, reason: 'the signature does not match' };
  if (expires < nowSeconds) return { ok: false, reason: 'the link has expired' };
  return { ok: true };
}
