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
import { contentIndex, getContentObject } from './content.js';
import { audit, transact, type SiteContext } from './context.js';
import { INTERRUPTED, JobExecution } from './distribution-run.js';
import { getPointOr404, pointView, type PointView } from './points.js';
import type { Page } from './repositories.js';
import { getTaskSequence } from './task-sequences.js';
import { heartbeat, HEARTBEAT_MS, ownerGone, ownerStopped, type Heartbeat } from './heartbeat.js';

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
export async function contentOfChoice(ctx: SiteContext, choice: ContentChoice): Promise<ContentObject[]> {
  if (!choice.taskSequenceId === !choice.contentIds?.length) throw invalid('give a taskSequenceId or contentIds (not both)', 'taskSequenceId');
  let ids: string[];
  if (choice.taskSequenceId) {
    ids = checkReferences(await getTaskSequence(ctx, choice.taskSequenceId), contentIndex(ctx)).content.map((c) => c.id);
  } else {
    ids = [];
    const visit = async (id: string, field: string): Promise<void> => {
      if (ids.includes(id)) return;
      const o = await ctx.library.records.get(id);
      if (!o) throw notFound(`no content ${id}`, field);
      ids.push(id);
      if (o.kind === 'application') for (const d of o.dependencies) await visit(d, field);
    };
    for (const id of choice.contentIds!) await visit(id, 'contentIds');
  }
  const objects: ContentObject[] = [];
  for (const id of ids) objects.push(await getContentObject(ctx, id));
  return objects;
}

export class DistributionService {
  readonly runner: JobRunner;
  readonly #live = new Map<string, DistributionJob>();
  /** The heartbeats of the jobs this node runs or has queued. */
  readonly #beats = new Map<string, Heartbeat>();
  #sweep: NodeJS.Timeout | null = null;

  constructor(
    private readonly ctx: SiteContext,
    private readonly opts: DistributionOptions,
  ) {
    this.runner = new JobRunner({ now: ctx.now, log: opts.log, concurrency: opts.concurrency ?? 2 });
  }

