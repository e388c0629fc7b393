/**
 * `osdeploy content distribute|status|validate|prestage|prestage-import` (R-07, R-08): distribution
 * jobs followed with a progress bar on a terminal, validation of a point, and prestaged content
 * files written atomically (a failed download leaves no file behind).
 */
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { pino } from 'pino';
import { loadConfig } from '../../config.js';
import { openSite } from '../../main.js';
import { importPrestagedHere } from '../../site/point-role.js';
import { bytes, followJob, isFinished, itemTable, progressLine, type JobView } from '../progress.js';
import { formatTable } from '../table.js';
import { CliError, defined, enc, ids, show, verb } from '../runtime.js';

interface DistributeAnswer {
  readonly job: JobView | null;
  readonly skipped: readonly { pointId: string | null; contentId: string; reason: string }[];
  readonly message: string;
}

interface PrestageResult {
  readonly content: readonly { id: string; name: string; kind: string; version: number }[];
  readonly blobs: number;
  readonly stored: number;
  readonly bytes: number;
  readonly missingDependencies: readonly string[];
  readonly warnings?: readonly string[];
}

const choice = (o: Record<string, unknown>) => {
  if (!o.ts === !o.content) throw new CliError('give --ts ID or --content ID');
  return o.ts ? { taskSequenceId: o.ts as string } : { contentIds: o.content as string[] };
};

const skippedLines = (s: DistributeAnswer['skipped']): string[] => s.map((x) => `skipped ${x.contentId}${x.pointId ? ` on ${x.pointId}` : ''}: ${x.reason}`);

const prestageSummary = (r: PrestageResult): string =>
  [
    ...r.content.map((c) => `installed ${c.kind} ${c.id} (${c.name}) version ${c.version}`),
    `${r.blobs} blob(s), ${bytes(r.bytes)}; ${r.stored} new to this point`,
    ...(r.missingDependencies.length ? [`missing dependencies (import or distribute them too): ${r.missingDependencies.join(', ')}`] : []),
    ...(r.warnings ?? []).map((w) => `warning: ${w}`),
  ].join('\n');

