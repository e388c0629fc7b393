/**
 * What a full-OS client is offered: only full-OS clients evaluate
 * availability, expiry and assignment schedules, in UTC or their local time, and apply the
 * rerun behaviour to Required deployments.
 */
import { isForClients, type Deployment } from './deployments/model.js';
import { latestOccurrence, nextOccurrence, toInstant, type AssignmentSchedule } from './schedules.js';
import { deploymentsFor, type Site } from './site.js';
import type { TaskSequence } from './task-sequences/model.js';

export interface RunRecord {
  readonly deploymentId: string;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly outcome: 'running' | 'success' | 'failed';
}

export interface ClientState {
  /** The client's local clock is UTC + this many minutes (it passes its current offset; DST is its business). */
  readonly utcOffsetMinutes: number;
  readonly history: readonly RunRecord[];
  /** Epoch ms of the last user logon and logoff, for event-based assignments. */
  readonly lastLogon?: number | null;
  readonly lastLogoff?: number | null;
}

export interface ClientOffer {
  readonly deployment: Deployment;
  readonly taskSequence: TaskSequence;
  /** When the client may start downloading content. */
  readonly downloadFrom: number;
}

export interface DueOffer extends ClientOffer {
  /** The assignment occurrence that makes it due. */
  readonly occurrence: number;
  readonly reason: string;
}

export interface UpcomingOffer {
  readonly deployment: Deployment;
  readonly at: number;
  readonly what: 'available' | 'due';
  readonly downloadFrom: number;
}

export interface ClientDecision {
  /** What the user may start now: Available deployments and Required ones (a user may start those early). */
  readonly available: readonly ClientOffer[];
  /** Required deployments due now, oldest occurrence first: the agent runs these. */
  readonly required: readonly DueOffer[];
  /**
   * Not yet available, or Required but not yet due: when they will be, and when the client may
   * start downloading (R-13: an assignment starting before availability means downloading at that start).
   */
  readonly upcoming: readonly UpcomingOffer[];
  /** Targeted but not offered, with the reason (expired, disabled, rerun rule…). */
  readonly skipped: readonly { readonly deploymentId: string; readonly reason: string }[];
}

function occurrenceOf(
  s: AssignmentSchedule,
  now: number,
  state: ClientState,
  availableAt: number,
): number | null {
  switch (s.kind) {
    case 'asap':
      return availableAt <= now ? availableAt : null;
    case 'logon':
      return state.lastLogon != null && state.lastLogon >= availableAt && state.lastLogon <= now ? state.lastLogon : null;
    case 'logoff':
      return state.lastLogoff != null && state.lastLogoff >= availableAt && state.lastLogoff <= now ? state.lastLogoff : null;
    default:
      return latestOccurrence(s, now, state.utcOffsetMinutes);
  }
}

function rerunAllows(d: Deployment, runs: readonly RunRecord[], occurrence: number): { due: boolean; reason: string } {
  if (runs.some((r) => r.outcome === 'running')) return { due: false, reason: 'a run is in progress' };
  if (runs.some((r) => r.startedAt >= occurrence)) return { due: false, reason: 'already ran for the current assignment' };
  const last = runs.reduce<RunRecord | null>((a, r) => (a === null || r.startedAt > a.startedAt ? r : a), null);
  if (!last) return { due: true, reason: 'assignment reached and never run' };
  switch (d.rerun) {
    case 'never':
      return { due: false, reason: 'ran before and the rerun behaviour is never rerun' };
    case 'always':
      return { due: true, reason: 'assignment reached; always rerun' };
    case 'ifFailed':
      return last.outcome === 'failed' ? { due: true, reason: 'previous attempt failed; rerun if failed' } : { due: false, reason: 'previous attempt succeeded; rerun only if failed' };
    case 'ifSucceeded':
      return last.outcome === 'success' ? { due: true, reason: 'previous attempt succeeded; rerun if succeeded' } : { due: false, reason: 'previous attempt failed; rerun only if succeeded' };
  }
}

export function resolveClient(site: Site, computerId: string, state: ClientState, now: number): ClientDecision {
  const available: ClientOffer[] = [];
  const required: DueOffer[] = [];
  const upcoming: UpcomingOffer[] = [];
  const skipped: { deploymentId: string; reason: string }[] = [];
  const runsByDeployment = new Map<string, RunRecord[]>();
  for (const r of state.history) {
    const list = runsByDeployment.get(r.deploymentId);
    if (list) list.push(r);
    else runsByDeployment.set(r.deploymentId, [r]);
  }

  for (const d of deploymentsFor(site, computerId)) {
    if (!isForClients(d.availability)) continue; // media/PXE-only deployments never reach a full OS.
    const ts = site.taskSequences.get(d.taskSequenceId);
    if (!ts) continue;
    if (!ts.enabled) {
      skipped.push({ deploymentId: d.id, reason: 'task sequence disabled' });
      continue;
    }
    const availableAt = d.availableFrom ? toInstant(d.availableFrom, state.utcOffsetMinutes) : d.createdAt;
    if (d.expiresAt && now >= toInstant(d.expiresAt, state.utcOffsetMinutes)) {
      skipped.push({ deploymentId: d.id, reason: 'expired' });
      continue;
    }
    // A Required start earlier than availability means the client downloads at that start.
    const firstStart = Math.min(
      ...d.assignments.map((a) => ('start' in a ? toInstant(a.start, state.utcOffsetMinutes) : Infinity)),
      Infinity,
    );
    const downloadFrom = Math.min(availableAt, firstStart);
    if (now < availableAt) {
      upcoming.push({ deployment: d, at: availableAt, what: 'available', downloadFrom });
      continue;
    }
    const offer: ClientOffer = { deployment: d, taskSequence: ts, downloadFrom };
    available.push(offer);
    if (d.purpose !== 'required') continue;

    let latest: number | null = null;
    for (const s of d.assignments) {
      const o = occurrenceOf(s, now, state, availableAt);
      if (o !== null && (latest === null || o > latest)) latest = o;
    }
    if (latest === null) {
      const next = Math.min(...d.assignments.map((s) => ('start' in s ? (nextOccurrence(s, now, state.utcOffsetMinutes) ?? Infinity) : Infinity)));
      if (Number.isFinite(next)) upcoming.push({ deployment: d, at: next, what: 'due', downloadFrom });
      continue;
    }
    // An occurrence before availability counts from the moment the deployment became available.
    const occurrence = Math.max(latest, availableAt);
    const verdict = rerunAllows(d, runsByDeployment.get(d.id) ?? [], occurrence);
    if (verdict.due) required.push({ ...offer, occurrence, reason: verdict.reason });
    else skipped.push({ deploymentId: d.id, reason: verdict.reason });
  }
  required.sort((a, b) => a.occurrence - b.occurrence || (a.deployment.id < b.deployment.id ? -1 : 1));
  upcoming.sort((a, b) => a.at - b.at);
  return { available, required, upcoming, skipped };
}
