/**
 * Distributing content to points: a request names content (a task sequence's references
 * or content ids, with dependencies) and targets (points, groups, collections); the plan skips
 * points that already hold the current version; a background job moves the rest and records,
 * per point and package, in progress, installed, or failed with the reason.
 */
import type { Logger } from 'pino';
import { newJob, progressOf, type DistributionJob } from '../../content/distribution-job.js';
import { offeredPoints, planDistribution, resolveTargets, type Targets } from '../../content/distribution.js';
import type { ContentObject } from '../../content/model.js';
import { invalid, notFound, PolicyError } from '../../policy/errors.js';
import { checkReferences } from '../../policy/task-sequences/references.js';
import { JobRunner } from '../jobs/runner.js';
import { claimId } from '../store/db.js';
import { allGroups, allPoints, getJob, holdings, listJobs, putHolding, putJob, unfinishedJobs } from '../store/points.js';
import { contentIndex, getContentObject } from './content.js';
import { write, writeAudit, type SiteContext } from './context.js';
import { JobExecution } from './distribution-run.js';
import { getPointOr404, pointView } from './points.js';
import { getTaskSequence } from './task-sequences.js';

export interface ContentChoice {
  readonly taskSequenceId?: string;
  readonly contentIds?: readonly string[];
}

export interface DistributeRequest extends ContentChoice, Targets {
  /** Send again to points that hold it (a repair after validation found damage). */
  readonly redistribute?: boolean;
}

export type JobView = DistributionJob & { readonly progress: ReturnType<typeof progressOf> };

export interface DistributionOptions {
  readonly publicUrl: () => string;
  readonly log: Logger;
  readonly fetch?: typeof fetch;
  readonly concurrency?: number;
}

/** The content a choice covers: a task sequence's references, or the ids with their dependencies. */
export function contentOfChoice(ctx: SiteContext, choice: ContentChoice): ContentObject[] {
  if (!choice.taskSequenceId === !choice.contentIds?.length) throw invalid('give a taskSequenceId or contentIds (not both)', 'taskSequenceId');
  let ids: string[];
  if (choice.taskSequenceId) {
    ids = checkReferences(getTaskSequence(ctx, choice.taskSequenceId), contentIndex(ctx)).content.map((c) => c.id);
  } else {
    ids = [];
    const visit = (id: string, field: string) => {
      if (ids.includes(id)) return;
      const o = ctx.library.records.getSync(id);
      if (!o) throw notFound(`no content ${id}`, field);
      ids.push(id);
      if (o.kind === 'application') for (const d of o.dependencies) visit(d, field);
    };
    for (const id of choice.contentIds!) visit(id, 'contentIds');
  }
  return ids.map((id) => getContentObject(ctx, id));
}

export class DistributionService {
  readonly runner: JobRunner;
  readonly #live = new Map<string, DistributionJob>();

  constructor(
    private readonly ctx: SiteContext,
    private readonly opts: DistributionOptions,
  ) {
    this.runner = new JobRunner({ now: ctx.now, log: opts.log, concurrency: opts.concurrency ?? 2 });
    this.#recoverInterrupted();
  }

  /** Points the wizard offers for this content: those holding every current version are not listed. */
  offered(choice: ContentChoice) {
    const content = contentOfChoice(this.ctx, choice);
    const held = holdings(this.ctx.db, { contentIds: content.map((c) => c.id) });
    return offeredPoints(allPoints(this.ctx.db), content, held).map((p) => pointView(this.ctx, p));
  }

  distribute(actor: string, req: DistributeRequest) {
    const ctx = this.ctx;
    const content = contentOfChoice(ctx, req);
    if (!req.pointIds?.length && !req.groupIds?.length && !req.collectionIds?.length) throw invalid('name at least one of pointIds, groupIds or collectionIds', 'pointIds');
    const targets = resolveTargets(req, allPoints(ctx.db), allGroups(ctx.db));
    const problem = targets.problems[0];
    if (problem) throw notFound(problem.reason, problem.field);
    return write(ctx, () => {
      const plan = planDistribution(content, targets.pointIds, holdings(ctx.db, { contentIds: content.map((c) => c.id) }), req.redistribute === true);
      if (plan.problems.length) throw new PolicyError('refused', plan.problems.map((p) => p.reason).join('; '), { rule: 'R-07', field: 'contentIds' });
      if (plan.items.length === 0) return { job: null, skipped: plan.skipped, message: 'nothing to distribute: the chosen points already hold the current versions' };
      const what = req.taskSequenceId ? `task sequence ${req.taskSequenceId}` : `content ${content.map((c) => c.id).join(', ')}`;
      const job = newJob(claimId(ctx.db, 'distributionJob', (n) => `J${n}`), ctx.now(), actor, `${req.redistribute ? 'redistribute' : 'distribute'} ${what} to ${targets.pointIds.join(', ')}`, plan.items, plan.skipped, req.redistribute === true);
      putJob(ctx.db, job);
      for (const i of job.items) {
        putHolding(ctx.db, { pointId: i.pointId, contentId: i.contentId, version: i.version, manifestSha256: i.manifestSha256, state: 'inProgress', reason: null, jobId: job.id, updatedAt: ctx.now() });
      }
      writeAudit(ctx, actor, { action: 'content.distributed', target: job.id, message: `Distribution job ${job.id}: ${job.summary} (${job.items.length} item(s))`, details: { items: job.items.length } });
      this.#live.set(job.id, job);
      // Submitted after the transaction commits, so the job never runs against uncommitted rows.
      queueMicrotask(() => this.#submit(job.id));
      return { job: this.#view(job), skipped: plan.skipped, message: `distribution job ${job.id} started` };
    });
  }

  #submit(jobId: string): void {
    const execution = new JobExecution(this.ctx, this.opts, jobId, (job) => this.#live.set(job.id, job));
    this.runner.submit(jobId, async (signal) => {
      try {
        await execution.run(signal);
      } finally {
        this.#live.delete(jobId);
      }
    });
  }

  job(id: string): JobView {
    const job = this.#live.get(id) ?? getJob(this.ctx.db, id);
    if (!job) throw notFound(`no distribution job ${id}`, 'id');
    return this.#view(job);
  }

  jobs(offset: number, limit: number) {
    const { items, total } = listJobs(this.ctx.db, limit, offset);
    return { total, offset, limit, items: items.map((j) => this.#view(this.#live.get(j.id) ?? j)) };
  }

  /** Per point and package, optionally for one point or one content object. */
  status(where: { pointId?: string; contentId?: string }) {
    if (where.pointId) getPointOr404(this.ctx, where.pointId);
    if (where.contentId) getContentObject(this.ctx, where.contentId);
    return holdings(this.ctx.db, where);
  }

  async close(): Promise<void> {
    await this.runner.close();
  }

  #view(job: DistributionJob): JobView {
    return { ...job, progress: progressOf(job) };
  }

  /** A job the last run left unfinished failed: its transfers stopped with that process. */
  #recoverInterrupted(): void {
    const jobs = unfinishedJobs(this.ctx.db);
    if (jobs.length === 0) return;
    write(this.ctx, () => {
      for (const job of jobs) JobExecution.interrupt(this.ctx, job, 'interrupted: the service stopped during distribution; distribute again');
    });
  }
}
