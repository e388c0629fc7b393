/**
 * Per-boot tokens (issue 13): when the site answers a boot (the iPXE script, a media boot's
 * script, the boot policy), it mints a token bound to that machine (its MACs, UUID and
 * computer), the deployments it was given, whether the boot proved itself (PXE password,
 * password-protected media) and an expiry. The token is stateless, `osdb_<payload>.<mac>`,
 * signed with HMAC-SHA256 under the site's boot-token key (a settings row made on first use,
 * like the content URL key, held in memory: site-keys.ts), so answering a boot never writes or
 * reads the database. It dies with its expiry, with
 * the media it came from (revoked, deleted or expired) and with the key.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SiteContext } from './context.js';
import { siteKeys } from './site-keys.js';
import type { ClientBinding, TokenInfo } from './tokens.js';

export const BOOT_TOKEN_PREFIX = 'osdb_';
/** How long a boot's token stays good: a long task sequence, a restart, the report at its end. */
export const BOOT_TOKEN_HOURS = 24;
const MAX_TOKEN_CHARS = 1500;

/** What a boot token carries; short field names keep it small on a kernel command line. */
interface Payload {
  v: 1;
  /** token id, for logs and audit */
  i: string;
  c: string;
  m: string[];
  u: string | null;
  a: string;
  s: 'pxe' | 'media';
  d: string[];
  p: boolean;
  md: string | null;
  /** expiry, ms since the epoch */
  x: number;
}

const sign = (key: Buffer, body: string): string => createHmac('sha256', key).update(body).digest('base64url');

export interface BootTokenInput {
  readonly computerId: string;
  readonly macAddresses: readonly string[];
  readonly smbiosUuid: string | null;
  readonly architecture: string;
  readonly source: 'pxe' | 'media';
  readonly deploymentIds: readonly string[];
  readonly proven: boolean;
  readonly mediaId: string | null;
}

export function mintBootToken(ctx: SiteContext, b: BootTokenInput): { token: string; expiresAt: number } {
  const expiresAt = ctx.now() + BOOT_TOKEN_HOURS * 3600_000;
  const payload: Payload = {
    v: 1,
    i: `b${randomBytes(6).toString('hex')}`,
    c: b.computerId,
    m: [...b.macAddresses].slice(0, 8),
    u: b.smbiosUuid,
    a: b.architecture,
    s: b.source,
    d: [...b.deploymentIds].slice(0, 16),
    p: b.proven,
    md: b.mediaId,
    x: expiresAt,
  };
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return { token: `${BOOT_TOKEN_PREFIX}${body}.${sign(siteKeys(ctx).get().bootToken, body)}`, expiresAt };
}

const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');

/** The principal a per-boot token stands for, or null when it is forged, damaged or its media is gone. */
export async function verifyBootToken(ctx: SiteContext, token: string): Promise<TokenInfo | null> {
  if (token.length > MAX_TOKEN_CHARS) return null;
  const dot = token.lastIndexOf('.');
  if (dot < 0) return null;
  const body = token.slice(BOOT_TOKEN_PREFIX.length, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = Buffer.from(sign((await siteKeys(ctx).load()).bootToken, body), 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let p: Payload;
  try {
    p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Payload;
  } catch {
    return null;
  }
  if (p?.v !== 1 || typeof p.c !== 'string' || !isStrings(p.m) || !isStrings(p.d) || typeof p.x !== 'number' || (p.s !== 'pxe' && p.s !== 'media')) return null;
  // A boot that came from media lives as long as its media: revoked or deleted media end it.
  let mediaExpiry: number | null = null;
  if (p.md !== null) {
    const media = await ctx.store.tokens.newestForMedia(p.md);
    if (!media || media.revokedAt !== null) return null;
    if (media.expiresAt !== null && media.expiresAt < p.x) mediaExpiry = media.expiresAt;
  }
  const binding: ClientBinding = {
    scope: 'boot',
    computerId: p.c,
    macAddresses: p.m,
    smbiosUuid: p.u ?? null,
    architecture: typeof p.a === 'string' ? p.a : null,
    source: p.s,
    deploymentIds: p.d,
    proven: p.p === true,
    mediaId: p.md ?? null,
  };
  return {
    id: p.i,
    name: `boot of ${p.m[0] ?? p.u ?? p.c}`,
    role: 'client',
    createdAt: p.x - BOOT_TOKEN_HOURS * 3600_000,
    revokedAt: null,
    expiresAt: mediaExpiry ?? p.x,
    expiresWithMedia: mediaExpiry !== null,
    mediaId: p.md ?? null,
    scope: 'boot',
    computerId: p.c,
    binding,
  };
}
