/**
 * Creating a deployment (R-09…R-16): the wizard's settings checked against each other and
 * against the task sequence, then the high-risk verification (R-10).
 */
import type { AuditEvent } from '../audit.js';
import type { Collection } from '../collections.js';
import type { ContentIndex } from '../content-refs.js';
import { invalid } from '../errors.js';
import { toInstant, validateAssignmentSchedule, validateScheduleTime } from '../schedules.js';
import type { TaskSequence } from '../task-sequences/model.js';
import { checkReferences } from '../task-sequences/references.js';
import { deploysOperatingSystem } from '../task-sequences/queries.js';
import { assessHighRisk, type HighRiskSettings, type MemberFacts } from './high-risk.js';
import {
  AVAILABILITIES,
  CONTENT_OPTIONS,
  PURPOSES,
  RERUN_BEHAVIOURS,
  isMediaOrPxe,
  type Alerts,
  type ContentSettings,
  type Deployment,
  type UserExperience,
} from './model.js';

export interface DeploymentContext {
  readonly id: string;
  /** Epoch ms. */
  readonly now: number;
  readonly taskSequence: TaskSequence;
  readonly collection: Collection;
  readonly members: MemberFacts;
  readonly content: ContentIndex;
  readonly highRisk: HighRiskSettings;
}

export type DeploymentDecision =
  | { readonly kind: 'created'; readonly deployment: Deployment; readonly audit: readonly AuditEvent[] }
  /** High-risk with warnings: create again with `acknowledgeHighRisk: true` (R-10). */
  | { readonly kind: 'needsAcknowledgement'; readonly reasons: readonly string[] }
  | { readonly kind: 'refused'; readonly rule: string; readonly reasons: readonly string[] };

/** The largest client UTC offset schedules accept (schedules.ts). */
const MAX_CLIENT_OFFSET_MINUTES = 18 * 60;

const TOP_KEYS = new Set([
  'taskSequenceId', 'collectionId', 'comments', 'purpose', 'availability', 'sendWakeUpPackets', 'allowMeteredDownload',
  'availableFrom', 'expiresAt', 'assignments', 'rerun', 'userExperience', 'alerts', 'content', 'allowTechnicianMedia', 'acknowledgeHighRisk',
]);

export const DEFAULT_USER_EXPERIENCE: UserExperience = {
  allowUserRunIndependently: false,
  showProgress: true,
  installOutsideMaintenanceWindow: false,
  restartOutsideMaintenanceWindow: false,
  allowOnInternet: false,
};

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`${field} must be an object`, field);
  return v as Record<string, unknown>;
}

function oneOf<T extends string>(v: unknown, values: readonly T[], field: string, fallback: T): T {
  if (v === undefined) return fallback;
  if (!values.includes(v as T)) throw invalid(`${field} must be one of ${values.join(', ')}`, field);
  return v as T;
}

function bool(v: unknown, field: string, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw invalid(`${field} must be true or false`, field);
  return v;
}

function strictKeys(o: Record<string, unknown>, allowed: readonly string[], field: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw invalid(`${field}.${k} is not a setting`, `${field}.${k}`);
}

function userExperience(v: unknown): UserExperience {
  if (v === undefined) return DEFAULT_USER_EXPERIENCE;
  const o = obj(v, 'userExperience');
  strictKeys(o, Object.keys(DEFAULT_USER_EXPERIENCE), 'userExperience');
  const out: Record<string, boolean> = {};
  for (const [k, d] of Object.entries(DEFAULT_USER_EXPERIENCE)) out[k] = bool(o[k], `userExperience.${k}`, d);
  return out as unknown as UserExperience;
}

function percent(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100) throw invalid(`${field} must be a whole number 0..100`, field);
  return v;
}

