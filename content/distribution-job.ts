/**
 * A distribution job: the items a request planned, each moving queued → inProgress →
 * installed | failed (with the reason), and the progress they add up to. Pure: the server keeps
 * jobs in its database and feeds transitions in with the time.
 */
import type { PlanItem, Skipped } from './distribution.js';

export type ItemState = 'queued' | 'inProgress' | 'installed' | 'failed';
export type JobState = 'queued' | 'running' | 'completed' | 'completedWithFailures';

export interface JobItem extends PlanItem {
  readonly state: ItemState;
  readonly reason: string | null;
  readonly bytesDone: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
}

export interface DistributionJob {
  readonly id: string;
  readonly createdAt: number;
  readonly createdBy: string;
  /** What was asked for, for people reading the job later. */
  readonly summary: string;
  /** Send again even where held, re-hashing what the point has (a repair). */
  readonly redistribute: boolean;
  readonly state: JobState;
  readonly items: readonly JobItem[];
  readonly skipped: readonly Skipped[];
  readonly finishedAt: number | null;
  /** The site node running the job (absent on jobs older versions wrote; server/site/heartbeat.ts). */
  readonly node?: string;
  /** Epoch ms: when that node last refreshed the job (its heartbeat). */
  readonly aliveAt?: number;
}

export interface JobProgress {
  readonly bytesDone: number;
  readonly bytesTotal: number;
  /** 0..100, whole numbers; 100 only when every item finished. */
  readonly percent: number;
  readonly counts: Readonly<Record<ItemState, number>>;
}

export function newJob(id: string, createdAt: number, createdBy: string, summary: string, items: readonly PlanItem[], skipped: readonly Skipped[], redistribute = false): DistributionJob {
  const queued = items.map((i) => ({ ...i, state: 'queued' as const, reason: null, bytesDone: 0, startedAt: null, finishedAt: null }));
  return { id, createdAt, createdBy, summary, redistribute, state: queued.length ? 'queued' : 'completed', items: queued, skipped, finishedAt: queued.length ? null : createdAt };
}

const finished = (s: ItemState): boolean => s === 'installed' || s === 'failed';

/** The job state its items imply. */
export function stateOf(items: readonly JobItem[]): JobState {
  if (items.length === 0) return 'completed';
  if (items.every((i) => i.state === 'queued')) return 'queued';
  if (!items.every((i) => finished(i.state))) return 'running';
  return items.some((i) => i.state === 'failed') ? 'completedWithFailures' : 'completed';
}

export type ItemUpdate =
  | { readonly kind: 'start' }
  | { readonly kind: 'progress'; readonly bytesDone: number }
  | { readonly kind: 'installed' }
  | { readonly kind: 'failed'; readonly reason: string };

/** Applies one transition to item `index`; a finished item never changes again. */
export function updateItem(job: DistributionJob, index: number, update: ItemUpdate, at: number): DistributionJob {
  const item = job.items[index];
  if (!item || finished(item.state)) return job;
  let next: JobItem;
  switch (update.kind) {
    case 'start':
      next = { ...item, state: 'inProgress', startedAt: item.startedAt ?? at };
      break;
    case 'progress':
      next = { ...item, bytesDone: Math.min(item.bytes, Math.max(item.bytesDone, update.bytesDone)) };
      break;
    case 'installed':
      next = { ...item, state: 'installed', reason: null, bytesDone: item.bytes, finishedAt: at };
      break;
    case 'failed':
      next = { ...item, state: 'failed', reason: update.reason, finishedAt: at };
      break;
  }
  const items = job.items.map((x, i) => (i === index ? next : x));
  const state = stateOf(items);
  const done = state === 'completed' || state === 'completedWithFailures';
  return { ...job, items, state, finishedAt: done ? (job.finishedAt ?? at) : null };
}

/** Fails every unfinished item, e.g. after a restart interrupted the job. */
export function failUnfinished(job: DistributionJob, reason: string, at: number): DistributionJob {
  let next = job;
  job.items.forEach((item, i) => {
    if (!finished(item.state)) next = updateItem(next, i, { kind: 'failed', reason }, at);
  });
  return next;
}

export function progressOf(job: DistributionJob): JobProgress {
  const counts: Record<ItemState, number> = { queued: 0, inProgress: 0, installed: 0, failed: 0 };
  let bytesDone = 0;
  let bytesTotal = 0;
  for (const i of job.items) {
    counts[i.state]++;
    bytesTotal += i.bytes;
    bytesDone += finished(i.state) ? i.bytes : i.bytesDone;
  }
  const allDone = job.items.every((i) => finished(i.state));
  const raw = bytesTotal === 0 ? (allDone ? 100 : 0) : Math.floor((bytesDone / bytesTotal) * 100);
  return { bytesDone, bytesTotal, percent: allDone ? 100 : Math.min(99, raw), counts };
}
