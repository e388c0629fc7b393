/** /api/v1/settings, /audit, /status-messages, /content (content records for references, R-04). */
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { CONTENT_KINDS } from '../../../../policy/content-refs.js';
import { createContent, deleteContent, getContent, listContent, updateContent } from '../../../site/content.js';
import type { SiteContext } from '../../../site/context.js';
import { getSettings, updateSettings } from '../../../site/settings.js';
import { actorOf } from '../../auth.js';
import { Architecture, IdParams, PageQuery, pageOf } from './common.js';

const ContentBody = Type.Object(
  {
    kind: Type.Union(CONTENT_KINDS.map((k) => Type.Literal(k))),
    name: Type.String({ minLength: 1, maxLength: 256 }),
    usable: Type.Optional(Type.Boolean()),
    unusableReason: Type.Optional(Type.String({ maxLength: 1024 })),
    dependencies: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 1000 })),
    allowRunFromDistributionPoint: Type.Optional(Type.Boolean()),
    architecture: Type.Optional(Architecture),
  },
  { additionalProperties: false },
);

export async function siteRoutes(api: FastifyInstance, ctx: SiteContext): Promise<void> {
  api.get('/settings', { schema: { tags: ['settings'] } }, async () => getSettings(ctx));
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

  const tags = ['content'];
  api.post('/content', { schema: { tags, body: ContentBody } }, async (req, reply) => reply.status(201).send(createContent(ctx, actorOf(req), req.body as never)));
  api.get('/content', { schema: { tags } }, async () => ({ items: listContent(ctx) }));
  api.get('/content/:id', { schema: { tags, params: IdParams } }, async (req) => getContent(ctx, (req.params as IdParams).id));
  api.patch('/content/:id', { schema: { tags, params: IdParams, body: Type.Partial(ContentBody, { additionalProperties: false }) } }, async (req) =>
    updateContent(ctx, actorOf(req), (req.params as IdParams).id, req.body as never),
  );
  api.delete('/content/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    deleteContent(ctx, actorOf(req), (req.params as IdParams).id);
    return reply.status(204).send();
  });
}