function alerts(v: unknown): Alerts {
  if (v === undefined) return { successBelow: null, failureAbove: null };
  const o = obj(v, 'alerts');
  strictKeys(o, ['successBelow', 'failureAbove'], 'alerts');
  let successBelow: Alerts['successBelow'] = null;
  if (o.successBelow != null) {
    const s = obj(o.successBelow, 'alerts.successBelow');
    strictKeys(s, ['percent', 'afterDays'], 'alerts.successBelow');
    const afterDays = s.afterDays;
    if (typeof afterDays !== 'number' || !Number.isInteger(afterDays) || afterDays < 0 || afterDays > 365)
      throw invalid('alerts.successBelow.afterDays must be a whole number 0..365', 'alerts.successBelow.afterDays');
    successBelow = { percent: percent(s.percent, 'alerts.successBelow.percent'), afterDays };
  }
  let failureAbove: Alerts['failureAbove'] = null;
  if (o.failureAbove != null) {
    const f = obj(o.failureAbove, 'alerts.failureAbove');
    strictKeys(f, ['percent'], 'alerts.failureAbove');
    failureAbove = { percent: percent(f.percent, 'alerts.failureAbove.percent') };
  }
  return { successBelow, failureAbove };
}

function contentSettings(v: unknown): ContentSettings {
  if (v === undefined) return { option: 'downloadAsNeeded', useRemoteDistributionPoint: false };
  const o = obj(v, 'content');
  strictKeys(o, ['option', 'useRemoteDistributionPoint'], 'content');
  return {
    option: oneOf(o.option, CONTENT_OPTIONS, 'content.option', 'downloadAsNeeded'),
    useRemoteDistributionPoint: bool(o.useRemoteDistributionPoint, 'content.useRemoteDistributionPoint', false),
  };
}

/** Validates the wizard's input and decides; never throws for a rule refusal, only for malformed input. */
export function createDeployment(input: unknown, ctx: DeploymentContext): DeploymentDecision {
  const o = obj(input, 'body');
  for (const k of Object.keys(o)) if (!TOP_KEYS.has(k)) throw invalid(`${k} is not a deployment setting`, k);
  if (o.comments !== undefined && (typeof o.comments !== 'string' || o.comments.length > 4096))
    throw invalid('comments must be text of at most 4096 characters', 'comments');
  const purpose = oneOf(o.purpose, PURPOSES, 'purpose', 'available');
  const availability = oneOf(o.availability, AVAILABILITIES, 'availability', 'clients');
  const availableFrom = o.availableFrom == null ? null : validateScheduleTime(o.availableFrom, 'availableFrom');
  const expiresAt = o.expiresAt == null ? null : validateScheduleTime(o.expiresAt, 'expiresAt');
  if (o.assignments !== undefined && !Array.isArray(o.assignments)) throw invalid('assignments must be a list', 'assignments');
  const assignments = ((o.assignments as unknown[] | undefined) ?? []).map((a, i) => validateAssignmentSchedule(a, `assignments[${i}]`));
  const deployment: Deployment = {
    id: ctx.id,
    taskSequenceId: ctx.taskSequence.id,
    collectionId: ctx.collection.id,
    comments: (o.comments as string | undefined) ?? '',
    purpose,
    availability,
    sendWakeUpPackets: bool(o.sendWakeUpPackets, 'sendWakeUpPackets', false),
    allowMeteredDownload: bool(o.allowMeteredDownload, 'allowMeteredDownload', false),
    availableFrom,
    expiresAt,
    assignments,
    rerun: oneOf(o.rerun, RERUN_BEHAVIOURS, 'rerun', 'always'),
    userExperience: userExperience(o.userExperience),
    alerts: alerts(o.alerts),
    content: contentSettings(o.content),
    allowTechnicianMedia: bool(o.allowTechnicianMedia, 'allowTechnicianMedia', false),
    createdAt: ctx.now,
    highRisk: null,
  };
  const acknowledged = bool(o.acknowledgeHighRisk, 'acknowledgeHighRisk', false);

  const refusal = combinationRefusal(deployment, ctx);
  if (refusal) return refusal;

  const deploysOs = deploysOperatingSystem(ctx.taskSequence);
  const verdict = assessHighRisk({ purpose, deploysOs }, ctx.collection, ctx.members, ctx.highRisk);
  switch (verdict.kind) {
    case 'notHighRisk':
      return { kind: 'created', deployment, audit: [] };
    case 'refused':
      return { kind: 'refused', rule: 'R-10', reasons: verdict.reasons };
    case 'allowed':
      return { kind: 'created', deployment: { ...deployment, highRisk: { verdict: 'allowed', reasons: [], memberCount: ctx.members.count } }, audit: [] };
    case 'warn': {
      if (!acknowledged) return { kind: 'needsAcknowledgement', reasons: verdict.reasons };
      const audit: AuditEvent = {
        action: 'deployment.highRiskAcknowledged',
        target: deployment.id,
        message: `High-risk deployment ${deployment.id} of ${ctx.taskSequence.name} to ${ctx.collection.name} acknowledged: ${verdict.reasons.join('; ')}`,
        details: { taskSequenceId: ctx.taskSequence.id, collectionId: ctx.collection.id, reasons: verdict.reasons, memberCount: ctx.members.count },
        at: ctx.now,
      };
      return {
        kind: 'created',
        deployment: { ...deployment, highRisk: { verdict: 'warned', reasons: verdict.reasons, memberCount: ctx.members.count } },
        audit: [audit],
      };
    }
  }
}

