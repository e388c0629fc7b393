/**
 * /api/v1/task-sequences/export and /task-sequences/import/…, administrators only.
 * Export writes under DATA_DIR/exports (with `path`) or answers with the .zip itself. Import is
 * plan → (change actions) → (upload NAME_files as a tar) → commit; a dry run is a plan only.
 * Zip and tar bodies reach the handlers as raw streams: the parsers below never buffer them, and
 * the site code bounds and checks them as hostile input.
 */
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { invalid } from '../../../../policy/errors.js';
import type { SiteContext } from '../../../site/context.js';
import { isFolder } from '../../../site/export/files.js';
import { dataDirOf, ImportSessions, type ImportSession } from '../../../site/export/sessions.js';
import { exportToPath, exportToStream } from '../../../site/export/service.js';
import { actorOf, ADMIN } from '../../auth.js';

const Id = Type.String({ minLength: 1, maxLength: 64 });
const ExportBody = Type.Object(
  {
    taskSequenceIds: Type.Array(Id, { minItems: 1, maxItems: 100 }),
    includeDependencies: Type.Optional(Type.Boolean({ description: 'default true' })),
    includeContent: Type.Optional(Type.Boolean({ description: 'default true; needs includeDependencies' })),
    comments: Type.Optional(Type.String({ maxLength: 4096 })),
    path: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'write DATA_DIR/exports/<path> (and NAME_files beside it); without it the answer is the .zip' })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 104, description: 'file name for a downloaded .zip; its content folder is NAME_files' })),
  },
  { additionalProperties: false },
);
const Actions = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 32 }));
const PlanParams = Type.Object({ planId: Type.String({ pattern: '^[0-9a-f]{24}$' }) });
const ZIP = 'application/zip';
const TAR = 'application/x-tar';

/** The plan as the API shows it. */
async function view(s: ImportSession) {
  const m = s.file.manifest;
  return {
    planId: s.id,
    expiresAt: new Date(s.expiresAt).toISOString(),
    file: {
      name: path.basename(s.file.zipPath),
      uploaded: s.dir !== null,
      filesFolder: s.file.filesDir ? path.basename(s.file.filesDir) : null,
      filesPresent: s.file.filesDir ? await isFolder(s.file.filesDir) : false,
    },
    exportedAt: m.exportedAt,
    site: m.site.code,
    comments: m.comments,
    includesDependencies: m.includesDependencies,
    includesContent: m.includesContent,
    objects: s.plan.objects,
    references: s.plan.references,
    warnings: s.plan.warnings,
    actions: s.actions,
  };
}

const isType = (req: FastifyRequest, type: string): boolean => String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === type;

export async function exportRoutes(api: FastifyInstance, ctx: SiteContext): Promise<void> {
  const sessions = new ImportSessions(ctx, { root: path.join(dataDirOf(ctx), 'imports'), ttlMs: 60 * 60 * 1000, maxUploadBytes: 256 * 1024 * 1024 });
  const tags = ['task-sequences'];
  const config = { roles: ADMIN };
  const planId = (req: FastifyRequest) => (req.params as { planId: string }).planId;

  await api.register(async (sub) => {
    // Raw streams: the handler decides where the bytes go and how many it takes.
    sub.addContentTypeParser([ZIP, TAR], (_req, payload, done) => done(null, payload));

    sub.post('/task-sequences/export', { config, schema: { tags, body: ExportBody, description: 'R-27: export task sequences with or without dependencies and content; secrets are never exported' } }, async (req, reply) => {
      const b = req.body as { taskSequenceIds: string[]; includeDependencies?: boolean; includeContent?: boolean; comments?: string; path?: string; name?: string };
      const opts = { taskSequenceIds: b.taskSequenceIds, ...(b.includeDependencies === undefined ? {} : { includeDependencies: b.includeDependencies }), ...(b.includeContent === undefined ? {} : { includeContent: b.includeContent }), ...(b.comments === undefined ? {} : { comments: b.comments }) };
      if (b.path !== undefined) {
        const w = await exportToPath(ctx, actorOf(req), opts, b.path);
        return reply.status(201).send({ zip: w.zip, filesFolder: w.filesFolder, files: w.files, bytes: w.bytes, objects: w.bundle.manifest.objects.map(({ key, type, name }) => ({ key, type, name })), references: w.bundle.manifest.references, warnings: w.bundle.warnings });
      }
      const name = b.name ?? `${b.taskSequenceIds.join('-').slice(0, 80)}.zip`;
      const out = await exportToStream(ctx, actorOf(req), opts, name);
      const file = `${name.replace(/\.zip$/i, '')}.zip`;
      reply.type(ZIP).header('content-disposition', `attachment; filename="${file}"`);
      // With content: the caller writes NAME_files from GET /content/sha256/<hash> (the CLI does).
      if (out.filesFolder) reply.header('x-osdeploy-files-folder', out.filesFolder);
      return reply.send(out.stream);
    });

    sub.post(
      '/task-sequences/import/plan',
      { config, schema: { tags, querystring: Type.Object({ name: Type.Optional(Type.String({ maxLength: 104 })) }, { additionalProperties: false }), description: 'R-28: read an export (application/zip body, or JSON {"path"} under DATA_DIR/imports) and propose an action per object' } },
      async (req, reply) => {
        let s: ImportSession;
        if (isType(req, ZIP)) s = await sessions.fromUpload(req.body as Readable, (req.query as { name?: string }).name);
        else {
          const p = (req.body as { path?: unknown } | null)?.path;
          if (typeof p !== 'string') throw invalid(`send the .zip as ${ZIP}, or JSON {"path": "<file under DATA_DIR/imports>"}`, 'path', 'R-28');
          s = await sessions.fromPath(p);
        }
        return reply.status(201).send(await view(s));
      },
    );
    sub.get('/task-sequences/import/:planId', { config, schema: { tags, params: PlanParams } }, async (req) => view(sessions.get(planId(req))));
    sub.patch('/task-sequences/import/:planId', { config, schema: { tags, params: PlanParams, body: Type.Object({ actions: Actions }, { additionalProperties: false }), description: 'R-28: choose actions: create, ignore, overwrite, new-revision' } }, async (req) =>
      view(await sessions.setActions(planId(req), (req.body as { actions: Record<string, string> }).actions)),
    );
    sub.put('/task-sequences/import/:planId/files', { config, schema: { tags, params: PlanParams, description: `the export's NAME_files folder as ${TAR}: entries <key>/<path>` } }, async (req) => {
      if (!isType(req, TAR)) throw invalid(`send the content folder as ${TAR}`, 'body', 'R-28');
      return sessions.receiveFiles(planId(req), req.body as Readable);
    });
    sub.post('/task-sequences/import/:planId/commit', { config, schema: { tags, params: PlanParams, body: Type.Union([Type.Object({ actions: Type.Optional(Actions) }, { additionalProperties: false }), Type.Null()]) } }, async (req) =>
      sessions.commit(planId(req), actorOf(req), (req.body as { actions?: Record<string, string> } | null)?.actions),
    );
    sub.delete('/task-sequences/import/:planId', { config, schema: { tags, params: PlanParams } }, async (req, reply) => {
      await sessions.discard(planId(req));
      return reply.status(204).send();
    });
  });
}
