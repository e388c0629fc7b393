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
    return { ...getSettings(ctx), ...(warnings.length ? { warnings } : {}) };
  });
  api.patch(
    '/settings',
    { schema: { tags: ['settings'], body: Type.Object({ highRisk: Type.Optional(Type.Object({}, { additionalProperties: true })), pxe: Type.Optional(Type.Object({}, { additionalProperties: true })) }, { additionalProperties: false }) } },
    async (req) => updateSettings(ctx, actorOf(req), req.body as never),
  );

  const page = pageOf;
  api.get('/audit', { schema: { tags: ['audit'], querystring: Type.Object({ ...PageQuery, target: Type.Optional(Type.String({ maxLength: 256 })), action: Type.Optional(Type.String({ maxLength: 128 })) }, { additionalProperties: false }) } }, async (req) => {
    const q = req.query as { offset?: string; limit?: string; target?: string; action?: string };
    const { offset, limit } = page(q);
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.target) {
      where.push('target = ?');
      args.push(q.target);
    }
    if (q.action) {
      where.push('action = ?');
      args.push(q.action);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (ctx.db.prepare(`SELECT COUNT(*) AS n FROM audit ${clause}`).get(...args) as { n: number }).n;
    const rows = ctx.db.prepare(`SELECT seq, at, actor, action, target, message, details FROM audit ${clause} ORDER BY seq DESC LIMIT ? OFFSET ?`).all(...args, limit, offset) as { details: string }[];
    return { total, offset, limit, items: rows.map((r) => ({ ...r, details: JSON.parse(r.details) as unknown })) };
  });
  api.get('/status-messages', { schema: { tags: ['status-messages'], querystring: Type.Object({ ...PageQuery, computerId: Type.Optional(Type.String({ maxLength: 64 })), deploymentId: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }) } }, async (req) => {
    const q = req.query as { offset?: string; limit?: string; computerId?: string; deploymentId?: string };
    const { offset, limit } = page(q);
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.computerId) {
      where.push('computer_id = ?');
      args.push(q.computerId);
    }
    if (q.deploymentId) {
      where.push('deployment_id = ?');
      args.push(q.deploymentId);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (ctx.db.prepare(`SELECT COUNT(*) AS n FROM status_messages ${clause}`).get(...args) as { n: number }).n;
    const rows = ctx.db.prepare(`SELECT doc FROM status_messages ${clause} ORDER BY seq DESC LIMIT ? OFFSET ?`).all(...args, limit, offset) as { doc: string }[];
    return { total, offset, limit, items: rows.map((r) => JSON.parse(r.doc) as unknown) };
  });
}