export function registerContentDistribution(content: Command): void {
  verb(content, 'distribute', 'distribute content to points, groups or the points of collections (R-07)', async (run) => {
    const o = run.opts;
    const body = { ...choice(o), ...defined({ pointIds: o.point, groupIds: o.group, collectionIds: o.collection, redistribute: o.redistribute === true ? true : undefined }) };
    const r = await run.api.post<DistributeAnswer>('/distributions', body);
    if (run.json && !o.wait) return show(run, r, () => '');
    if (!run.json) console.log([r.message, ...skippedLines(r.skipped)].join('\n'));
    if (r.job && o.wait) {
      const done = await followJob(run.api, r.job.id, { tty: process.stdout.isTTY === true && !run.json });
      show(run, done, (j) => itemTable(j));
      if (done.state !== 'completed') process.exitCode = 1;
    }
  })
    .option('--ts <id>', "a task sequence: everything it references (R-04)")
    .option('--content <id>', 'content objects (repeat or comma-separate; dependencies follow)', ids)
    .option('--point <id>', 'distribution points', ids)
    .option('--group <id>', 'distribution point groups', ids)
    .option('--collection <id>', 'the points associated with these collections', ids)
    .option('--redistribute', 'send again where held, re-checking every hash (repair)')
    .option('--wait', 'follow the job until it finishes');

  verb(content, 'status', 'distribution jobs, or follow one with --job (progress bar on a terminal)', async (run) => {
    const o = run.opts;
    if (o.job) {
      const job = await followJob(run.api, String(o.job), { tty: process.stdout.isTTY === true && !run.json, ...(run.json ? { write: () => undefined } : {}) });
      show(run, job, (j) => [progressLine(j), itemTable(j), ...skippedLines(j.skipped)].join('\n'));
      if (job.state !== 'completed') process.exitCode = 1;
      return;
    }
    if (o.point || o.content) {
      const r = await run.api.get<{ items: { pointId: string; contentId: string; version: number; state: string; reason: string | null }[] }>('/distribution-status', defined({ pointId: o.point as string | undefined, contentId: o.content as string | undefined }));
      show(run, r, (x) =>
        formatTable(x.items, [
          { header: 'POINT', value: (h) => h.pointId },
          { header: 'CONTENT', value: (h) => h.contentId },
          { header: 'VERSION', value: (h) => h.version },
          { header: 'STATE', value: (h) => h.state },
          { header: 'REASON', value: (h) => h.reason },
        ]),
      );
      return;
    }
    const r = await run.api.get<{ items: JobView[] }>('/distribution-jobs', { limit: 20 });
    show(run, r, (x) => (x.items.length ? x.items.map((j) => `${progressLine(j)}  ${j.summary}${isFinished(j.state) ? '' : ' …'}`).join('\n') : '(no distribution jobs)'));
  })
    .option('--job <id>', 'follow this job until it finishes')
    .option('--point <id>', 'what this point holds, per package')
    .option('--content <id>', 'where this content object is, per point');

  verb(content, 'validate', 're-hash content on a point and report damage (R-07)', async (run) => {
    const o = run.opts;
    const r = await run.api.post<{ ok: boolean; results: { id: string; version: number; ok: boolean; mismatches: { path: string; reason: string }[] }[] }>(
      `/distribution-points/${enc(String(o.point))}/validate`,
      defined({ contentId: o.content as string | undefined }),
    );
    show(run, r, (x) =>
      [
        ...x.results.map((v) => `${v.ok ? 'ok      ' : 'DAMAGED '} ${v.id} version ${v.version}${v.ok ? '' : `: ${v.mismatches.map((m) => `${m.path} (${m.reason === 'corrupt' ? 'hash mismatch' : m.reason})`).join(', ')}`}`),
        x.ok ? `${x.results.length} version(s) valid` : 'validation found damage; redistribute with: osdeploy content distribute --redistribute …',
      ].join('\n'),
    );
    if (!r.ok) process.exitCode = 1;
  })
    .requiredOption('--point <id>', 'the distribution point')
    .option('--content <id>', 'only this content object');

  verb(content, 'prestage', 'write a prestaged content file (R-08)', async (run) => {
    const o = run.opts;
    const out = String(o.out);
    const res = await run.api.raw('POST', '/content/prestage', { data: choice(o), contentType: 'application/json' });
    const tmp = `${out}.${process.pid}.partial`;
    try {
      await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(tmp, { flags: 'wx' }));
      await rename(tmp, out);
    } catch (e) {
      await rm(tmp, { force: true });
      throw new CliError(`the prestaged file was not written: ${(e as Error).message}`);
    }
    show(run, { file: out, content: res.headers.get('x-osdeploy-prestage-content') }, (x) => `wrote ${x.file} (${x.content})`);
  })
    .option('--ts <id>', 'everything a task sequence references')
    .option('--content <id>', 'content objects (repeat or comma-separate)', ids)
    .requiredOption('--out <file>', 'the file to write');

  verb(content, 'prestage-import <file>', 'import a prestaged content file at this point (--data-dir) or at --server', async (run) => {
    const file = run.args[0]!;
    if (!existsSync(file)) throw new CliError(`no file ${file}`);
    let result: PrestageResult;
    if (run.opts.dataDir) {
      // Local: open the point's data directory directly, as an administrator does on a point with no network yet.
      const config = loadConfig({ env: process.env, flags: { 'data-dir': String(run.opts.dataDir) } });
      const site = await openSite(config, pino({ level: 'silent' }));
      try {
        result = await importPrestagedHere(site.ctx, createReadStream(file));
      } finally {
        await site.close();
      }
    } else {
      const res = await run.api.raw('POST', '/point/prestage-import', { data: Readable.toWeb(createReadStream(file)), contentType: 'application/gzip' });
      result = (await res.json()) as PrestageResult;
    }
    show(run, result, prestageSummary);
  }).option('--data-dir <dir>', "the point's data directory (local import; no server needed)");
}
