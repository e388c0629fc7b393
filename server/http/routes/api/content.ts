/**
 * /api/v1/content: content objects, imports from source folders, versions,
 * per-point status, signed download links, and prestaged content files.
 */
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { PassThrough } from 'node:stream';
import { prestageMetadata, writePrestaged } from '../../../../content/prestage.js';
import { CONTENT_KINDS } from '../../../../policy/content-refs.js';
import { notFound } from '../../../../policy/errors.js';
import { blobPath, contentFilePath, signedUrl } from '../../../site/content-signing.js';
import { createContent, createContentFromSource, deleteContent, getContent, getContentObject, getVersionFiles, importContent, listContent, updateContent, versionsOf } from '../../../site/content.js';
import type { SiteContext } from '../../../site/context.js';
import { contentOfChoice } from '../../../site/distribution.js';
import { actorOf, ADMIN, CLIENT_ROLES } from '../../auth.js';
import { Architecture, IdParams } from './common.js';

const Path = Type.String({ minLength: 1, maxLength: 1024 });
const Boot = Type.Union([
  Type.Object({ os: Type.Literal('winpe'), wim: Path, bcd: Type.Optional(Path), bootSdi: Type.Optional(Path) }, { additionalProperties: false }),
  Type.Object({ os: Type.Literal('linux'), kernel: Path, initrds: Type.Array(Path, { maxItems: 16 }), cmdline: Type.String({ maxLength: 4096 }) }, { additionalProperties: false }),
]);
const Fields = {
  kind: Type.Union(CONTENT_KINDS.map((k) => Type.Literal(k))),
  name: Type.String({ minLength: 1, maxLength: 256 }),
  usable: Type.Optional(Type.Boolean()),
  unusableReason: Type.Optional(Type.String({ maxLength: 1024 })),
  dependencies: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 1000 })),
  allowRunFromDistributionPoint: Type.Optional(Type.Boolean()),
  architecture: Type.Optional(Architecture),
  os: Type.Optional(Type.Union([Type.Literal('winpe'), Type.Literal('linux')])),
  boot: Type.Optional(Boot),
  programs: Type.Optional(Type.Array(Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), commandLine: Type.String({ minLength: 1, maxLength: 8192 }) }, { additionalProperties: false }), { maxItems: 64 })),
  revision: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  imageIndexCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
};
const SourcePath = Type.String({ minLength: 1, maxLength: 4096, description: 'a folder on the server host; imported as the next version' });
const CreateBody = Type.Object({ ...Fields, sourcePath: Type.Optional(SourcePath) }, { additionalProperties: false });
const PatchBody = Type.Partial(Type.Object(Fields, { additionalProperties: false }), { additionalProperties: false });
const VersionParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), version: Type.String({ pattern: '^[1-9][0-9]{0,8}$' }) });
export const ContentChoiceBody = {
  taskSequenceId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  contentIds: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 1000 })),
};

export async function contentRoutes(api: FastifyInstance, ctx: SiteContext, publicUrl: () => string): Promise<void> {
  const tags = ['content'];
  api.post('/content', { schema: { tags, body: CreateBody } }, async (req, reply) => {
    const { sourcePath, ...input } = req.body as { sourcePath?: string } & Parameters<typeof createContent>[2];
    if (sourcePath === undefined) return reply.status(201).send(await createContent(ctx, actorOf(req), input));
    const r = await createContentFromSource(ctx, actorOf(req), input, sourcePath);
    return reply.status(201).send({ ...r.content, imported: { version: r.import.version.version, changed: r.import.changed } });
  });
  api.get('/content', { schema: { tags } }, async () => ({ items: await listContent(ctx) }));
  api.get('/content/:id', { schema: { tags, params: IdParams } }, async (req) => await getContent(ctx, (req.params as IdParams).id));
  api.patch('/content/:id', { schema: { tags, params: IdParams, body: PatchBody } }, async (req) => await updateContent(ctx, actorOf(req), (req.params as IdParams).id, req.body as never));
  api.delete('/content/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    await deleteContent(ctx, actorOf(req), (req.params as IdParams).id);
    return reply.status(204).send();
  });

  api.post('/content/:id/import', { schema: { tags, params: IdParams, body: Type.Object({ sourcePath: Type.Optional(SourcePath) }, { additionalProperties: false }) } }, async (req) => {
    const r = await importContent(ctx, actorOf(req), (req.params as IdParams).id, (req.body as { sourcePath?: string }).sourcePath);
    const v = r.import.version;
    return { content: r.content, changed: r.import.changed, version: { version: v.version, createdAt: v.createdAt, totalSize: v.totalSize, fileCount: v.files.length, manifestSha256: v.manifestSha256 } };
  });
  api.get('/content/:id/versions', { schema: { tags, params: IdParams } }, async (req) => ({ items: await versionsOf(ctx, (req.params as IdParams).id) }));
  // The engine (client role) reads a version's file list and checks it against the policy's manifest hash.
  api.get('/content/:id/versions/:version', { config: { roles: CLIENT_ROLES }, schema: { tags, params: VersionParams } }, async (req) => {
    const p = req.params as { id: string; version: string };
    return await getVersionFiles(ctx, p.id, Number(p.version));
  });
  api.get('/content/:id/status', { schema: { tags, params: IdParams } }, async (req) => {
    const id = (req.params as IdParams).id;
    await getContentObject(ctx, id);
    return { items: await ctx.store.holdings.list({ contentId: id }) };
  });

  // Signed links to every file of a version, for things that carry no token (media builds, firmware).
  api.post(
    '/content/:id/links',
    {
      config: { roles: ADMIN },
      schema: { tags, params: IdParams, body: Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1 })), ttlSeconds: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false }) },
    },
    async (req) => {
      const id = (req.params as IdParams).id;
      const body = req.body as { version?: number; ttlSeconds?: number };
      const o = await getContentObject(ctx, id);
      const v = body.version === undefined ? o.versions[o.versions.length - 1] : o.versions.find((x) => x.version === body.version);
      if (!v) throw notFound(`content ${id} has no version ${body.version ?? ''}`.trim(), 'version');
      const ttl = body.ttlSeconds ?? 3600;
      const files = v.files.map((f) => ({ ...f, url: signedUrl(ctx, publicUrl(), contentFilePath(id, v.version, f.path), ttl).url, blobUrl: signedUrl(ctx, publicUrl(), blobPath(f.sha256), ttl).url }));
      return { id, version: v.version, manifestSha256: v.manifestSha256, expires: Math.floor(ctx.now() / 1000) + ttl, files };
    },
  );

  // One gzip'd tar streamed as it is made: the file may be many gigabytes.
  api.post('/content/prestage', { config: { roles: ADMIN }, schema: { tags, body: Type.Object(ContentChoiceBody, { additionalProperties: false }) } }, async (req, reply) => {
    const choice = req.body as { taskSequenceId?: string; contentIds?: string[] };
    const meta = prestageMetadata((await contentOfChoice(ctx, choice)).map((object) => ({ object })), `site ${ctx.siteCode}`, new Date(ctx.now()));
    const name = `${choice.taskSequenceId ?? meta.content.map((c) => c.object.id).join('-').slice(0, 80)}.osdpkg.tgz`;
    const body = new PassThrough();
    writePrestaged(ctx.library.store, meta, body).catch((err: unknown) => {
      req.log.error({ err }, 'prestaged content file failed while streaming');
      body.destroy(err as Error);
    });
    return reply
      .type('application/gzip')
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('x-osdeploy-prestage-content', meta.content.map((c) => `${c.object.id}@${c.version}`).join(','))
      .send(body);
  });
}
