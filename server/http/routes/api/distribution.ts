/**
 * /api/v1 distribution: points, groups, collection associations, distributing content,
 * jobs with progress, per-point status, and validation.
 */
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { invalid } from '../../../../policy/errors.js';
import type { SiteContext } from '../../../site/context.js';
import type { DistributionService } from '../../../site/distribution.js';
import { validatePoint } from '../../../site/point-validate.js';
import { addRemotePoint, associate, associations, deleteGroup, deletePoint, getGroupOr404, getPointOr404, listGroups, listPoints, pointView, saveGroup, updatePoint } from '../../../site/points.js';
import { actorOf } from '../../auth.js';
import { IdParams, PageQuery, pageOf } from './common.js';
import { ContentChoiceBody } from './content.js';

const Id = Type.String({ minLength: 1, maxLength: 64 });
const Ids = Type.Array(Id, { maxItems: 1000 });
const Name = Type.String({ minLength: 1, maxLength: 256 });
const Description = Type.String({ maxLength: 1024 });

export interface DistributionDeps {
  readonly ctx: SiteContext;
  readonly distribution: DistributionService;
  readonly fetch?: typeof fetch;
}

export async function distributionRoutes(api: FastifyInstance, deps: DistributionDeps): Promise<void> {
  const { ctx, distribution } = deps;
  const tags = ['distribution'];

  api.get('/distribution-points', { schema: { tags } }, async () => ({ items: await listPoints(ctx) }));
  api.post(
    '/distribution-points',
    { schema: { tags, body: Type.Object({ name: Name, url: Type.String({ minLength: 1, maxLength: 2048 }), token: Type.String({ minLength: 1, maxLength: 256 }), description: Type.Optional(Description) }, { additionalProperties: false }) } },
    async (req, reply) => reply.status(201).send(await addRemotePoint(ctx, actorOf(req), req.body as never, deps.fetch)),
  );
  api.get('/distribution-points/:id', { schema: { tags, params: IdParams } }, async (req) => pointView(ctx.store, await getPointOr404(ctx.store, (req.params as IdParams).id)));
  api.patch(
    '/distribution-points/:id',
    { schema: { tags, params: IdParams, body: Type.Object({ name: Type.Optional(Name), description: Type.Optional(Description), collections: Type.Optional(Ids) }, { additionalProperties: false }) } },
    async (req) => updatePoint(ctx, actorOf(req), (req.params as IdParams).id, req.body as never),
  );
  api.delete('/distribution-points/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    await deletePoint(ctx, actorOf(req), (req.params as IdParams).id);
    return reply.status(204).send();
  });
  api.get('/distribution-points/:id/content', { schema: { tags, params: IdParams } }, async (req) => ({ items: await distribution.status({ pointId: (req.params as IdParams).id }) }));
  api.post(
    '/distribution-points/:id/validate',
    { schema: { tags, params: IdParams, body: Type.Optional(Type.Object({ contentId: Type.Optional(Id) }, { additionalProperties: false })) } },
    async (req) => validatePoint(ctx, actorOf(req), (req.params as IdParams).id, (req.body as { contentId?: string } | undefined)?.contentId, deps.fetch),
  );

  const GroupFields = { name: Name, description: Type.Optional(Description), pointIds: Type.Optional(Ids), collections: Type.Optional(Ids) };
  api.get('/distribution-point-groups', { schema: { tags } }, async () => ({ items: await listGroups(ctx) }));
  api.post('/distribution-point-groups', { schema: { tags, body: Type.Object(GroupFields, { additionalProperties: false }) } }, async (req, reply) =>
    reply.status(201).send(await saveGroup(ctx, actorOf(req), null, req.body as never)),
  );
  api.get('/distribution-point-groups/:id', { schema: { tags, params: IdParams } }, async (req) => getGroupOr404(ctx.store, (req.params as IdParams).id));
  api.patch('/distribution-point-groups/:id', { schema: { tags, params: IdParams, body: Type.Partial(Type.Object(GroupFields), { additionalProperties: false }) } }, async (req) =>
    saveGroup(ctx, actorOf(req), (req.params as IdParams).id, req.body as never),
  );
  api.delete('/distribution-point-groups/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    await deleteGroup(ctx, actorOf(req), (req.params as IdParams).id);
    return reply.status(204).send();
  });

  // Collection associations: a target id is a point (DPn) or a group (DPGn).
  const TargetParams = Type.Object({ id: Id, target: Id });
  const target = (t: string) => (/^DPG\d+$/.test(t) ? { groupId: t } : { pointId: t });
  api.get('/collections/:id/distribution-points', { schema: { tags, params: IdParams } }, async (req) => associations(ctx, (req.params as IdParams).id));
  api.put('/collections/:id/distribution-points/:target', { schema: { tags, params: TargetParams } }, async (req) => {
    const p = req.params as { id: string; target: string };
    return associate(ctx, actorOf(req), p.id, target(p.target), true);
  });
  api.delete('/collections/:id/distribution-points/:target', { schema: { tags, params: TargetParams } }, async (req) => {
    const p = req.params as { id: string; target: string };
    return associate(ctx, actorOf(req), p.id, target(p.target), false);
  });

  api.post(
    '/distributions',
    { schema: { tags, body: Type.Object({ ...ContentChoiceBody, pointIds: Type.Optional(Ids), groupIds: Type.Optional(Ids), collectionIds: Type.Optional(Ids), redistribute: Type.Optional(Type.Boolean()) }, { additionalProperties: false }) } },
    async (req, reply) => {
      const r = await distribution.distribute(actorOf(req), req.body as never);
      return reply.status(r.job ? 202 : 200).send(r);
    },
  );
  api.get(
    '/distributions/targets',
    { schema: { tags, querystring: Type.Object({ taskSequenceId: Type.Optional(Id), contentId: Type.Optional(Id) }, { additionalProperties: false }) } },
    async (req) => {
      const q = req.query as { taskSequenceId?: string; contentId?: string };
      if (!q.taskSequenceId === !q.contentId) throw invalid('give taskSequenceId or contentId', 'taskSequenceId');
      return { items: await distribution.offered(q.taskSequenceId ? { taskSequenceId: q.taskSequenceId } : { contentIds: [q.contentId!] }) };
    },
  );
  api.get('/distribution-jobs', { schema: { tags, querystring: Type.Object(PageQuery, { additionalProperties: false }) } }, async (req) => {
    const { offset, limit } = pageOf(req.query as { offset?: string; limit?: string });
    return distribution.jobs(offset, limit);
  });
  api.get('/distribution-jobs/:id', { schema: { tags, params: IdParams } }, async (req) => distribution.job((req.params as IdParams).id));
  api.get(
    '/distribution-status',
    { schema: { tags, querystring: Type.Object({ pointId: Type.Optional(Id), contentId: Type.Optional(Id) }, { additionalProperties: false }) } },
    async (req) => ({ items: await distribution.status(req.query as { pointId?: string; contentId?: string }) }),
  );
}
