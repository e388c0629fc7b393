/**
 * High-risk deployment verification, after Configuration Manager's "Deployment
 * Verification" site settings. A deployment is high-risk when it installs automatically
 * and can do harm: purpose Required and a task sequence that deploys an operating system.
 */
import type { Collection } from '../collections.js';
import { ALL_UNKNOWN_COMPUTERS_ID } from '../collections.js';
import { invalid } from '../errors.js';

export interface HighRiskSettings {
  /** Collections with more members are hidden from the picker and warned about. */
  readonly defaultSize: number;
  /** Collections with more members are refused. */
  readonly maxSize: number;
  /** Collections that contain a site system server. */
  readonly siteSystems: 'block' | 'warn';
  /** Warn when the collection contains a server. */
  readonly warnOnServers: boolean;
}

export const DEFAULT_HIGH_RISK_SETTINGS: HighRiskSettings = { defaultSize: 100, maxSize: 1000, siteSystems: 'block', warnOnServers: true };

export function validateHighRiskSettings(input: unknown): HighRiskSettings {
  if (typeof input !== 'object' || input === null) throw invalid('highRisk must be an object', 'highRisk');
  const o = { ...DEFAULT_HIGH_RISK_SETTINGS, ...(input as Partial<HighRiskSettings>) };
  for (const k of Object.keys(input)) if (!(k in DEFAULT_HIGH_RISK_SETTINGS)) throw invalid(`highRisk.${k} is not a setting`, `highRisk.${k}`);
  for (const k of ['defaultSize', 'maxSize'] as const)
    if (!Number.isInteger(o[k]) || o[k] < 0) throw invalid(`highRisk.${k} must be a whole number ≥ 0`, `highRisk.${k}`);
  if (o.defaultSize > o.maxSize) throw invalid('highRisk.defaultSize must not exceed maxSize', 'highRisk.defaultSize');
  if (o.siteSystems !== 'block' && o.siteSystems !== 'warn') throw invalid('highRisk.siteSystems must be block or warn', 'highRisk.siteSystems');
  if (typeof o.warnOnServers !== 'boolean') throw invalid('highRisk.warnOnServers must be true or false', 'highRisk.warnOnServers');
  return { defaultSize: o.defaultSize, maxSize: o.maxSize, siteSystems: o.siteSystems, warnOnServers: o.warnOnServers };
}

/** What the check needs to know about the collection's members now. */
export interface MemberFacts {
  readonly count: number;
  readonly siteSystems: number;
  readonly servers: number;
}

export type HighRiskVerdict =
  | { readonly kind: 'notHighRisk' }
  | { readonly kind: 'allowed' }
  | { readonly kind: 'warn'; readonly reasons: readonly string[] }
  | { readonly kind: 'refused'; readonly reasons: readonly string[] };

export const isHighRisk = (purpose: 'available' | 'required', deploysOs: boolean): boolean => purpose === 'required' && deploysOs;

export function assessHighRisk(
  deployment: { readonly purpose: 'available' | 'required'; readonly deploysOs: boolean },
  collection: Collection,
  members: MemberFacts,
  settings: HighRiskSettings,
): HighRiskVerdict {
  if (!isHighRisk(deployment.purpose, deployment.deploysOs)) return { kind: 'notHighRisk' };
  const refusals: string[] = [];
  const warnings: string[] = [];
  if (collection.builtIn !== null && collection.id !== ALL_UNKNOWN_COMPUTERS_ID)
    refusals.push(`${collection.name} is a built-in collection: high-risk deployments may target only custom collections and All Unknown Computers`);
  if (members.count > settings.maxSize)
    refusals.push(`${collection.name} has ${members.count} members, more than the maximum size ${settings.maxSize}`);
  if (members.siteSystems > 0) {
    const text = `${collection.name} contains ${members.siteSystems} site system server(s)`;
    if (settings.siteSystems === 'block') refusals.push(text);
    else warnings.push(text);
  }
  if (refusals.length > 0) return { kind: 'refused', reasons: refusals };
  if (members.count > settings.defaultSize)
    warnings.push(`${collection.name} has ${members.count} members, more than the default size ${settings.defaultSize}`);
  if (settings.warnOnServers && members.servers > 0) warnings.push(`${collection.name} contains ${members.servers} server(s)`);
  return warnings.length > 0 ? { kind: 'warn', reasons: warnings } : { kind: 'allowed' };
}

/**
 * The "Select Collection" window for a high-risk deployment: built-ins other than All Unknown
 * Computers never appear, nor collections above the maximum size; collections above the default
 * size appear only when the administrator unchecks "hide collections with a member count greater
 * than the site's minimum size configuration".
 */
export function highRiskCollectionChoices<C extends { readonly collection: Collection; readonly members: MemberFacts }>(
  candidates: readonly C[],
  settings: HighRiskSettings,
  hideAboveDefaultSize = true,
): C[] {
  return candidates.filter(({ collection, members }) => {
    if (collection.builtIn !== null && collection.id !== ALL_UNKNOWN_COMPUTERS_ID) return false;
    if (members.count > settings.maxSize) return false;
    if (hideAboveDefaultSize && members.count > settings.defaultSize) return false;
    if (members.siteSystems > 0 && settings.siteSystems === 'block') return false;
    return true;
  });
}
