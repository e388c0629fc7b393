/** /api/v1/task-sequences, /step-types and /folders (R-01…R-05). */
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { stepCategories } from '../../../../policy/steps/catalog.js';
import { TASK_SEQUENCE_TYPES } from '../../../../policy/task-sequences/model.js';
import { EDIT_OPS } from '../../../../policy/task-sequences/edit.js';
import type { SiteContext } from '../../../site/context.js';
import {
  copyTs,
  createFolder,
  createTs,
  deleteFolder,
  deleteTs,
  editTs,
  enableTs,
  getTaskSequence,
  listFolders,
  listTaskSequences,
  moveTs,
  setTsProperties,
  taskSequenceView,
  taskSequenceViews,
  updateFolder,
  validateTsReferences,
} from '../../../site/task-sequences.js';
import { actorOf, MEDIA_ROLES } from '../../auth.js';
import { IdParams } from './common.js';

const Id = Type.String({ minLength: 1, maxLength: 64 });
const CreateBody = Type.Object(
  {
    type: Type.Union(TASK_SEQUENCE_TYPES.map((t) => Type.Literal(t))),
    name: Type.String({ minLength: 1, maxLength: 256 }),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    folderId: Type.Optional(Type.Union([Id, Type.Null()])),
    bootImageId: Type.Optional(Type.Union([Id, Type.Null()])),
    osImageId: Type.Optional(Id),
    imageIndex: Type.Optional(Type.Integer({ minimum: 1 })),
    osUpgradePackageId: Type.Optional(Id),
    productKey: Type.Optional(Type.String({ maxLength: 64 })),
    join: Type.Optional(
      Type.Union([
        Type.Object({ mode: Type.Literal('workgroup'), workgroup: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
        Type.Object(
          { mode: Type.Literal('domain'), domain: Type.String({ minLength: 1, maxLength: 256 }), ou: Type.Optional(Type.String({ maxLength: 1024 })), account: Type.String({ minLength: 1, maxLength: 256 }), password: Type.String({ minLength: 1, maxLength: 256 }) },
          { additionalProperties: false },
        ),
      ]),
    ),
    clientPackageId: Type.Optional(Id),
    driverPackageIds: Type.Optional(Type.Array(Id, { maxItems: 100 })),
    updates: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('required'), Type.Literal('all')])),
    applicationIds: Type.Optional(Type.Array(Id, { maxItems: 500 })),
    userState: Type.Optional(Type.Object({ usmtPackageId: Id, storePath: Type.Optional(Type.String({ maxLength: 1024 })) }, { additionalProperties: false })),
    capture: Type.Optional(
      Type.Object(
        {
          destination: Type.String({ minLength: 1, maxLength: 1024 }),
          account: Type.String({ minLength: 1, maxLength: 256 }),
          password: Type.String({ minLength: 1, maxLength: 256 }),
          description: Type.Optional(Type.String({ maxLength: 1024 })),
          version: Type.Optional(Type.String({ maxLength: 64 })),
          createdBy: Type.Optional(Type.String({ maxLength: 256 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const EditBody = Type.Object(
  { operations: Type.Array(Type.Object({ op: Type.Union(EDIT_OPS.map((o) => Type.Literal(o))) }, { additionalProperties: true }), { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);

export async function taskSequenceRoutes(api: FastifyInstance, ctx: SiteContext): Promise<void> {
  const tags = ['task-sequences'];
  const view = (ts: Parameters<typeof taskSequenceView>[1]) => taskSequenceView(ctx, ts);
  const id = (req: { params: unknown }) => (req.params as IdParams).id;
  // Technicians read task sequences (never their secrets: views are redacted) to pick media; all else is admin only.
  const read = { roles: MEDIA_ROLES };

  api.get('/step-types', { schema: { tags, description: 'R-03: the step catalog by category, with typed properties and secrets marked' } }, async () => ({ categories: stepCategories() }));
  api.post('/task-sequences', { schema: { tags, body: CreateBody } }, async (req, reply) => reply.status(201).send(await view(await createTs(ctx, actorOf(req), req.body as never))));
  api.get('/task-sequences', { config: read, schema: { tags, querystring: Type.Object({ folderId: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }) } }, async (req) => {
    const q = req.query as { folderId?: string };
    return { items: await taskSequenceViews(ctx, await listTaskSequences(ctx, q.folderId === undefined ? undefined : q.folderId === 'root' ? null : q.folderId)) };
  });
  api.get('/task-sequences/:id', { config: read, schema: { tags, params: IdParams } }, async (req) => view(await getTaskSequence(ctx, id(req))));
  api.post('/task-sequences/:id/edits', { schema: { tags, params: IdParams, body: EditBody, description: 'R-02: apply edit operations atomically' } }, async (req) =>
    view(await editTs(ctx, actorOf(req), id(req), (req.body as { operations: never }).operations)),
  );
  api.get('/task-sequences/:id/references', { schema: { tags, params: IdParams, description: 'R-04: every reference, and the invalid ones named' } }, async (req) => validateTsReferences(ctx, id(req)));
  // The body is optional (fastify validates a missing body as null).
  api.post('/task-sequences/:id/copy', { schema: { tags, params: IdParams, body: Type.Union([Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })) }, { additionalProperties: false }), Type.Null()]) } }, async (req, reply) =>
    reply.status(201).send(await view(await copyTs(ctx, actorOf(req), id(req), (req.body as { name?: string } | null | undefined)?.name))),
  );
  api.post('/task-sequences/:id/enable', { schema: { tags, params: IdParams } }, async (req) => view(await enableTs(ctx, actorOf(req), id(req), true)));
  api.post('/task-sequences/:id/disable', { schema: { tags, params: IdParams } }, async (req) => view(await enableTs(ctx, actorOf(req), id(req), false)));
  api.post('/task-sequences/:id/move', { schema: { tags, params: IdParams, body: Type.Object({ folderId: Type.Union([Id, Type.Null()]) }, { additionalProperties: false }) } }, async (req) =>
    view(await moveTs(ctx, actorOf(req), id(req), (req.body as { folderId: string | null }).folderId)),
  );
  api.patch(
    '/task-sequences/:id',
    { schema: { tags, params: IdParams, description: 'R-05 properties: name, description, boot image; never the steps', body: Type.Object({}, { additionalProperties: true }) } },
    async (req) => view(await setTsProperties(ctx, actorOf(req), id(req), req.body)),
  );
  api.delete('/task-sequences/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    await deleteTs(ctx, actorOf(req), id(req));
    return reply.status(204).send();
  });

  const folderTags = ['folders'];
  const FolderBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), parentId: Type.Optional(Type.Union([Id, Type.Null()])) }, { additionalProperties: false });
  api.get('/folders', { schema: { tags: folderTags } }, async () => ({ items: await listFolders(ctx) }));
  api.post('/folders', { schema: { tags: folderTags, body: FolderBody } }, async (req, reply) => reply.status(201).send(await createFolder(ctx, actorOf(req), req.body as never)));
  api.patch('/folders/:id', { schema: { tags: folderTags, params: IdParams, body: Type.Partial(FolderBody, { additionalProperties: false }) } }, async (req) =>
    updateFolder(ctx, actorOf(req), id(req), req.body as never),
  );
  api.delete('/folders/:id', { schema: { tags: folderTags, params: IdParams } }, async (req, reply) => {
    await deleteFolder(ctx, actorOf(req), id(req));
    return reply.status(204).send();
  });
}
