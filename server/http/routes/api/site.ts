/** /api/v1/settings, /audit, /status-messages (content lives in content.ts). */
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { SiteContext } from '../../../site/context.js';
import { getSettings, updateSettings } from '../../../site/settings.js';
import { secretWarnings } from '../../../site/secret-warnings.js';
import { actorOf } from '../../auth.js';
import { PageQuery, pageOf } from './common.js';

export async function siteRoutes(api: FastifyInstance, ctx: SiteContext): Promise<void> {
  api.get('/settings', { schema: { tags: ['settings'] } }, async () => {
    const warnings = secretWarnings(ctx);
    return { ...(await getSettings(ctx)), ...(warnings.length ? { warnings } : {}) };
  });
  api.patch(
    '/settings',
    { schema: { tags: ['settings'], body: Type.Object({ highRisk: Type.Optional(Type.Object({}, { additionalProperties: true })), pxe: Type.Optional(Type.Object({}, { additionalProperties: true })) }, { additionalProperties: false }) } },
    async (req) => await updateSettings(ctx, actorOf(req), req.body as never),
  );

  const page = pageOf;
  api.get('/audit', { schema: { tags: ['audit'], querystring: Type.Object({ ...PageQuery, target: Type.Optional(Type.String({ maxLength: 256 })), action: Type.Optional(Type.String({ maxLength: 128 })) }, { additionalProperties: false }) } }, async (req) => {
    const q = req.query as { offset?: string; limit?: string; target?: string; action?: string };
    const { offset, limit } = page(q);
    const found = await ctx.store.audit.page({ ...(q.target ? { target: q.target } : {}), ...(q.action ? { action: q.action } : {}) }, { offset, limit });
    return { total: found.total, offset, limit, items: found.items };
  });
  api.get('/status-messages', { schema: { tags: ['status-messages'], querystring: Type.Object({ ...PageQuery, computerId: Type.Optional(Type.String({ maxLength: 64 })), deploymentId: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }) } }, async (req) => {
    const q = req.query as { offset?: string; limit?: string; computerId?: string; deploymentId?: string };
    const { offset, limit } = page(q);
    const found = await ctx.store.status.page({ ...(q.computerId ? { computerId: q.computerId } : {}), ...(q.deploymentId ? { deploymentId: q.deploymentId } : {}) }, { offset, limit });
    return { total: found.total, offset, limit, items: found.items };
  });
}
