/**
 * `osdeploy media …` (R-25, R-26): `create` asks the site to build media (POST /api/v1/media,
 * technician or admin), shows the build's progress, downloads the result and checks its
 * sha256; the site keeps the build in DATA_DIR/media/<id>/. `inspect` reads media back locally
 * (ISO, disk image, tar or folder) and needs no server.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { unpackTar } from '../../../media/boot-media/archive.js';
import { inspectMedia, type Inspection } from '../../../media/boot-media/inspect.js';
import { LAYOUT, MEDIA_FORMATS, MEDIA_TYPES } from '../../../media/boot-media/model.js';
import { ApiError, ConnectionError } from '../api-client.js';
import { formatTable } from '../table.js';
import { CliError, enc, many, noun, oneOf, show, splitPair, TOKEN_FILE, verb, type Run } from '../runtime.js';

interface Progress {
  readonly phase: string;
  readonly message: string;
  readonly done: number;
  readonly total: number;
}

interface MediaView {
  readonly id: string;
  readonly type: string;
  readonly format: string;
  readonly state: 'building' | 'ready' | 'failed';
  readonly protected: boolean;
  readonly deploymentId: string | null;
  readonly preferred: string | null;
  readonly expiresAt: string | null;
  readonly expired: boolean;
  readonly error: string | null;
  readonly output: { name: string; size: number; sha256: string; files: number } | null;
  readonly progress: Progress | null;
}

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** One progress line: rewritten in place on a terminal, a new line per change otherwise. */
function reporter(): { say(text: string): void; end(): void } {
  const tty = process.stderr.isTTY === true;
  let last = '';
  return {
    say(text) {
      if (text === last) return;
      last = text;
      process.stderr.write(tty ? `\r\x1b[K${text}` : `${text}\n`);
    },
    end() {
      if (tty && last) process.stderr.write('\n');
    },
  };
}

const describe = (p: Progress): string => {
  const pct = p.total > 0 ? ` ${Math.floor((p.done / p.total) * 100)}%` : '';
  return `building: ${p.message}${p.phase === 'content' && p.total > 1 ? ` ${mib(p.done)} of ${mib(p.total)}` : ''}${p.phase === 'content' || p.phase === 'manifest' ? pct : ''}`;
};

