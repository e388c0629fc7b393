/**
 * Network boot over HTTP: the iPXE script generated from policy, the identity file
 * wimboot injects into Windows PE, and boot files streamed from the boot-file store. These routes
 * are public: firmware and iPXE carry no token, and they reveal only a machine's own boot choice.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { pumpToReply } from '../pump-reply.js';
import { PolicyError } from '../../../policy/errors.js';
import { safeText } from '../../../media/ipxe/script.js';
import { identifyScript } from '../../../media/ipxe/identify.js';
import { factsFromQuery, type BootQuery } from '../../site/boot-policy.js';
import { bootScript } from '../../site/boot-script.js';
import { checkPxePassword, LOCKOUT_MS, type PasswordCheck } from '../../site/pxe-password.js';
import type { SiteContext } from '../../site/context.js';
import { siteKeys } from '../../site/site-keys.js';
import { HttpError } from '../errors.js';

/** What the HTTP side needs of the boot-file store (server/tftp/file-source.ts implements it). */
export interface BootFiles {
  open(path: string): Promise<{ size: number; read(buf: Buffer, position: number): Promise<number>; close(): Promise<void> } | null>;
}

const req = (reply: FastifyReply) => reply.request;

/** Who answers a PXE password, for counting failures: the machine's first MAC (or UUID). */
const firstMac = (q: BootQuery): string => (Array.isArray(q.mac) ? q.mac[0] : q.mac) ?? q.uuid ?? '';

