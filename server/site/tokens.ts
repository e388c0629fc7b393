/**
 * API tokens: a random bearer secret shown once, stored only as its sha256. Roles:
 * admin (everything), technician (media and read), client (boot policy, status, content).
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { invalid, notFound } from '../../policy/errors.js';
import { normalizeName } from '../../policy/normalize.js';
import { nextCounter } from '../store/db.js';
import { write, writeAudit, type SiteContext } from './context.js';

export const ROLES = ['admin', 'technician', 'client'] as const;
export type Role = (typeof ROLES)[number];

export interface TokenInfo {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly createdAt: number;
  readonly revokedAt: number | null;
  /** Tokens made for boot media carry the media's expiry; null: no expiry. */
  readonly expiresAt: number | null;
  /** The media a token was made for, if any. */
  readonly mediaId: string | null;
}

export interface TokenInput {
  readonly name: string;
  readonly role: string;
  readonly expiresAt?: number | null;
  readonly mediaId?: string | null;
}

const hash = (token: string): string => createHash('sha256').update(token).digest('hex');

export function createToken(ctx: SiteContext, actor: string, input: TokenInput): { info: TokenInfo; token: string } {
  if (!ROLES.includes(input.role as Role)) throw invalid(`role must be one of ${ROLES.join(', ')}`, 'role');
  const name = normalizeName(String(input.name ?? ''));
  return write(ctx, () => {
    const id = `t${nextCounter(ctx.db, 'token')}`;
    const token = `osd_${randomBytes(32).toString('base64url')}`;
    const createdAt = ctx.now();
    const expiresAt = input.expiresAt ?? null;
    const mediaId = input.mediaId ?? null;
    ctx.db
      .prepare('INSERT INTO tokens (id, name, role, hash, created_at, expires_at, media_id) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, name, input.role, hash(token), createdAt, expiresAt, mediaId);
    writeAudit(ctx, actor, { action: 'token.created', target: id, message: `Token ${name} (${input.role}) created`, details: { role: input.role, ...(expiresAt !== null ? { expiresAt } : {}), ...(mediaId ? { mediaId } : {}) } });
    return { info: { id, name, role: input.role as Role, createdAt, revokedAt: null, expiresAt, mediaId }, token };
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
}
const info = (r: TokenRow): TokenInfo => ({ id: r.id, name: r.name, role: r.role, createdAt: r.created_at, revokedAt: r.revoked_at, expiresAt: r.expires_at, mediaId: r.media_id });
const COLUMNS = 'id, name, role, created_at, revoked_at, expires_at, media_id';

export function verifyToken(ctx: SiteContext, token: string): TokenInfo | null {
  if (!token.startsWith('osd_') || token.length > 200) return null;
  const row = ctx.db.prepare(`SELECT ${COLUMNS} FROM tokens WHERE hash = ?`).get(hash(token)) as TokenRow | undefined;
  return row && row.revoked_at === null ? info(row) : null;
}

/** Why a token that verified is no longer good at `now`, or null: "media expired" for media tokens. */
export function expiredReason(t: TokenInfo, now: number): string | null {
  if (t.expiresAt === null || now < t.expiresAt) return null;
  const at = new Date(t.expiresAt).toISOString();
  return t.mediaId ? `media expired: media ${t.mediaId} expired at ${at}; build new media` : `the token expired at ${at}`;
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