async function waitForBuild(run: Run, id: string, say: (s: string) => void, timeoutMs: number): Promise<MediaView> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await run.api.get<MediaView>(`/media/${enc(id)}`);
    if (v.state !== 'building') return v;
    if (v.progress) say(describe(v.progress));
    if (Date.now() > until) throw new CliError(`media ${id} is still building after ${Math.round(timeoutMs / 1000)} s; follow it with: osdeploy media show ${id}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The API client reads JSON only; the download streams, with the same server and token. */
async function download(run: Run, id: string): Promise<Response> {
  const token = (run.opts.token as string | undefined) ?? (process.env.OSDEPLOY_TOKEN || undefined) ?? (existsSync(TOKEN_FILE) ? readFileSync(TOKEN_FILE, 'utf8').trim() : undefined);
  let res: Response;
  try {
    res = await fetch(`${run.api.server}/api/v1/media/${enc(id)}/file`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (e) {
    throw new ConnectionError(run.api.server, ((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message) || 'error');
  }
  if (!res.ok || !res.body) {
    const text = await res.text();
    let body: { error: string; message: string };
    try {
      body = JSON.parse(text) as { error: string; message: string };
    } catch {
      body = { error: `http-${res.status}`, message: `the server answered ${res.status}` };
    }
    throw new ApiError(res.status, body);
  }
  return res;
}

async function save(run: Run, view: MediaView, out: string, say: (s: string) => void): Promise<void> {
  const res = await download(run, view.id);
  const total = view.output?.size ?? 0;
  let got = 0;
  const body = Readable.fromWeb(res.body as WebReadableStream);
  body.on('data', (b: Buffer) => {
    got += b.length;
    say(`downloading: ${mib(got)}${total && view.format !== 'folder' ? ` of ${mib(total)}` : ''}`);
  });
  if (view.format === 'folder') {
    if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0)) throw new CliError(`--out ${out} exists and is not an empty folder`);
    await unpackTar(body, out);
    return;
  }
  const hash = createHash('sha256');
  const tmp = `${out}.part`;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(body, tap, createWriteStream(tmp));
    const sha256 = hash.digest('hex');
    if (sha256 !== view.output?.sha256) throw new CliError(`the download's sha256 ${sha256} is not the built media's ${view.output?.sha256}; try again`);
    await rename(tmp, out);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** The check of osdeploy/content.json against the policy's content list, as inspect prints it. */
function contentCheckLines(i: Inspection): string[] {
  const cc = i.contentCheck;
  const policy = i.protected ? 'the sealed policy' : "the media's policy (not sealed: this catches damage, not tampering)";
  switch (cc.state) {
    case 'match':
      return [`content list: ${LAYOUT.content} matches ${policy}: ${cc.objects} content object(s)`];
    case 'mismatch':
      return [`content list: PROBLEMS: ${LAYOUT.content} does not match ${policy}:`, ...cc.problems.map((p) => `  ${p}`)];
    case 'locked':
      return [`content list: locked (give --password to check ${LAYOUT.content} against the sealed policy)`];
    case 'no-list':
      return [`content list: not checked: ${i.header.type === 'bootable' ? 'bootable media carry no policy' : 'the policy names no content list (media built before it was added; build the media again)'}`];
  }
}

function inspectionText(i: Inspection): string {
  const h = i.header;
  const vars = i.variables === null ? ['  (locked: give --password)'] : Object.entries(i.variables).map(([k, v]) => `  ${k} = ${v}`);
  const lines = [
    `media ${h.id}: ${h.type} (${i.container}), site ${h.site} (${h.siteCode}), ${h.architecture}, boot image ${h.bootImageId}`,
    `created ${h.createdAt}; expires ${h.expiresAt ?? 'never'}${i.expired ? ' (EXPIRED)' : ''}; ${i.protected ? 'password-protected' : 'no password'}`,
    `allow unattended: ${i.allowUnattended === null ? 'locked' : i.allowUnattended}; client token: ${i.token}`,
    'variables:',
    ...(vars.length ? vars : ['  -']),
  ];
  if (i.policy) lines.push(`task sequence: ${i.policy.taskSequenceName} (${i.policy.taskSequenceId}), deployment ${i.policy.deploymentId}, ${i.policy.steps} step(s)`);
  if (i.content.length) lines.push('content:', formatTable(i.content, [
    { header: 'ID', value: (c) => c.id },
    { header: 'KIND', value: (c) => c.kind },
    { header: 'VERSION', value: (c) => c.version },
    { header: 'FILES', value: (c) => c.files },
    { header: 'BYTES', value: (c) => c.bytes },
    { header: 'WHERE', value: (c) => c.root },
  ]));
  lines.push(...contentCheckLines(i));
  const c = i.check;
  lines.push(`manifest: ${i.manifest.files.length} files, ${c.ok ? 'every file matches its sha256' : `PROBLEMS: ${[...c.missing.map((p) => `missing ${p}`), ...c.changed.map((p) => `changed ${p}`), ...c.extra.map((p) => `not listed ${p}`)].join(', ')}`}`);
  for (const note of c.expected) lines.push(`  note: ${note}`);
  lines.push(formatTable(i.manifest.files, [
    { header: 'SHA256', value: (f) => f.sha256 },
    { header: 'SIZE', value: (f) => f.size },
    { header: 'PATH', value: (f) => f.path },
  ]));
  return lines.join('\n');
}

function passwordOf(opts: Record<string, unknown>): string | undefined {
  if (typeof opts.passwordFile === 'string') return readFileSync(opts.passwordFile, 'utf8').replace(/\r?\n$/, '');
  return (opts.password as string | undefined) ?? (process.env.OSDEPLOY_MEDIA_PASSWORD || undefined);
}

const mediaTable = (items: readonly MediaView[]): string =>
  formatTable(items, [
    { header: 'ID', value: (m) => m.id },
    { header: 'TYPE', value: (m) => m.type },
    { header: 'FORMAT', value: (m) => m.format },
    { header: 'STATE', value: (m) => (m.expired ? `${m.state} (expired)` : m.state) },
    { header: 'DEPLOYMENT', value: (m) => m.preferred ?? m.deploymentId },
    { header: 'PASSWORD', value: (m) => m.protected },
    { header: 'EXPIRES', value: (m) => m.expiresAt },
    { header: 'SIZE', value: (m) => (m.output ? mib(m.output.size) : null) },
  ]);

export function registerMedia(program: Command): void {
  const media = noun(program, 'media', 'boot media: bootable, standalone and prestaged (R-25, R-26)');

  verb(media, 'create', 'build boot media on the site and download it', async (run) => {
    const o = run.opts;
    const variables = Object.fromEntries(((o.var as string[] | undefined) ?? []).map(splitPair));
    const password = passwordOf(o);
    const body = {
      type: o.type,
      ...(o.format ? { format: o.format } : {}),
      ...(o.bootImage ? { bootImageId: o.bootImage } : {}),
      ...(o.deployment ? { deploymentId: o.deployment } : {}),
      ...(Object.keys(variables).length ? { variables } : {}),
      allowUnattended: o.unattended === true,
      ...(password ? { password } : {}),
      ...(o.expires ? { expiresAt: o.expires } : {}),
      ...(o.siteUrl ? { siteUrl: o.siteUrl } : {}),
    };
    const out = o.out as string;
    const p = reporter();
    try {
      const started = await run.api.post<MediaView>('/media', body);
      p.say(`media ${started.id}: building ${started.type} media (${started.format})`);
      const done = await waitForBuild(run, started.id, p.say, Number(o.timeout ?? 3600) * 1000);
      if (done.state === 'failed') throw new CliError(`media ${done.id} failed: ${done.error ?? 'unknown error'}`);
      await save(run, done, out, p.say);
      p.end();
      show(run, done, (v) => `built ${v.type} media ${v.id} (${v.format}, ${mib(v.output!.size)}, ${v.output!.files} files, sha256 ${v.output!.sha256}) -> ${out}`);
    } finally {
      p.end();
    }
  })
    .requiredOption('--type <type>', MEDIA_TYPES.join(', '), oneOf(MEDIA_TYPES))
    .option('--boot-image <id>', 'the boot image (default: the deployment\'s task sequence\'s)')
    .option('--deployment <id>', 'the deployment (required for standalone and prestaged; bootable media prefer it: SMSTSPreferredAdvertID)')
    .option('--var <NAME=VALUE>', 'a media variable, repeatable (SMSTSPreferredAdvertID, OSDComputerName, …)', many)
    .option('--unattended', 'allow unattended deployment (R-20)')
    .option('--password <password>', 'protect the variables file (or --password-file, OSDEPLOY_MEDIA_PASSWORD)')
    .option('--password-file <file>', 'read the media password from a file')
    .option('--expires <iso>', 'expiry, e.g. 2026-12-31T18:00:00Z: the media and its token stop working then')
    .option('--format <format>', `${MEDIA_FORMATS.join(', ')} (default iso; raw for prestaged)`, oneOf(MEDIA_FORMATS))
    .option('--site-url <url>', 'the site address on the media (default: the site\'s public URL)')
    .option('--timeout <seconds>', 'how long to wait for the build (default 3600)')
    .requiredOption('--out <path>', 'where to write the ISO, tar or disk image (a folder for --format folder)');

  verb(media, 'inspect <file>', 'read media back: type, variables (masked unless --password), expiry, manifest, content list', async (run) => {
    const password = passwordOf(run.opts) ?? null;
    const i = await inspectMedia(run.args[0]!, { password, reveal: run.opts.showValues === true, now: Date.now() });
    show(run, i, inspectionText);
    // A manifest that does not match, or a content list that does not match the policy's: exit 1 (after the report).
    if (!i.check.ok || i.contentCheck.state === 'mismatch') process.exitCode = 1;
  })
    .option('--password <password>', 'the media password: shows the variables')
    .option('--password-file <file>', 'read the media password from a file')
    .option('--show-values', 'show the variable values of media without a password');

  verb(media, 'list', 'list media the site built', async (run) => {
    const r = await run.api.get<{ items: MediaView[] }>('/media');
    show(run, r, (x) => mediaTable(x.items));
  });

  verb(media, 'show <id>', 'one media: state, progress, result', async (run) => {
    const v = await run.api.get<MediaView>(`/media/${enc(run.args[0])}`);
    show(run, v, (x) => `${mediaTable([x])}${x.progress && x.state === 'building' ? `\n${describe(x.progress)}` : ''}${x.error ? `\nerror: ${x.error}` : ''}`);
  });

  verb(media, 'delete <id>', 'delete media and revoke its token', async (run) => {
    await run.api.delete(`/media/${enc(run.args[0])}`);
    show(run, null, () => `deleted media ${run.args[0]}; its token is revoked`);
  });
}
