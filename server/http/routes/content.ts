/**
 * Content over HTTP: `GET|HEAD /content/<id>/<version|latest>/<path>` and
 * `/content/sha256/<hash>` stream from this point's store with Content-Length, single and
 * multiple ranges (multipart/byteranges), a strong ETag from the content hash and 304 for
 * If-None-Match. A bearer token of any role or a signed URL (`?expires=&sig=`) is required.
 * Paths are looked up in a version's file list and blobs by hash, so no request names a file
 * on disk: nothing outside the store is reachable.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ContentError } from '../../../content/errors.js';
import { hasFileHandles } from '../../../content/file-pump.js';
import { pumpToReply } from '../pump-reply.js';
import { etagOf, ifRangeAllows, multipartPlan, noneMatchHits, parseRange, type MultipartPlan } from '../../../content/http-range.js';
import { resolveFile, type VersionRef } from '../../../content/library.js';
import { checkSignature } from '../../../content/signed-url.js';
import { assertSha256, type ByteRange, type ContentStore } from '../../../content/store.js';
import { contentUrlSecret } from '../../site/content-signing.js';
import type { SiteContext } from '../../site/context.js';
import { verifyToken } from '../../site/tokens.js';
import { HttpError } from '../errors.js';

const OCTETS = 'application/octet-stream';

/** A signed URL, else a bearer token of any role (clients download, admins and technicians too). */
async function authorise(ctx: SiteContext, req: FastifyRequest): Promise<void> {
  const q = req.query as { expires?: unknown; sig?: unknown };
  if (q.sig !== undefined || q.expires !== undefined) {
    const path = req.url.split('?')[0]!;
    const check = checkSignature(await contentUrlSecret(ctx), path, q.expires, q.sig, Math.floor(ctx.now() / 1000));
    if (!check.ok) throw new HttpError(403, 'forbidden', `signed URL refused: ${check.reason}`);
    return;
  }
  const m = typeof req.headers.authorization === 'string' ? /^Bearer\s+(\S+)$/i.exec(req.headers.authorization) : null;
  if (!m) throw new HttpError(401, 'unauthenticated', 'content needs a bearer token (Authorization: Bearer <token>) or a signed URL');
  if (!(await verifyToken(ctx, m[1]!))) throw new HttpError(401, 'unauthenticated', 'the token is unknown or revoked');
}

function parseVersion(raw: string): VersionRef {
  if (raw === 'latest') return 'latest';
  if (!/^[1-9]\d{0,8}$/.test(raw)) throw new HttpError(400, 'invalid', 'version must be a positive whole number or "latest"', 'version');
  return Number(raw);
}

async function multipartBody(store: ContentStore, sha256: string, plan: MultipartPlan): Promise<Readable> {
  async function* parts(): AsyncGenerator<Buffer> {
    for (const part of plan.parts) {
      yield Buffer.from(part.head);
      for await (const chunk of await store.open(sha256, part.range)) yield chunk as Buffer;
    }
    yield Buffer.from(plan.tail);
  }
  return Readable.from(parts(), { objectMode: false });
}

/**
 * One range of a blob as the body. From a filesystem store the bytes are pumped straight into
 * the socket through two reused buffers (content/file-pump.ts); the reply is hijacked for that,
 * so the status and headers set so far are written here. Other stores stream.
 */
async function sendRange(store: ContentStore, sha256: string, range: ByteRange, reply: FastifyReply) {
  if (!hasFileHandles(store)) return reply.send(await store.open(sha256, range));
  const { handle } = await store.openHandle(sha256);
  return pumpToReply(reply, handle, range.start, range.end, () => handle.close(), 'content');
}

/** Sends blob `sha256` of recorded `size`; `immutable` for URLs whose bytes can never change. */
async function sendBlob(store: ContentStore, sha256: string, size: number, req: FastifyRequest, reply: FastifyReply, head: boolean, immutable: boolean) {
  const stat = await store.stat(sha256);
  if (!stat) throw new HttpError(404, 'not-found', `blob ${sha256} is not on this distribution point`);
  if (stat.size !== size) throw new HttpError(503, 'corrupt', `blob ${sha256} is damaged on this distribution point; validate and redistribute`);
  const etag = etagOf(sha256);
  reply.header('etag', etag).header('accept-ranges', 'bytes').header('cache-control', immutable ? 'private, max-age=31536000, immutable' : 'private, no-cache');
  if (noneMatchHits(req.headers['if-none-match'], etag)) return reply.status(304).send();
  const ifRange = req.headers['if-range'];
  const rangeHeader = ifRangeAllows(Array.isArray(ifRange) ? ifRange[0] : ifRange, etag) ? req.headers.range : undefined;
  const answer = parseRange(rangeHeader, size);
  if (answer.kind === 'unsatisfiable') {
    return reply.status(416).header('content-range', `bytes */${size}`).send({ error: 'range-not-satisfiable', message: answer.reason });
  }
  if (answer.kind === 'whole') {
    reply.type(OCTETS).header('content-length', String(size));
    return head || size === 0 ? reply.send() : sendRange(store, sha256, { start: 0, end: size - 1 }, reply);
  }
  reply.status(206);
  const ranges = answer.ranges;
  if (ranges.length === 1) {
    const r = ranges[0]!;
    reply.type(OCTETS).header('content-range', `bytes ${r.start}-${r.end}/${size}`).header('content-length', String(r.end - r.start + 1));
    return head ? reply.send() : sendRange(store, sha256, r, reply);
  }
  const plan = multipartPlan(ranges, size, OCTETS, `osdeploy-${randomBytes(12).toString('hex')}`);
  reply.header('content-type', plan.contentType).header('content-length', String(plan.length));
  return head ? reply.send() : reply.send(await multipartBody(store, sha256, plan));
}

export async function contentRoutes(app: FastifyInstance, ctx: SiteContext): Promise<void> {
  const config = { public: true };
  const store = ctx.library.store;
  for (const method of ['GET', 'HEAD'] as const) {
    const head = method === 'HEAD';
    app.route({
      method,
      url: '/content/sha256/:hash',
      exposeHeadRoute: false,
      config,
      schema: { hide: true },
      handler: async (req, reply) => {
        await authorise(ctx, req);
        let sha256: string;
        try {
          sha256 = assertSha256((req.params as { hash: string }).hash);
        } catch (e) {
          throw new HttpError(400, 'invalid', (e as ContentError).message, 'hash');
        }
        const stat = await store.stat(sha256);
        if (!stat) throw new HttpError(404, 'not-found', `blob ${sha256} is not on this distribution point`);
        return sendBlob(store, sha256, stat.size, req, reply, head, true);
      },
    });
    app.route({
      method,
      url: '/content/:id/:version/*',
      exposeHeadRoute: false,
      config,
      schema: { hide: true },
      handler: async (req, reply) => {
        await authorise(ctx, req);
        const p = req.params as { id: string; version: string; '*': string };
        const ref = parseVersion(p.version);
        const file = await resolveFile(ctx.library, p.id, ref, p['*']);
        return sendBlob(store, file.sha256, file.size, req, reply, head, ref !== 'latest');
      },
    });
  }
}
