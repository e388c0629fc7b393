/**
 * API tokens (R-31): a random bearer secret shown once, stored only as its sha256. Roles:
 * admin (everything), technician (media and what building it needs), client (boot policy,
 * status, content). A client token is bound (its scope, docs/security.md "Token model"):
 * - `site`: a trusted relay an administrator made on purpose; acts for any computer;
 * - `computer`: one computer's agent token; its own policy, secrets and status;
 * - `enroll`: boots and registers machines, reads no secret, reports no status;
 * - `media`: an enroll token bound to its media, whose own settings its boots follow (R-20);
 *   it proves a boot only when the media are password-protected;
 * - `boot`: per-boot tokens the site mints when it answers a boot (boot-tokens.ts), never stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { invalid, notFound } from '../../policy/errors.js';
import { normalizeName } from '../../policy/normalize.js';
import { audit, transact, type SiteContext } from './context.js';
import { BOOT_TOKEN_PREFIX, verifyBootToken } from './boot-tokens.js';
import type { SiteRepos, TokenRecord } from './repositories.js';

export const ROLES = ['admin', 'technician', 'client'] as const;
export type Role = (typeof ROLES)[number];

export const CLIENT_SCOPES = ['site', 'computer', 'enroll', 'media'] as const;
export type StoredScope = (typeof CLIENT_SCOPES)[number];
export type ClientScope = StoredScope | 'boot';

/** What a per-boot token (and a stored client token, as far as it applies) is bound to. */
export interface ClientBinding {
  readonly scope: ClientScope;
  /** computer and boot scopes: the computer (for a boot of an unknown machine, its Unknown Computer object). */
  readonly computerId: string | null;
  /** boot scope: the identity the site answered, which every later call is held to. */
  readonly macAddresses: readonly string[];
  readonly smbiosUuid: string | null;
  readonly architecture: string | null;
  readonly source: 'pxe' | 'media' | null;
  /** boot scope: the deployments that boot was given (the one it runs, or those offered). */
  readonly deploymentIds: readonly string[] | null;
  /** Whether the boot proved itself (PXE password, protected media, agent token): only then secrets. */
  readonly proven: boolean;
  /** media scope, and boot tokens minted for media boots: the media's own settings apply. */
  readonly mediaId: string | null;
}

export interface TokenInfo {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly createdAt: number;
  readonly revokedAt: number | null;
  /** Tokens made for boot media carry the media's expiry (R-25); null: no expiry. */
  readonly expiresAt: number | null;
  /** The media a token was made for, if any. */
  readonly mediaId: string | null;
  /** Client tokens: how far they reach (null for admin and technician). */
  readonly scope: ClientScope | null;
  /** computer scope: the computer. */
  readonly computerId: string | null;
  /** Per-boot tokens only. */
  readonly binding?: ClientBinding;
  /** Per-boot tokens of media boots whose media expire before the token would. */
  readonly expiresWithMedia?: boolean;
}

export interface TokenInput {
  readonly name: string;
  readonly role: string;
  readonly expiresAt?: number | null;
  readonly mediaId?: string | null;
  /** Client tokens: site, computer (with computerId) or enroll; default computer when computerId is given, else enroll. */
  readonly scope?: string;
  readonly computerId?: string | null;
}

const hash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** The checked fields of a new token (nothing is written yet). */
function tokenPlan(ctx: SiteContext, input: TokenInput) {
  if (!ROLES.includes(input.role as Role)) throw invalid(`role must be one of ${ROLES.join(', ')}`, 'role');
  const name = normalizeName(String(input.name ?? ''));
  const mediaId = input.mediaId ?? null;
  const computerId = input.computerId ?? null;
  let scope: StoredScope | null = null;
  if (input.role === 'client') {
    scope = (input.scope ?? (mediaId ? 'media' : computerId ? 'computer' : 'enroll')) as StoredScope;
    if (!CLIENT_SCOPES.includes(scope)) throw invalid(`scope must be one of ${CLIENT_SCOPES.join(', ')}`, 'scope');
    if (scope === 'computer' && !computerId) throw invalid('a computer token names its computer (computerId)', 'computerId');
    if (scope !== 'computer' && computerId) throw invalid('computerId goes with scope computer', 'computerId');
    if ((scope === 'media') !== (mediaId !== null)) throw invalid('media tokens are made with their media', 'scope');
    if (computerId) {
      const c = ctx.snapshot.get().computers.get(computerId);
      if (!c || c.unknownArchitecture !== null) throw notFound(`no computer ${computerId}`, 'computerId');
    }
  } else if (input.scope !== undefined || computerId) {
    throw invalid('scope and computerId are for client tokens', input.scope !== undefined ? 'scope' : 'computerId');
  }
  return { name, role: input.role as Role, mediaId, computerId, scope, expiresAt: input.expiresAt ?? null };
}

