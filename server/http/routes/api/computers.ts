/** /api/v1/computers: create, import (JSON or CSV), update, delete, list with paging and filters. */
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { invalid } from '../../../../policy/errors.js';
import {
  computerView,
  createComputer,
  deleteComputer,
  getComputer,
  importComputers,
  listComputers,
  parseComputerCsv,
  updateComputer,
} from '../../../site/computers.js';
import type { SiteContext } from '../../../site/context.js';
import { actorOf } from '../../auth.js';
import { Architecture, IdParams, PageQuery, pageOf, VariableInput } from './common.js';

const ComputerInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256 }),
    macAddresses: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 32 })),
    smbiosUuid: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    architecture: Type.Optional(Type.Union([Architecture, Type.Null()])),
    isSiteSystem: Type.Optional(Type.Boolean()),
    isServer: Type.Optional(Type.Boolean()),
    variables: Type.Optional(Type.Array(VariableInput, { maxItems: 1000 })),
  },
  { additionalProperties: false },
);

const ComputerPatch = Type.Partial(ComputerInput, { additionalProperties: false });

export async function computerRoutes(api: FastifyInstance, ctx: SiteContext): Promise<void> {
  const tags = ['computers'];
  api.post('/computers', { schema: { tags, body: ComputerInput } }, async (req, reply) => {
    const c = await createComputer(ctx, actorOf(req), req.body as never);
    return reply.status(201).send(computerView(c));
  });

  api.post('/computers/import', { schema: { tags, description: 'JSON `{computers: [...]}` or text/csv with a header `name,mac,smbiosUuid[,VARIABLE...]`; all or nothing.' } }, async (req, reply) => {
    let rows: unknown;
    if (typeof req.body === 'string') rows = parseComputerCsv(req.body);
    else {
      const body = req.body as { computers?: unknown } | null;
      if (!body || !Array.isArray(body.computers)) throw invalid('body must be {"computers": [...]} or text/csv', 'computers');
      rows = body.computers;
    }
    const created = await importComputers(ctx, actorOf(req), rows as never);
    return reply.status(201).send({ imported: created.length, computers: created.map(computerView) });
  });

  api.get(
    '/computers',
    {
      schema: {
        tags,
        querystring: Type.Object(
          { ...PageQuery, name: Type.Optional(Type.String({ maxLength: 256 })), mac: Type.Optional(Type.String({ maxLength: 64 })), smbiosUuid: Type.Optional(Type.String({ maxLength: 64 })) },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const page = await listComputers(ctx, { ...(req.query as object), ...pageOf(req.query as object) });
      return { ...page, items: page.items.map(computerView) };
    },
  );

  api.get('/computers/:id', { schema: { tags, params: IdParams } }, async (req) => computerView(await getComputer(ctx, (req.params as IdParams).id)));

  api.patch('/computers/:id', { schema: { tags, params: IdParams, body: ComputerPatch } }, async (req) =>
    computerView(await updateComputer(ctx, actorOf(req), (req.params as IdParams).id, req.body as never)),
  );

  api.delete('/computers/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    await deleteComputer(ctx, actorOf(req), (req.params as IdParams).id);
    return reply.status(204).send();
  });
}