  /**
   * Before the first request: unfinished jobs whose node stopped (no heartbeat for
   * STALE_AFTER_MS, or no owner recorded) are failed; those another live node runs are left to
   * it. The same check then runs every other heartbeat, for nodes that stop while this one runs.
   */
  async start(): Promise<void> {
    await this.#recoverInterrupted();
    this.#sweep = setInterval(() => {
      this.#recoverInterrupted().catch((err: unknown) => this.opts.log.warn({ err }, 'distribution jobs of stopped nodes could not be failed'));
    }, 2 * HEARTBEAT_MS);
    this.#sweep.unref();
  }

  /** Points the wizard offers for this content: those holding every current version are not listed. */
  async offered(choice: ContentChoice): Promise<PointView[]> {
    const content = await contentOfChoice(this.ctx, choice);
    const store = this.ctx.store;
    const held = await store.holdings.list({ contentIds: content.map((c) => c.id) });
    const views: PointView[] = [];
    for (const p of offeredPoints(await store.points.list(), content, held)) views.push(await pointView(store, p));
    return views;
  }

  async distribute(actor: string, req: DistributeRequest) {
    const ctx = this.ctx;
    const content = await contentOfChoice(ctx, req);
    if (!req.pointIds?.length && !req.groupIds?.length && !req.collectionIds?.length) throw invalid('name at least one of pointIds, groupIds or collectionIds', 'pointIds');
    const targets = resolveTargets(req, await ctx.store.points.list(), await ctx.store.pointGroups.list());
    const problem = targets.problems[0];
    if (problem) throw notFound(problem.reason, problem.field);
    const what = req.taskSequenceId ? `task sequence ${req.taskSequenceId}` : `content ${content.map((c) => c.id).join(', ')}`;
    const planned = await transact(ctx, async (tx) => {
      const plan = planDistribution(content, targets.pointIds, await tx.holdings.list({ contentIds: content.map((c) => c.id) }), req.redistribute === true);
      if (plan.problems.length) throw new PolicyError('refused', plan.problems.map((p) => p.reason).join('; '), { rule: 'R-07', field: 'contentIds' });
      if (plan.items.length === 0) return { job: null, skipped: plan.skipped };
      const planned = newJob(await tx.ids.claim('distributionJob', (n) => `J${n}`), ctx.now(), actor, `${req.redistribute ? 'redistribute' : 'distribute'} ${what} to ${targets.pointIds.join(', ')}`, plan.items, plan.skipped, req.redistribute === true);
      const job: DistributionJob = { ...planned, node: ctx.node, aliveAt: ctx.now() };
      await tx.distributionJobs.put(job);
      for (const i of job.items) {
        await tx.holdings.put({ pointId: i.pointId, contentId: i.contentId, version: i.version, manifestSha256: i.manifestSha256, state: 'inProgress', reason: null, jobId: job.id, updatedAt: ctx.now() });
      }
      await audit(tx, ctx, actor, { action: 'content.distributed', target: job.id, message: `Distribution job ${job.id}: ${job.summary} (${job.items.length} item(s))`, details: { items: job.items.length } });
      return { job, skipped: plan.skipped };
    });
    const { job, skipped } = planned;
    if (!job) return { job: null, skipped, message: 'nothing to distribute: the chosen points already hold the current versions' };
    // Submitted once the transaction has committed, so the job never runs against uncommitted rows.
    this.#live.set(job.id, job);
    this.#submit(job);
    return { job: this.#view(job), skipped, message: `distribution job ${job.id} started` };
  }

  #submit(job: DistributionJob): void {
    const execution = new JobExecution(this.ctx, this.opts, job, (j) => this.#live.set(j.id, j));
    // From submission: a job queued behind others is this node's too.
    const beat = heartbeat(() => execution.beat(), this.opts.log, `distribution job ${job.id}`);
    this.#beats.set(job.id, beat);
    this.runner.submit(job.id, async (signal) => {
      try {
        await execution.run(signal);
      } finally {
        this.#beats.delete(job.id);
        await beat.stop();
        this.#live.delete(job.id);
      }
    });
  }

  async job(id: string): Promise<JobView> {
    const job = this.#live.get(id) ?? (await this.ctx.store.distributionJobs.get(id));
    if (!job) throw notFound(`no distribution job ${id}`, 'id');
    return this.#view(job);
  }

  async jobs(offset: number, limit: number): Promise<Page<JobView>> {
    const { items, total } = await this.ctx.store.distributionJobs.page({ offset, limit });
    return { total, offset, limit, items: items.map((j) => this.#view(this.#live.get(j.id) ?? j)) };
  }

  /** Per point and package, optionally for one point or one content object. */
  async status(where: { pointId?: string; contentId?: string }) {
    if (where.pointId) await getPointOr404(this.ctx.store, where.pointId);
    if (where.contentId) await getContentObject(this.ctx, where.contentId);
    return this.ctx.store.holdings.list(where);
  }

  async close(): Promise<void> {
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = null;
    await this.runner.close();
    // Jobs still queued were dropped by the runner: failed now, rather than when their heartbeat goes stale.
    const dropped = [...this.#live.values()];
    for (const beat of this.#beats.values()) await beat.stop();
    this.#beats.clear();
    this.#live.clear();
    if (dropped.length === 0) return;
    await transact(this.ctx, async (tx) => {
      for (const job of dropped) await JobExecution.interrupt(tx, this.ctx, job, INTERRUPTED);
    }).catch((err: unknown) => this.opts.log.warn({ err }, 'queued distribution jobs could not be failed at shutdown'));
  }

  #view(job: DistributionJob): JobView {
    return { ...job, progress: progressOf(job) };
  }

  /** An unfinished job whose node stopped is failed: its transfers stopped with that process. */
  async #recoverInterrupted(): Promise<void> {
    const gone = (j: DistributionJob): boolean => !this.#live.has(j.id) && (j.state === 'queued' || j.state === 'running') && ownerGone(j, this.ctx.now());
    const jobs = (await this.ctx.store.distributionJobs.unfinished()).filter(gone);
    if (jobs.length === 0) return;
    await transact(this.ctx, async (tx) => {
      for (const listed of jobs) {
        // Read again in the transaction: its node may have written a heartbeat or finished it meanwhile.
        const job = await tx.distributionJobs.get(listed.id);
        if (!job || !gone(job)) continue;
        this.opts.log.warn({ job: job.id, node: job.node ?? null }, `distribution job ${job.id}: ${ownerStopped(job)}; failing its unfinished items`);
        await JobExecution.interrupt(tx, this.ctx, job, `interrupted: ${ownerStopped(job)}; distribute again`);
      }
    });
  }
}