/**
 * Creates a token and returns it once, in plain. Inside another write (media), pass its `tx`:
 * the token then commits or rolls back with it.
 */
export async function createToken(ctx: SiteContext, actor: string, input: TokenInput, tx?: SiteRepos): Promise<{ info: TokenInfo; token: string }> {
  const { name, role, mediaId, computerId, scope, expiresAt } = tokenPlan(ctx, input);
  const make = async (tx: SiteRepos) => {
    const id = await tx.ids.claim('token', (n) => `t${n}`);
    const token = `osd_${randomBytes(32).toString('base64url')}`;
    const record: TokenRecord = { id, name, role, hash: hash(token), createdAt: ctx.now(), revokedAt: null, expiresAt, mediaId, scope, computerId };
    await tx.tokens.insert(record);
    const details = { role, ...(scope ? { scope } : {}), ...(computerId ? { computerId } : {}), ...(expiresAt !== null ? { expiresAt } : {}), ...(mediaId ? { mediaId } : {}) };
    await audit(tx, ctx, actor, { action: 'token.created', target: id, message: `Token ${name} (${role}${scope ? `, ${scope}` : ''}) created`, details });
    return { info: info(record), token };
  };
  return tx ? make(tx) : transact(ctx, make);
}

const info = (r: TokenRecord): TokenInfo => ({
  id: r.id,
  name: r.name,
  role: r.role as Role,
  createdAt: r.createdAt,
  revokedAt: r.revokedAt,
  expiresAt: r.expiresAt,
  mediaId: r.mediaId,
  scope: r.role === 'client' ? ((r.scope as StoredScope | null) ?? 'enroll') : null,
  computerId: r.computerId,
});

/** A stored token (`osd_…`) or a per-boot token (`osdb_…`, checked by its signature). */
export async function verifyToken(ctx: SiteContext, token: string): Promise<TokenInfo | null> {
  if (token.startsWith(BOOT_TOKEN_PREFIX)) return verifyBootToken(ctx, token);
  if (!token.startsWith('osd_') || token.length > 200) return null;
  const row = await ctx.store.tokens.byHash(hash(token));
  return row && row.revokedAt === null ? info(row) : null;
}

/** Why a token that verified is no longer good at `now`, or null: "media expired" for media tokens (R-25). */
export function expiredReason(t: TokenInfo, now: number): string | null {
  if (t.expiresAt === null || now < t.expiresAt) return null;
  const at = new Date(t.expiresAt).toISOString();
  return t.mediaId && (t.scope === 'media' || t.expiresWithMedia) ? `media expired: media ${t.mediaId} expired at ${at}; build new media` : `the token expired at ${at}`;
}

export async function listTokens(ctx: SiteContext): Promise<TokenInfo[]> {
  return (await ctx.store.tokens.list()).map(info);
}

/** Revokes an active token. Inside another write (media), pass its `tx`. */
export async function revokeToken(ctx: SiteContext, actor: string, id: string, tx?: SiteRepos): Promise<void> {
  const revoke = async (tx: SiteRepos) => {
    if (!(await tx.tokens.revoke(id, ctx.now()))) throw notFound(`no active token ${id}`, 'id');
    await audit(tx, ctx, actor, { action: 'token.revoked', target: id, message: `Token ${id} revoked`, details: {} });
  };
  return tx ? revoke(tx) : transact(ctx, revoke);
}

/**
 * First start: with no active admin token, create one, store it hashed and write the plain
 * token once to DATA_DIR/admin.token (mode 0600). Returns the file path when it wrote one.
 */
export async function ensureAdminToken(ctx: SiteContext, dataDir: string): Promise<string | null> {
  if ((await ctx.store.tokens.countActive('admin')) > 0) return null;
  const { token } = await createToken(ctx, 'system', { name: 'initial admin', role: 'admin' });
  const file = path.join(dataDir, 'admin.token');
  if (existsSync(file)) chmodSync(file, 0o600);
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}
