/**
 * Status messages and what is derived from them: runs, per-deployment counts and
 * alerts. Pure: messages and the clock come in as values. The engine (media/) builds the
 * messages with these types; the server stores them and asks these functions for summaries.
 */
import type { Deployment } from './deployments/model.js';
import type { RunRecord } from './resolve-client.js';

export const STATUS_KINDS = ['runStarted', 'stepStarted', 'stepSucceeded', 'stepFailed', 'stepSkipped', 'progress', 'runFinished'] as const;
export type StatusKind = (typeof STATUS_KINDS)[number];

export type RunSource = 'pxe' | 'media' | 'fullOs';
export type RunOutcome = 'success' | 'failed';

export interface StepRef {
  readonly itemId: string;
  readonly name: string;
  /** A catalog step type, or `group` for a skipped group. */
  readonly type: string;
}

/** One message as the engine sends it; the server adds `computerId` (when given by MAC) and `receivedAt`. */
export interface StatusMessage {
  /** Client-generated UUID: a resend of the same message is recognised and ignored. */
  readonly id: string;
  /** Epoch ms on the engine's clock when it happened. */
  readonly at: number;
  readonly computerId: string;
  readonly deploymentId: string;
  readonly runId: string;
  readonly kind: StatusKind;
  readonly step?: StepRef;
  readonly exitCode?: number;
  /** The last ≤ 8 KiB of the step's output, secrets masked by the engine. */
  readonly outputTail?: string;
  readonly durationMs?: number;
  readonly percent?: number;
  readonly outcome?: RunOutcome;
  /** runStarted: how the machine started the run (R-19 needs `pxe`). */
  readonly source?: RunSource;
  /** Why a step was skipped or failed, or a progress note. */
  readonly message?: string;
  /** stepFailed: the step continues on error, so the run goes on. */
  readonly continuedOnError?: boolean;
  /** stepStarted: the step is run again after the engine was interrupted while it ran. */
  readonly resumed?: boolean;
  /** Epoch ms on the site's clock when the message arrived. */
  readonly receivedAt: number;
}

export type RunState = 'inProgress' | 'success' | 'error';

export interface RunSummary {
  readonly runId: string;
  readonly computerId: string;
  readonly deploymentId: string;
  readonly source: RunSource | null;
  /** Site clock: comparable with the site's schedules (engine clocks in boot images drift). */
  readonly startedAt: number;
  readonly finishedAt: number | null;
  readonly state: RunState;
  /** The newest message of the run, for "where is it now". */
  readonly last: StatusMessage;
  readonly stepsFailed: number;
  readonly stepsSucceeded: number;
}

/**
 * Groups messages into runs. Buffered messages may arrive out of order, so a run's start is its
 * earliest message and its state comes from a runFinished wherever it sits.
 */
export function runsOf(messages: readonly StatusMessage[]): RunSummary[] {
  const runs = new Map<string, { first: StatusMessage; last: StatusMessage; finished: StatusMessage | null; started: StatusMessage | null; failed: number; ok: number }>();
  for (const m of messages) {
    let r = runs.get(m.runId);
    if (!r) {
      r = { first: m, last: m, finished: null, started: null, failed: 0, ok: 0 };
      runs.set(m.runId, r);
    }
    if (m.receivedAt < r.first.receivedAt) r.first = m;
    if (m.at > r.last.at || (m.at === r.last.at && m.receivedAt >= r.last.receivedAt)) r.last = m;
    if (m.kind === 'runFinished') r.finished = m;
    if (m.kind === 'runStarted') r.started = m;
    if (m.kind === 'stepFailed') r.failed++;
    if (m.kind === 'stepSucceeded') r.ok++;
  }
  return [...runs.values()]
    .map((r) => {
      const start = r.started ?? r.first;
      return {
        runId: start.runId,
        computerId: start.computerId,
        deploymentId: start.deploymentId,
        source: r.started?.source ?? null,
        startedAt: start.receivedAt,
        finishedAt: r.finished?.receivedAt ?? null,
        state: (r.finished ? (r.finished.outcome === 'success' ? 'success' : 'error') : 'inProgress') as RunState,
        last: r.finished ?? r.last,
        stepsFailed: r.failed,
        stepsSucceeded: r.ok,
      };
    })
    .sort((a, b) => a.startedAt - b.startedAt || (a.runId < b.runId ? -1 : 1));
}

/** A computer's runs as resolveClient's history (R-14 rerun rules). */
export const runHistory = (runs: readonly RunSummary[]): RunRecord[] =>
  runs.map((r) => ({ deploymentId: r.deploymentId, startedAt: r.startedAt, outcome: r.state === 'success' ? 'success' : r.state === 'error' ? 'failed' : 'running' }));

export interface DeploymentCounts {
  readonly success: number;
  readonly inProgress: number;
  readonly error: number;
  /** Targeted computers with no run yet. */
  readonly unknown: number;
  readonly total: number;
}

export interface ComputerState {
  readonly computerId: string;
  readonly state: RunState | 'unknown';
  readonly run: RunSummary | null;
}

/**
 * Each computer counts once, by its latest run. Targeted computers without a run are unknown;
 * computers that ran it but left the collection (an unknown computer registered, R-17) still count.
 */
export function deploymentStates(targeted: Iterable<string>, runs: readonly RunSummary[]): { counts: DeploymentCounts; computers: ComputerState[] } {
  const latest = new Map<string, RunSummary>();
  for (const r of runs) {
    const prev = latest.get(r.computerId);
    if (!prev || r.startedAt >= prev.startedAt) latest.set(r.computerId, r);
  }
  const computers: ComputerState[] = [...latest.values()].map((run) => ({ computerId: run.computerId, state: run.state, run }));
  for (const id of targeted) if (!latest.has(id)) computers.push({ computerId: id, state: 'unknown', run: null });
  const count = (s: ComputerState['state']) => computers.filter((c) => c.state === s).length;
  const counts = { success: count('success'), inProgress: count('inProgress'), error: count('error'), unknown: count('unknown'), total: computers.length };
  computers.sort((a, b) => (a.computerId < b.computerId ? -1 : a.computerId > b.computerId ? 1 : 0));
  return { counts, computers };
}

export interface Alert {
  readonly deploymentId: string;
  readonly kind: 'successBelow' | 'failureAbove';
  /** The measured percentage, rounded to one decimal. */
  readonly percent: number;
  readonly threshold: number;
  readonly message: string;
}

const DAY = 86_400_000;
const pct = (n: number, total: number): number => Math.round((n / total) * 1000) / 10;

/**
 * alerts: success below X % once Y days have passed since the deployment was created,
 * and failures above X %. A deployment that targets nobody raises none.
 */
export function alertsFor(d: Deployment, counts: DeploymentCounts, now: number): Alert[] {
  const out: Alert[] = [];
  if (counts.total === 0) return out;
  const sb = d.alerts.successBelow;
  if (sb && now >= d.createdAt + sb.afterDays * DAY) {
    const p = pct(counts.success, counts.total);
    if (p < sb.percent)
      out.push({ deploymentId: d.id, kind: 'successBelow', percent: p, threshold: sb.percent, message: `${d.id}: success ${p}% is below ${sb.percent}% ${sb.afterDays} day(s) after the deployment was created` });
  }
  const fa = d.alerts.failureAbove;
  if (fa) {
    const p = pct(counts.error, counts.total);
    if (p > fa.percent) out.push({ deploymentId: d.id, kind: 'failureAbove', percent: p, threshold: fa.percent, message: `${d.id}: failures ${p}% are above ${fa.percent}%` });
  }
  return out;
}
