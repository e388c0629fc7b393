/** /api/v1/tokens: create (the plain token is returned once) and revoke; admin only. */
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { SiteContext } from '../../../site/context.js';
import { createToken, listTokens, revokeToken, ROLES } from '../../../site/tokens.js';
import { actorOf, ADMIN } from '../../auth.js';
import { IdParams } from './common.js';

export async function tokenRoutes(api: FastifyInstance, ctx: SiteContext): Promise<void> {
  const tags = ['tokens'];
  api.post(
    '/tokens',
    {
      config: { roles: ADMIN },
      schema: {
        tags,
        description:
          'Client tokens are bound (docs/security.md "Token model"): scope computer (with computerId) reads and reports for that computer only; enroll (the default) boots and registers machines without secrets; site is a trusted relay acting for every computer.',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 256 }),
            role: Type.Union(ROLES.map((r) => Type.Literal(r))),
            scope: Type.Optional(Type.Union([Type.Literal('site'), Type.Literal('computer'), Type.Literal('enroll')])),
            computerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req, reply) => {
      const { info, token } = await createToken(ctx, actorOf(req), req.body as { name: string; role: string; scope?: string; computerId?: string });
      return reply.status(201).send({ ...info, token });
    },
  );
  api.get('/tokens', { config: { roles: ADMIN }, schema: { tags } }, async () => ({ items: await listTokens(ctx) }));
  api.delete('/tokens/:id', { config: { roles: ADMIN }, schema: { tags, params: IdParams } }, async (req, reply) => {
    await revokeToken(ctx, actorOf(req), (req.params as IdParams).id);
    return reply.status(204).send();
  });
}
