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
import { claimId } from '../store/db.js';
import { write, writeAudit, type SiteContext } from './context.js';
import { BOOT_TOKEN_PREFIX, verifyBootToken } from './boot-tokens.js';

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

export function createToken(ctx: SiteContext, actor: string, input: TokenInput): { info: TokenInfo; token: string } {
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
  return write(ctx, () => {
    const id = claimId(ctx.db, 'token', (n) => `t${n}`);
    const token = `osd_${randomBytes(32).toString('base64url')}`;
    const createdAt = ctx.now();
    const expiresAt = input.expiresAt ?? null;
    ctx.db
      .prepare('INSERT INTO tokens (id, name, role, hash, created_at, expires_at, media_id, scope, computer_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, name, input.role, hash(token), createdAt, expiresAt, mediaId, scope, computerId);
    const details = { role: input.role, ...(scope ? { scope } : {}), ...(computerId ? { computerId } : {}), ...(expiresAt !== null ? { expiresAt } : {}), ...(mediaId ? { mediaId } : {}) };
    writeAudit(ctx, actor, { action: 'token.created', target: id, message: `Token ${name} (${input.role}${scope ? `, ${scope}` : ''}) created`, details });
    return { info: { id, name, role: input.role as Role, createdAt, revokedAt: null, expiresAt, mediaId, scope, computerId }, token };
  });
}

interface TokenRow {
  id: string;
  name: string;
  role: Role;
  created_at: number;
  revoked_at: number | null;
  expires_at: number | null;
  media_id: string | null;
  scope: StoredScope | null;
  computer_id: string | null;
}
const info = (r: TokenRow): TokenInfo => ({
  id: r.id,
  name: r.name,
  role: r.role,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  expiresAt: r.expires_at,
  mediaId: r.media_id,
  scope: r.role === 'client' ? (r.scope ?? 'enroll') : null,
  computerId: r.computer_id,
});
const COLUMNS = 'id, name, role, created_at, revoked_at, expires_at, media_id, scope, computer_id';

/** A stored token (`osd_…`) or a per-boot token (`osdb_…`, checked by its signature). */
export function verifyToken(ctx: SiteContext, token: string): TokenInfo | null {
  if (token.startsWith(BOOT_TOKEN_PREFIX)) return verifyBootToken(ctx, token);
  if (!token.startsWith('osd_') || token.length > 200) return null;
  const row = ctx.db.prepare(`SELECT ${COLUMNS} FROM tokens WHERE hash = ?`).get(hash(token)) as TokenRow | undefined;
  return row && row.revoked_at === null ? info(row) : null;
}

/** Why a token that verified is no longer good at `now`, or null: "media expired" for media tokens (R-25). */
export function expiredReason(t: TokenInfo, now: number): string | null {
  if (t.expiresAt === null || now < t.expiresAt) return null;
  const at = new Date(t.expiresAt).toISOString();
  return t.mediaId && (t.scope === 'media' || t.expiresWithMedia) ? `media expired: media ${t.mediaId} expired at ${at}; build new media` : `the token expired at ${at}`;
}

export function listTokens(ctx: SiteContext): TokenInfo[] {
  return (ctx.db.prepare(`SELECT ${COLUMNS} FROM tokens ORDER BY created_at, id`).all() as TokenRow[]).map(info);
}

export function revokeToken(ctx: SiteContext, actor: string, id: string): void {
  write(ctx, () => {
    const r = ctx.db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(ctx.now(), id);
    if (r.changes === 0) throw notFound(`no active token ${id}`, 'id');
    writeAudit(ctx, actor, { action: 'token.revoked', target: id, message: `Token ${id} revoked`, details: {} });
  });
}

/**
 * First start: with no active admin token, create one, store it hashed and write the plain
 * token once to DATA_DIR/admin.token (mode 0600). Returns the file path when it wrote one.
 */
export function ensureAdminToken(ctx: SiteContext, dataDir: string): string | null {
  const active = ctx.db.prepare("SELECT COUNT(*) AS n FROM tokens WHERE role = 'admin' AND revoked_at IS NULL").get() as { n: number };
  if (active.n > 0) return null;
  const { token } = createToken(ctx, 'system', { name: 'initial admin', role: 'admin' });
  const file = path.join(dataDir, 'admin.token');
  if (existsSync(file)) chmodSync(file, 0o600);
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}
