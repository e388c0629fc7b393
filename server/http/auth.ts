/**
 * Bearer-token authentication for every /api/v1 route. A route names the roles it
 * admits in `config.roles`; without it, only administrators are admitted, reads and writes
 * alike: a new route is closed until someone decides who else may use it. The table of
 * route × role is docs/security.md "Roles", checked against the served routes by
 * test/server/security/roles.test.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SiteContext } from '../site/context.js';
import { expiredReason, verifyToken, type Role, type TokenInfo } from '../site/tokens.js';
import { HttpError } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    roles?: readonly Role[];
    /** Routes outside the API (health, boot files) set this to skip authentication. */
    public?: boolean;
  }
  interface FastifyRequest {
    principal: TokenInfo | null;
  }
}

export const ADMIN: readonly Role[] = ['admin'];
/** Technicians build media and read only what building it needs (R-31 "technician (media only)"). */
export const MEDIA_ROLES: readonly Role[] = ['admin', 'technician'];
export const CLIENT_ROLES: readonly Role[] = ['admin', 'client'];

export function installAuth(app: FastifyInstance, ctx: SiteContext): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const config = request.routeOptions.config;
    if (config?.public) return;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new HttpError(401, 'unauthenticated', 'a bearer token is required (Authorization: Bearer <token>)');
    const principal = await verifyToken(ctx, match[1]!);
    if (!principal) throw new HttpError(401, 'unauthenticated', 'the token is unknown or revoked');
    const expired = expiredReason(principal, ctx.now());
    if (expired) throw new HttpError(401, expired.startsWith('media expired') ? 'media-expired' : 'token-expired', expired);
    const roles = config?.roles ?? ADMIN;
    if (!roles.includes(principal.role)) throw new HttpError(403, 'forbidden', `the ${principal.role} role may not ${request.method} ${request.routeOptions.url ?? request.url}`);
    request.principal = principal;
  });
}

/** Who did it, for audit records. */
export const actorOf = (request: FastifyRequest): string => (request.principal ? `${request.principal.role}:${request.principal.name} (${request.principal.id})` : 'anonymous');
