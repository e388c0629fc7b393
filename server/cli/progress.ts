/**
 * Following a distribution job from the CLI: on a terminal one line redrawn in place with a
 * bar, bytes and item counts; piped or redirected, plain lines only when something changed
 * (every 10 %, or an item finished), so logs stay readable. Ends with the per-item table.
 */
import type { ApiClient } from './api-client.js';
import { formatTable } from './table.js';

export interface JobItemView {
  readonly pointId: string;
  readonly contentId: string;
  readonly version: number;
  readonly state: string;
  readonly reason: string | null;
  readonly bytes: number;
  readonly bytesDone: number;
}

export interface JobView {
  readonly id: string;
  readonly summary: string;
  readonly state: string;
  readonly items: readonly JobItemView[];
  readonly skipped: readonly { pointId: string | null; contentId: string; reason: string }[];
  readonly progress: { bytesDone: number; bytesTotal: number; percent: number; counts: Record<string, number> };
}

export const isFinished = (state: string): boolean => state === 'completed' || state === 'completedWithFailures';

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

export function bar(percent: number, width = 30): string {
  const full = Math.round((Math.max(0, Math.min(100, percent)) / 100) * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${String(percent).padStart(3)}%`;
}

const counts = (j: JobView): string => {
  const c = j.progress.counts;
  return `${c.installed ?? 0} installed, ${c.inProgress ?? 0} in progress, ${c.failed ?? 0} failed, ${c.queued ?? 0} queued`;
};

export const progressLine = (j: JobView): string =>
  `${j.id} ${j.state} ${j.progress.percent}% (${bytes(j.progress.bytesDone)} of ${bytes(j.progress.bytesTotal)}; ${counts(j)})`;

export const itemTable = (j: JobView): string =>
  formatTable(j.items, [
    { header: 'POINT', value: (i) => i.pointId },
    { header: 'CONTENT', value: (i) => i.contentId },
    { header: 'VERSION', value: (i) => i.version },
    { header: 'STATE', value: (i) => i.state },
    { header: 'SIZE', value: (i) => bytes(i.bytes) },
    { header: 'REASON', value: (i) => i.reason },
  ]);

export interface FollowOptions {
  readonly tty: boolean;
  readonly intervalMs?: number;
  readonly write?: (s: string) => void;
}

/** Polls the job until it finishes; returns its last view. */
export async function followJob(api: ApiClient, jobId: string, opts: FollowOptions): Promise<JobView> {
  const write = opts.write ?? ((s: string) => process.stdout.write(s));
  let lastStep = -1;
  let lastFinished = -1;
  for (;;) {
    const job = await api.get<JobView>(`/distribution-jobs/${encodeURIComponent(jobId)}`);
    const finishedItems = (job.progress.counts.installed ?? 0) + (job.progress.counts.failed ?? 0);
    if (opts.tty) {
      write(`\r${bar(job.progress.percent)} ${bytes(job.progress.bytesDone)}/${bytes(job.progress.bytesTotal)}  ${counts(job)}\x1b[K`);
    } else {
      const step = Math.floor(job.progress.percent / 10);
      if (step !== lastStep || finishedItems !== lastFinished) write(`${progressLine(job)}\n`);
      lastStep = step;
      lastFinished = finishedItems;
    }
    if (isFinished(job.state)) {
      if (opts.tty) write('\n');
      return job;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
}
