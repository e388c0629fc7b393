/**
 * Running one distribution job: items grouped by point, points in parallel, a point's items one
 * after another. The site's own point shares the site store, so "sending" there means checking
 * every blob is present and hashes right; a remote point pulls from signed URLs and verifies
 * every hash itself. Each finished item updates the job and the point's holding in one
 * transaction; those transactions run one after another, in the order the items finished.
 */
import { failUnfinished, updateItem, type DistributionJob, type ItemUpdate, type JobItem } from '../../content/distribution-job.js';
import type { DistributionPoint } from '../../content/distribution.js';
import { distinctBlobs } from '../../content/transfer.js';
import { blobPath, signedUrl } from './content-signing.js';
import { getVersionFiles, getContentObject } from './content.js';
import { audit, transact, type SiteContext } from './context.js';
import type { DistributionOptions } from './distribution.js';
import { RemotePointClient } from './remote-point.js';
import type { SiteRepos } from './repositories.js';

/** Pull links live long enough for a large image over a slow link, and no longer. */
const PULL_URL_TTL_SECONDS = 12 * 3600;

/** The reason an item gets when its job stopped with the service (or the service found it so on start). */
export const INTERRUPTED = 'interrupted: the service stopped during distribution; distribute again';

export class JobExecution {
  #job: DistributionJob;
  /** The job's writes, chained so that a later state never lands before an earlier one. */
  #written: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: SiteContext,
    private readonly opts: DistributionOptions,
    job: DistributionJob,
    private readonly publish: (job: DistributionJob) => void,
  ) {
    this.#job = job;
  }

  /** Marks a job's unfinished items (and their holdings) failed, inside the caller's transaction. */
  static async interrupt(tx: SiteRepos, ctx: SiteContext, job: DistributionJob, reason: string): Promise<DistributionJob> {
    const failed = failUnfinished(job, reason, ctx.now());
    await tx.distributionJobs.put(failed);
    for (const [i, item] of failed.items.entries()) {
      if (job.items[i]!.state !== item.state) await holdingFrom(tx, ctx, failed.id, item);
    }
    return failed;
  }

  /** The heartbeat: this node still runs the job (written after the job's earlier writes). */
  beat(): Promise<void> {
    this.#touch();
    this.publish(this.#job);
    return this.#write((tx) => tx.distributionJobs.put(this.#job));
  }

  /** Stamps the job with its owner and the time, so every write it makes is a heartbeat too. */
  #touch(): void {
    this.#job = { ...this.#job, node: this.ctx.node, aliveAt: this.ctx.now() };
  }

  async run(signal: AbortSignal): Promise<void> {
    const byPoint = new Map<string, number[]>();
    this.#job.items.forEach((item, i) => byPoint.set(item.pointId, [...(byPoint.get(item.pointId) ?? []), i]));
    try {
      await Promise.all([...byPoint.entries()].map(([pointId, indexes]) => this.#runPoint(pointId, indexes, signal)));
    } finally {
      if (signal.aborted) await this.#write((tx) => JobExecution.interrupt(tx, this.ctx, this.#job, INTERRUPTED));
    }
  }

  async #runPoint(pointId: string, indexes: readonly number[], signal: AbortSignal): Promise<void> {
    const point = await this.ctx.store.points.get(pointId);
    for (const index of indexes) {
      if (signal.aborted) return;
      this.#update(index, { kind: 'start' });
      try {
        if (!point) throw new Error(`distribution point ${pointId} was removed`);
        await this.#send(point, this.#job.items[index]!, (bytes) => this.#update(index, { kind: 'progress', bytesDone: bytes }), signal);
        await this.#finish(index, { kind: 'installed' });
      } catch (e) {
        if (signal.aborted) return;
        await this.#finish(index, { kind: 'failed', reason: (e as Error).message ?? String(e) });
      }
    }
  }

  async #send(point: DistributionPoint, item: JobItem, onProgress: (bytes: number) => void, signal: AbortSignal): Promise<void> {
    const version = await getVersionFiles(this.ctx, item.contentId, item.version);
    if (version.manifestSha256 !== item.manifestSha256) throw new Error(`version ${item.version} of ${item.contentId} changed since the job was planned`);
    const store = this.ctx.library.store;
    if (point.kind === 'local') {
      // Same store: every blob must be there and hash right before the point counts as holding it.
      let done = 0;
      for (const blob of distinctBlobs(version.files)) {
        signal.throwIfAborted();
        const path = version.files.find((f) => f.sha256 === blob.sha256)!.path;
        const stat = await store.stat(blob.sha256);
        if (!stat) throw new Error(`${path}: blob ${blob.sha256} is missing from the site store; import the source again`);
        if (!(await store.verify(blob.sha256))) {
          // A blob whose bytes do not match its name is garbage; removing it lets the next import restore it.
          await store.delete(blob.sha256);
          throw new Error(`${path}: hash mismatch: blob ${blob.sha256} was damaged in the site store and is removed; import the source again`);
        }
        onProgress((done += blob.size));
      }
      return;
    }
    const secret = await this.ctx.store.points.secret(point.id);
    if (!point.url || !secret) throw new Error(`distribution point ${point.id} has no URL or token`);
    const object = await getContentObject(this.ctx, item.contentId);
    const base = this.opts.publicUrl();
    const blobs = distinctBlobs(version.files).map((b) => ({ ...b, url: signedUrl(this.ctx, base, blobPath(b.sha256), PULL_URL_TTL_SECONDS).url }));
    const client = new RemotePointClient(point.url, secret.token, this.opts.fetch);
    await client.pull({ object: { ...object, versions: [version] }, blobs, verifyExisting: this.#job.redistribute }, onProgress, signal);
  }

  /** Progress stays in memory (published for status reads); only state changes are written. */
  #update(index: number, update: ItemUpdate): void {
    this.#job = updateItem(this.#job, index, update, this.ctx.now());
    this.publish(this.#job);
  }

  /** An item finished: the job and the point's holding are written together (with the audit of a failure). */
  async #finish(index: number, update: ItemUpdate): Promise<void> {
    this.#update(index, update);
    this.#touch();
    const item = this.#job.items[index]!;
    await this.#write(async (tx) => {
      // The job as it is when this write runs: never older than what an earlier write stored.
      await tx.distributionJobs.put(this.#job);
      await holdingFrom(tx, this.ctx, this.#job.id, item);
      if (item.state === 'failed') {
        await audit(tx, this.ctx, 'system', { action: 'content.distributionFailed', target: item.contentId, message: `${item.contentId} version ${item.version} failed on ${item.pointId}: ${item.reason}`, details: { jobId: this.#job.id, pointId: item.pointId } });
      }
    });
  }

  /** Queues a transaction after the job's earlier ones; a failed one does not stop those after it. */
  #write(fn: (tx: SiteRepos) => Promise<unknown>): Promise<void> {
    const next = this.#written.then(() => transact(this.ctx, fn)).then(() => undefined);
    this.#written = next.catch(() => undefined);
    return next;
  }
}

async function holdingFrom(tx: SiteRepos, ctx: SiteContext, jobId: string, item: JobItem): Promise<void> {
  const state = item.state === 'installed' ? 'installed' : item.state === 'failed' ? 'failed' : 'inProgress';
  // False when the point was removed meanwhile: there is nothing left to record it on.
  await tx.holdings.put({ pointId: item.pointId, contentId: item.contentId, version: item.version, manifestSha256: item.manifestSha256, state, reason: item.reason, jobId, updatedAt: ctx.now() });
}
