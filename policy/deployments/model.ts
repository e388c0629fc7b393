/**
 * Deployments (R-09…R-16): a task sequence joined to a collection with every setting of the
 * Deploy Software wizard.
 */
import type { AssignmentSchedule, ScheduleTime } from '../schedules.js';

export const PURPOSES = ['available', 'required'] as const;
export type Purpose = (typeof PURPOSES)[number];

/** "Make available to the following". */
export const AVAILABILITIES = ['clients', 'clientsMediaPxe', 'mediaPxe', 'mediaPxeHidden'] as const;
export type Availability = (typeof AVAILABILITIES)[number];

export const RERUN_BEHAVIOURS = ['never', 'always', 'ifFailed', 'ifSucceeded'] as const;
export type RerunBehaviour = (typeof RERUN_BEHAVIOURS)[number];

export const CONTENT_OPTIONS = ['downloadAsNeeded', 'downloadAllFirst', 'runFromDistributionPoint'] as const;
export type ContentOption = (typeof CONTENT_OPTIONS)[number];

export interface UserExperience {
  /** Let the user run a Required deployment before its assignment. */
  readonly allowUserRunIndependently: boolean;
  readonly showProgress: boolean;
  readonly installOutsideMaintenanceWindow: boolean;
  readonly restartOutsideMaintenanceWindow: boolean;
  /** Allow the task sequence to run for clients on the internet (not for OS deployment). */
  readonly allowOnInternet: boolean;
}

export interface Alerts {
  /** Alert when success stays below `percent` after `afterDays` days. */
  readonly successBelow: { readonly percent: number; readonly afterDays: number } | null;
  /** Alert when failures go above `percent`. */
  readonly failureAbove: { readonly percent: number } | null;
}

export interface ContentSettings {
  readonly option: ContentOption;
  /** "When no local distribution point is available, use a remote distribution point." */
  readonly useRemoteDistributionPoint: boolean;
}

export interface HighRiskRecord {
  readonly verdict: 'allowed' | 'warned';
  readonly reasons: readonly string[];
  /** Collection member count when the deployment was made: membership is checked at creation only. */
  readonly memberCount: number;
}

export interface Deployment {
  /** Site code and counter, e.g. `PS120001`. */
  readonly id: string;
  readonly taskSequenceId: string;
  readonly collectionId: string;
  readonly comments: string;
  readonly purpose: Purpose;
  readonly availability: Availability;
  readonly sendWakeUpPackets: boolean;
  readonly allowMeteredDownload: boolean;
  readonly availableFrom: ScheduleTime | null;
  readonly expiresAt: ScheduleTime | null;
  readonly assignments: readonly AssignmentSchedule[];
  readonly rerun: RerunBehaviour;
  readonly userExperience: UserExperience;
  readonly alerts: Alerts;
  readonly content: ContentSettings;
  /**
   * technicians may build standalone and prestaged media of this deployment even when they
   * carry its step secrets or hidden variables (sealed by the media password). Default false:
   * only an administrator builds those. Deployments stored before the option read as false.
   */
  readonly allowTechnicianMedia: boolean;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Present when the deployment was high-risk. */
  readonly highRisk: HighRiskRecord | null;
}

export const isMediaOrPxe = (a: Availability): boolean => a !== 'clients';
export const isForClients = (a: Availability): boolean => a === 'clients' || a === 'clientsMediaPxe';
export const isHidden = (a: Availability): boolean => a === 'mediaPxeHidden';

/**
 * `PS1` + counter: the counter starts at 20001 as Configuration Manager's deployment ids do,
 * five digits until it outgrows them.
 */
export function formatDeploymentId(siteCode: string, counter: number): string {
  return `${siteCode}${String(20000 + counter).padStart(5, '0')}`;
}

export const SITE_CODE = /^[A-Z0-9]{3}$/;
