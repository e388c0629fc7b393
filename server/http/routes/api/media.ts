/**
 * /api/v1/media: technicians and admins request boot media, follow the
 * build, download the result and delete media (which revokes its token). Standalone and
 * prestaged media that would carry secrets are a technician's only for deployments an
 * administrator allowed it (`allowTechnicianMedia`; site/media.ts). The boot loader of
 * password-protected media fetches its script from /media/:id/boot.ipxe without a token, as
 * firmware does from /boot.ipxe.
 */
import { createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { packFolder } from '../../../../media/boot-media/archive.js';
import { MEDIA_FORMATS, MEDIA_TYPES } from '../../../../media/boot-media/model.js';
import type { BootQuery } from '../../../site/boot-policy.js';
import type { SiteContext } from '../../../site/context.js';
import { createMedia, deleteMedia, getMedia, listMedia, mediaOutput } from '../../../site/media.js';
import { mediaBootScript } from '../../../site/media-boot.js';
import type { MediaInput } from '../../../site/media-input.js';
import { actorOf, MEDIA_ROLES } from '../../auth.js';
import { IdParams } from './common.js';

const literals = (xs: readonly string[]) => Type.Union(xs.map((x) => Type.Literal(x)));

const CreateBody = Type.Object(
  {
    type: literals(MEDIA_TYPES),
    format: Type.Optional(literals(MEDIA_FORMATS)),
    bootImageId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    deploymentId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    variables: Type.Optional(Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 16384 }))),
    allowUnattended: Type.Optional(Type.Boolean()),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'seals the variables file (scrypt + AES-256-GCM); write-only' })),
    expiresAt: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601; the media and its token stop working then' })),
    siteUrl: Type.Optional(Type.String({ maxLength: 200, description: 'the site address on the media; default: the public URL' })),
  },
  { additionalProperties: false },
);

const BootQuerySchema = Type.Object(
  {
    mac: Type.Optional(Type.Union([Type.String({ maxLength: 600 }), Type.Array(Type.String({ maxLength: 64 }), { maxItems: 32 })])),
    uuid: Type.Optional(Type.String({ maxLength: 64 })),
    arch: Type.Optional(Type.String({ maxLength: 8 })),
    uefi: Type.Optional(Type.String({ maxLength: 5 })),
    mediaForm: Type.Optional(Type.String({ maxLength: 16 })),
  },
  { additionalProperties: true },
);

export async function mediaRoutes(api: FastifyInstance, ctx: SiteContext, publicUrl: () => string): Promise<void> {
  const tags = ['media'];
  const config = { roles: MEDIA_ROLES };

  api.post('/media', { config, schema: { tags, body: CreateBody } }, async (req, reply) =>
    reply.status(202).send(await createMedia(ctx, { actor: actorOf(req), role: req.principal!.role }, req.body as MediaInput, publicUrl())),
  );
  api.get('/media', { config, schema: { tags } }, async () => ({ items: await listMedia(ctx) }));
  api.get('/media/:id', { config, schema: { tags, params: IdParams } }, async (req) => getMedia(ctx, (req.params as IdParams).id));

  api.get('/media/:id/file', { config, schema: { tags, params: IdParams } }, async (req, reply) => {
    const { path: file, view } = await mediaOutput(ctx, (req.params as IdParams).id);
    const output = view.output!;
    reply.header('x-media-sha256', output.sha256).header('cache-control', 'no-store');
    if (view.format === 'folder') {
      // The folder travels as a tar stream; the CLI unpacks it.
      const body = new PassThrough();
      packFolder(file, body, new Date(view.createdAt)).catch((e: unknown) => body.destroy(e as Error));
      return reply.type('application/x-tar').header('content-disposition', `attachment; filename="${view.id}.tar"`).send(body);
    }
    return reply
      .type(view.format === 'iso' ? 'application/x-iso9660-image' : view.format === 'tar' ? 'application/x-tar' : 'application/octet-stream')
      .header('content-length', String(output.size))
      .header('content-disposition', `attachment; filename="${output.name}"`)
      .send(createReadStream(file));
  });

  api.delete('/media/:id', { config, schema: { tags, params: IdParams } }, async (req, reply) => {
    await deleteMedia(ctx, actorOf(req), (req.params as IdParams).id);
    return reply.status(204).send();
  });

  api.get('/media/:id/boot.ipxe', { config: { public: true }, schema: { hide: true, params: IdParams, querystring: BootQuerySchema } }, async (req, reply) => {
    const { status, text } = await mediaBootScript(ctx, (req.params as IdParams).id, req.query as BootQuery, publicUrl());
    return reply.status(status).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(text);
  });
}
