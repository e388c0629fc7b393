/** /api/v1/collections: rules, membership, variables with precedence; built-ins are read-only. */
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { collectionMembers, collectionView, createCollection, deleteCollection, getCollection, listCollections, updateCollection } from '../../../site/collections.js';
import type { SiteContext } from '../../../site/context.js';
import { clearRequiredPxe } from '../../../site/deployments.js';
import { actorOf } from '../../auth.js';
import { IdParams, VariableInput } from './common.js';

const Ids = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100000 });
const CollectionInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256 }),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    limitingCollectionId: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()])),
    directMemberIds: Type.Optional(Ids),
    includeCollectionIds: Type.Optional(Ids),
    excludeCollectionIds: Type.Optional(Ids),
    variables: Type.Optional(Type.Array(VariableInput, { maxItems: 1000 })),
    variablePrecedence: Type.Optional(Type.Integer({ minimum: 1, maximum: 9 })),
  },
  { additionalProperties: false },
);

export async function collectionRoutes(api: FastifyInstance, ctx: SiteContext): Promise<void> {
  const tags = ['collections'];
  api.post('/collections', { schema: { tags, body: CollectionInput } }, async (req, reply) =>
    reply.status(201).send(collectionView(ctx, await createCollection(ctx, actorOf(req), req.body as never))),
  );
  api.get('/collections', { schema: { tags } }, async () => ({ items: (await listCollections(ctx)).map((c) => collectionView(ctx, c)) }));
  api.get('/collections/:id', { schema: { tags, params: IdParams } }, async (req) => collectionView(ctx, await getCollection(ctx, (req.params as IdParams).id)));
  api.get('/collections/:id/members', { schema: { tags, params: IdParams } }, async (req) => {
    const ids = await collectionMembers(ctx, (req.params as IdParams).id);
    return { total: ids.length, computerIds: ids };
  });
  api.patch('/collections/:id', { schema: { tags, params: IdParams, body: Type.Partial(CollectionInput, { additionalProperties: false }) } }, async (req) =>
    collectionView(ctx, await updateCollection(ctx, actorOf(req), (req.params as IdParams).id, req.body as never)),
  );
  api.delete('/collections/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    await deleteCollection(ctx, actorOf(req), (req.params as IdParams).id);
    return reply.status(204).send();
  });
  api.post('/collections/:id/clear-required-pxe', { schema: { tags, params: IdParams, description: 'R-19: clear Required PXE deployments for every member' } }, async (req) => ({
    cleared: await clearRequiredPxe(ctx, actorOf(req), { collectionId: (req.params as IdParams).id }),
  }));
}
