/**
 * The in-process background job runner: long work (distribution transfers) runs here, off the
 * request that asked for it, at most `concurrency` at once, in submission order. Time comes from
 * the injected clock; close() aborts running jobs through their AbortSignal and waits for them,
 * so a shutdown never leaves a transfer writing after the database closed.
 */
import type { Logger } from 'pino';

export type JobFn = (signal: AbortSignal) => Promise<void>;

export interface RunRecord {
  readonly id: string;
  readonly state: 'queued' | 'running' | 'done' | 'failed' | 'aborted';
  readonly queuedAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly error: string | null;
}

export interface JobRunnerOptions {
  readonly now: () => number;
  readonly log?: Logger;
  readonly concurrency?: number;
}

export class JobRunner {
  readonly #now: () => number;
  readonly #log: Logger | undefined;
  readonly #concurrency: number;
  readonly #queue: { id: string; fn: JobFn }[] = [];
  readonly #running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  readonly #records = new Map<string, RunRecord>();
  #idleWaiters: (() => void)[] = [];
  #closed = false;

  constructor(opts: JobRunnerOptions) {
    this.#now = opts.now;
    this.#log = opts.log;
    this.#concurrency = Math.max(1, opts.concurrency ?? 2);
  }

  /** Queues `fn` under `id`; refused once the runner is closing. */
  submit(id: string, fn: JobFn): void {
    if (this.#closed) throw new Error('the job runner is shutting down');
    if (this.#records.get(id)?.state === 'queued' || this.#running.has(id)) throw new Error(`job ${id} is already queued or running`);
    this.#records.set(id, { id, state: 'queued', queuedAt: this.#now(), startedAt: null, finishedAt: null, error: null });
    this.#queue.push({ id, fn });
    this.#pump();
  }

  record(id: string): RunRecord | undefined {
    return this.#records.get(id);
  }

  get busy(): boolean {
    return this.#queue.length > 0 || this.#running.size > 0;
  }

  /** Resolves once nothing is queued or running (tests and shutdown wait on it). */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops taking work, drops what is queued, aborts what runs and waits for it to finish. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const { id } of this.#queue.splice(0)) this.#finish(id, 'aborted', 'the service stopped before the job started');
    for (const { controller } of this.#running.values()) controller.abort(new Error('the service is stopping'));
    await Promise.all([...this.#running.values()].map((r) => r.done));
    this.#settleIdle();
  }

  #pump(): void {
    while (this.#running.size < this.#concurrency && this.#queue.length > 0) {
      const { id, fn } = this.#queue.shift()!;
      const controller = new AbortController();
      const started = this.#records.get(id)!;
      this.#records.set(id, { ...started, state: 'running', startedAt: this.#now() });
      const done = Promise.resolve()
        .then(() => fn(controller.signal))
        .then(
          () => this.#finish(id, 'done', null),
          (e: unknown) => {
            const aborted = controller.signal.aborted;
            if (!aborted) this.#log?.error({ err: e, job: id }, 'background job failed');
            this.#finish(id, aborted ? 'aborted' : 'failed', (e as Error)?.message ?? String(e));
          },
        )
        .finally(() => {
          this.#running.delete(id);
          this.#pump();
          this.#settleIdle();
        });
      this.#running.set(id, { controller, done });
    }
  }

  #finish(id: string, state: RunRecord['state'], error: string | null): void {
    const r = this.#records.get(id);
    if (r) this.#records.set(id, { ...r, state, finishedAt: this.#now(), error });
  }

  #settleIdle(): void {
    if (this.busy) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