/** The rules on which wizard settings go together, and on what may be deployed at all. */
function combinationRefusal(d: Deployment, ctx: DeploymentContext): DeploymentDecision | null {
  const refuse = (rule: string, ...reasons: string[]): DeploymentDecision => ({ kind: 'refused', rule, reasons });
  const ts = ctx.taskSequence;
  // R-28 first: a stripped password that is required would otherwise surface as an R-04 step
  // problem, and "give the passwords again" is what the administrator must do.
  if (ts.strippedSecrets.length > 0)
    return refuse('R-28', `task sequence ${ts.name} needs passwords that an import stripped: ${ts.strippedSecrets.join(', ')}`);
  const refs = checkReferences(ts, ctx.content);
  if (!refs.ok) return refuse('R-04', ...refs.problems.map((p) => `${p.via}: ${p.reason}`));
  if (d.purpose === 'required' && d.assignments.length === 0) return refuse('R-13', 'a Required deployment needs at least one assignment schedule');
  if (d.purpose === 'available' && d.assignments.length > 0) return refuse('R-13', 'assignment schedules apply only to Required deployments');
  if (d.sendWakeUpPackets && d.purpose !== 'required') return refuse('R-11', 'wake-up packets can be sent only for Required deployments');
  if (d.allowMeteredDownload && deploysOperatingSystem(ts))
    return refuse('R-11', 'metered-connection download is allowed only for task sequences that deploy no operating system');
  if (d.allowTechnicianMedia && !isMediaOrPxe(d.availability))
    return refuse('R-31', 'allowTechnicianMedia applies to media: make the deployment available to media and PXE, or leave it false');
  if (d.content.option === 'downloadAllFirst' && isMediaOrPxe(d.availability))
    return refuse('R-16', '"download all content before starting" is not offered when the deployment is available to media and PXE');
  if (d.content.option === 'runFromDistributionPoint') {
    const denied = refs.content.filter((c) => c.kind !== 'bootImage' && c.allowRunFromDistributionPoint !== true);
    if (denied.length > 0)
      return refuse('R-16', `"run from distribution point" needs every package to allow it; these do not: ${denied.map((c) => `${c.name} (${c.id})`).join(', ')}`);
  }
  if (d.availableFrom && d.expiresAt) {
    // Same clock: compare wall times. UTC against local time: refuse only when no client offset
    // (at most ±18 h) could put the expiry after the availability.
    const same = d.availableFrom.utc === d.expiresAt.utc;
    const latestExpiry = toInstant(d.expiresAt, same || d.expiresAt.utc ? 0 : -MAX_CLIENT_OFFSET_MINUTES);
    const earliestAvailable = toInstant(d.availableFrom, same || d.availableFrom.utc ? 0 : MAX_CLIENT_OFFSET_MINUTES);
    if (latestExpiry <= earliestAvailable) return refuse('R-13', 'the deployment expires before it becomes available');
  }
  return null;
}
