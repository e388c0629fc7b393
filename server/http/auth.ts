/**
 * Bearer-token authentication for every /api/v1 route. A route names the roles it
 * admits in `config.roles`; without it, reads admit admin and technician, writes admin only.
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

export const READ_ROLES: readonly Role[] = ['admin', 'technician'];
export const ADMIN: readonly Role[] = ['admin'];
export const CLIENT_ROLES: readonly Role[] = ['admin', 'client'];

export function installAuth(app: FastifyInstance, ctx: SiteContext): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const config = request.routeOptions.config;
    if (config?.public) return;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new HttpError(401, 'unauthenticated', 'a bearer token is required (Authorization: Bearer <token>)');
    const principal = verifyToken(ctx, match[1]!);
    if (!principal) throw new HttpError(401, 'unauthenticated', 'the token is unknown or revoked');
    const expired = expiredReason(principal, ctx.now());
    if (expired) throw new HttpError(401, principal.mediaId ? 'media-expired' : 'token-expired', expired);
    const roles = config?.roles ?? (request.method === 'GET' || request.method === 'HEAD' ? READ_ROLES : ADMIN);
    if (!roles.includes(principal.role)) throw new HttpError(403, 'forbidden', `the ${principal.role} role may not ${request.method} ${request.routeOptions.url ?? request.url}`);
    request.principal = principal;
  });
}

/** Who did it, for audit records. */
export const actorOf = (request: FastifyRequest): string => (request.principal ? `${request.principal.role}:${request.principal.name} (${request.principal.id})` : 'anonymous');
