/** GET /api/v1/boot-policy: what a PXE- or media-booted machine runs (R-15, R-17… ). */
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { bootPolicyFor, type BootQuery } from '../../../site/boot-policy.js';
import type { SiteContext } from '../../../site/context.js';
import { CLIENT_ROLES } from '../../auth.js';

const Query = Type.Object(
  {
    mac: Type.Optional(Type.Union([Type.String({ maxLength: 600 }), Type.Array(Type.String({ maxLength: 64 }), { maxItems: 32 })])),
    uuid: Type.Optional(Type.String({ maxLength: 64 })),
    arch: Type.Optional(Type.String({ maxLength: 8 })),
    source: Type.Optional(Type.String({ maxLength: 8 })),
    uefi: Type.Optional(Type.String({ maxLength: 5 })),
    preferred: Type.Optional(Type.String({ maxLength: 64 })),
    unattended: Type.Optional(Type.String({ maxLength: 5 })),
    mediaForm: Type.Optional(Type.String({ maxLength: 16 })),
  },
  { additionalProperties: false },
);

export async function bootPolicyRoutes(api: FastifyInstance, ctx: SiteContext, siteAddress: () => string): Promise<void> {
  api.get('/boot-policy', { config: { roles: CLIENT_ROLES }, schema: { tags: ['boot'], querystring: Query } }, async (req) =>
    bootPolicyFor(ctx, req.principal, req.query as BootQuery, siteAddress()),
  );
}