/** The password of an HTTP Basic Authorization header (what follows the first ':'), or null. */
export function basicPassword(header: string | undefined): string | null {
  const m = /^Basic +([A-Za-z0-9+/=]{1,400})$/i.exec(header ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : decoded.slice(colon + 1);
}

/** One `bytes=a-b`, `bytes=a-` or `bytes=-n` range; anything else is served whole. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

async function sendFile(files: BootFiles, path: string, rangeHeader: string | undefined, reply: FastifyReply, head: boolean) {
  let file;
  try {
    file = await files.open(path);
  } catch {
    throw new HttpError(403, 'forbidden', 'that path is outside the boot-file store');
  }
  if (!file) throw new HttpError(404, 'not-found', `no boot file ${safeText(path)}`);
  const range = parseRange(rangeHeader, file.size);
  reply.header('accept-ranges', 'bytes').type('application/octet-stream');
  if (range === 'unsatisfiable') {
    await file.close();
    return reply.status(416).header('content-range', `bytes */${file.size}`).send();
  }
  const { start, end } = range ?? { start: 0, end: file.size - 1 };
  reply.header('content-length', String(file.size === 0 ? 0 : end - start + 1));
  if (range) reply.status(206).header('content-range', `bytes ${start}-${end}/${file.size}`);
  if (head || file.size === 0) {
    await file.close();
    return reply.send();
  }
  // Two reused buffers straight into the socket (content/file-pump.ts), as /content/… does: a
  // stream with a fresh buffer per chunk served boot images at a third of a plain file server's
  // speed (bench/RESULTS.md, "deploy"). The reply is hijacked, so its headers are written here.
  const source = { read: async (buffer: Buffer, offset: number, length: number, position: number) => ({ bytesRead: await file.read(buffer.subarray(offset, offset + length), position) }) };
  return pumpToReply(reply, source, start, end, () => file.close(), 'boot file');
}

export async function bootRoutes(app: FastifyInstance, ctx: SiteContext, files: BootFiles, siteUrl: () => string): Promise<void> {
  const config = { public: true };
  // Per-boot tokens and signed URLs use keys held in memory (site-keys.ts), read once, here.
  await siteKeys(ctx).load();
  // iPXE's `params` sends the PXE password as a form; nothing else on these routes has a body.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  const script = async (query: BootQuery, reply: FastifyReply, password?: { value: string; who: string }) => {
    let text: string;
    try {
      // A network boot is a PXE boot: media name their media (/api/v1/media/:id/boot.ipxe), and
      // nothing a caller puts in this public URL (preferred, unattended, source) widens a boot.
      const { preferred: _p, unattended: _u, source: _s, mediaForm: _f, ...pxeQuery } = query;
      const facts = factsFromQuery({ ...pxeQuery, source: 'pxe' });
      let check: PasswordCheck | null = null;
      if (password) check = await checkPxePassword(ctx.store.settings, password.who, password.value, ctx.now());
      const message = check === 'wrong' ? 'wrong PXE password' : check === 'locked' ? `too many wrong PXE passwords: wait ${LOCKOUT_MS / 1000} s` : null;
      if (check && check !== 'ok') req(reply).log.warn({ mac: facts.macAddresses[0] ?? null, check }, 'PXE password refused');
      text = bootScript(ctx, facts, siteUrl(), { passwordOk: check === 'ok', message, uefi: query.uefi === 'true' });
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      // Bad identity in the URL: still a valid script, so the machine moves on instead of hanging.
      text = `#!ipxe\necho osdeploy: ${safeText(e.message)}\nexit\n`;
      reply.status(400);
    }
    return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(text);
  };
  app.get('/boot.ipxe', { config, schema: { hide: true } }, async (req, reply) => {
    const { login, ...query } = req.query as BootQuery & { login?: string };
    // The PXE password's answer by HTTP Basic authentication: the form's script chains to
    // http://user:password@site/boot.ipxe?…&login=true. iPXE sends credentials only when asked,
    // so a request without them is challenged; the header is never logged, the URL carries none.
    if (login === 'true') {
      const basic = basicPassword(req.headers.authorization);
      if (basic === null) return reply.status(401).header('www-authenticate', 'Basic realm="osdeploy PXE password", charset="UTF-8"').header('cache-control', 'no-store').type('text/plain; charset=utf-8').send('#!ipxe\necho osdeploy: the PXE password is sent with HTTP Basic authentication\nexit\n');
      return script(query, reply, { value: basic, who: `${firstMac(query)}|${req.ip}` });
    }
    // A plain `/boot.ipxe` (a DHCP server's boot file URL): iPXE asks again with its identity.
    if (query.mac !== undefined || query.uuid !== undefined) return script(query, reply);
    return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(identifyScript(siteUrl()));
  });
  // The PXE password's answer: the same script, proven when the password is right.
  app.post('/boot.ipxe', { config, schema: { hide: true } }, async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const value = typeof body.password === 'string' ? body.password : '';
    const q = req.query as BootQuery;
    return script(q, reply, { value, who: `${firstMac(q)}|${req.ip}` });
  });
  app.get('/boot/ipxe/:mac', { config, schema: { hide: true } }, async (req, reply) =>
    script({ ...(req.query as BootQuery), mac: (req.params as { mac: string }).mac }, reply),
  );
  app.get('/boot/identity.ini', { config, schema: { hide: true } }, async (req, reply) => {
    const q = req.query as BootQuery & { deployment?: string; token?: string };
    const facts = factsFromQuery(q);
    const lines = [
      '[osdeploy]',
      `site=${siteUrl()}`,
      ...facts.macAddresses.map((m, i) => `mac${i}=${m}`),
      `uuid=${facts.smbiosUuid ?? ''}`,
      `arch=${facts.architecture}`,
      `deployment=${safeText(q.deployment ?? '', 32)}`,
      // The per-boot token the script was given, for the engine in Windows PE.
      ...(q.token && /^osdb_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(q.token) && q.token.length < 1500 ? [`token=${q.token}`] : []),
    ];
    return reply.type('text/plain; charset=utf-8').send(`${lines.join('\r\n')}\r\n`);
  });
  for (const method of ['GET', 'HEAD'] as const) {
    app.route({
      method,
      url: '/boot/*',
      exposeHeadRoute: false,
      // The HEAD route is declared below; fastify's automatic one would clash with it.
      config,
      schema: { hide: true },
      handler: async (req, reply) => sendFile(files, (req.params as { '*': string })['*'], req.headers.range, reply, method === 'HEAD'),
    });
  }
}
