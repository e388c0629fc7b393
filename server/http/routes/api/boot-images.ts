/**
 * /api/v1/boot-images (issue 12, R-37): build osdeploy's Linux boot environment on the site
 * host and import it as a boot image; follow the build's progress. Admins only: the build
 * mints a client token for the image. `GET /boot-images` lists the boot images (content of kind
 * bootImage) for technicians too, who pick one for bootable media and read no
 * other content.
 */
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { getBootImageBuild, listBootImageBuilds, startBootImageBuild, type BootImageBuildInput } from '../../../site/boot-images.js';
import { listContent } from '../../../site/content.js';
import type { SiteContext } from '../../../site/context.js';
import { actorOf, MEDIA_ROLES } from '../../auth.js';
import { IdParams } from './common.js';

const BuildBody = Type.Object(
  {
    arch: Type.Optional(Type.Union([Type.Literal('x64'), Type.Literal('arm64')])),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    cmdline: Type.Optional(Type.String({ maxLength: 512, description: 'extra kernel command line arguments' })),
  },
  { additionalProperties: false },
);

export async function bootImageRoutes(api: FastifyInstance, ctx: SiteContext): Promise<void> {
  const tags = ['boot images'];
  const config = { roles: ['admin'] as const };
  api.get('/boot-images', { config: { roles: MEDIA_ROLES }, schema: { tags, description: 'R-25: the boot images media can start (content of kind bootImage)' } }, async () => ({
    items: (await listContent(ctx)).filter((c) => c.kind === 'bootImage'),
  }));
  api.post('/boot-images/build', { config, schema: { tags, body: BuildBody } }, async (req, reply) =>
    reply.status(202).send(startBootImageBuild(ctx, actorOf(req), (req.body ?? {}) as BootImageBuildInput)),
  );
  api.get('/boot-images/builds', { config, schema: { tags } }, async () => ({ items: listBootImageBuilds(ctx) }));
  api.get('/boot-images/builds/:id', { config, schema: { tags, params: IdParams } }, async (req) => getBootImageBuild(ctx, (req.params as IdParams).id));
}
