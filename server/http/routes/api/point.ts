/**
 * /api/v1/point: this service acting as a distribution point for a site. Admin
 * only: a pull makes this service fetch URLs and store what they return, which no machine
 * (client role) may order. The pull answers with NDJSON progress lines, then `done` or `error`.
 */
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { PassThrough, type Readable } from 'node:stream';
import { isContentError } from '../../../../content/errors.js';
import { invalid } from '../../../../policy/errors.js';
import type { SiteContext } from '../../../site/context.js';
import { importPrestagedHere, inventory, pullContent, validateHeld } from '../../../site/point-role.js';
import type { PullLine, PullRequest } from '../../../site/remote-point.js';
import { ADMIN } from '../../auth.js';

/** A progress line at most every this many bytes: enough to move a bar, few enough to be cheap. */
const PROGRESS_STEP = 4 * 1024 * 1024;

const PullBody = Type.Object(
  {
    object: Type.Object({ id: Type.String({ maxLength: 64 }), versions: Type.Array(Type.Object({}, { additionalProperties: true }), { minItems: 1, maxItems: 1 }) }, { additionalProperties: true }),
    blobs: Type.Array(Type.Object({ sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }), size: Type.Integer({ minimum: 0 }), url: Type.String({ maxLength: 8192 }) }, { additionalProperties: false }), { maxItems: 1_000_000 }),
    verifyExisting: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export async function pointRoutes(api: FastifyInstance, ctx: SiteContext): Promise<void> {
  const tags = ['point'];
  const config = { roles: ADMIN };
  // Prestaged files arrive as the raw request stream: they can be far larger than any body limit.
  api.addContentTypeParser(['application/gzip', 'application/octet-stream'], (_req, payload, done) => done(null, payload));

  api.get('/point/inventory', { config, schema: { tags } }, async () => ({ items: await inventory(ctx) }));
  api.post('/point/validate', { config, schema: { tags, body: Type.Optional(Type.Object({ contentId: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false })) } }, async (req) => ({
    results: await validateHeld(ctx, (req.body as { contentId?: string } | undefined)?.contentId),
  }));

  api.post('/point/pull', { config, schema: { tags, body: PullBody } }, async (req, reply) => {
    const body = req.body as PullRequest;
    for (const b of body.blobs) {
      const proto = /^([a-z]+):/i.exec(b.url)?.[1]?.toLowerCase();
      if (proto !== 'http' && proto !== 'https') throw invalid(`blob ${b.sha256}: only http and https URLs are pulled`, 'blobs');
    }
    const out = new PassThrough();
    const line = (l: PullLine) => out.write(`${JSON.stringify(l)}\n`);
    const controller = new AbortController();
    let finished = false;
    // The site hung up (its job was stopped): stop pulling.
    reply.raw.once('close', () => {
      if (!finished) controller.abort(new Error('the site closed the connection'));
    });
    let last = 0;
    pullContent(ctx, body, (bytes) => {
      if (bytes - last >= PROGRESS_STEP) line({ progress: (last = bytes) });
    }, controller.signal).then(
      (r) => {
        finished = true;
        out.end(`${JSON.stringify({ done: { blobs: r.blobs, copied: r.copied, bytesCopied: r.bytesCopied } })}\n`);
      },
      (e: unknown) => {
        finished = true;
        const code = isContentError(e) ? e.code : 'error';
        if (!isContentError(e)) req.log.warn({ err: e }, 'pull failed');
        out.end(`${JSON.stringify({ error: { code, message: (e as Error).message ?? String(e) } })}\n`);
      },
    );
    return reply.type('application/x-ndjson').header('cache-control', 'no-store').send(out);
  });

  api.post('/point/prestage-import', { config, schema: { tags } }, async (req) => {
    const body = req.body as Readable | undefined;
    if (!body || typeof (body as Readable).pipe !== 'function') throw invalid('send the prestaged file as the body with content-type application/gzip', 'body');
    return importPrestagedHere(ctx, body);
  });
}
