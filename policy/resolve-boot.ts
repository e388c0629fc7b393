/**
 * Boot resolution, the heart of network and media boots: which deployment a machine that
 * booted from PXE or media gets. Pure; time is an argument even though R-15 means it is
 * not used for schedules (it is kept for the caller's records and future rules).
 */
import type { Computer } from './computers.js';
import type { Architecture } from './content-refs.js';
import { isHidden, isMediaOrPxe, type Deployment } from './deployments/model.js';
import { deploymentsFor, pxeStartKey, variablesFor, type Site } from './site.js';
import type { TaskSequence } from './task-sequences/model.js';

export type BootSource = 'pxe' | 'media';

export interface BootFacts {
  /** Normalised MAC addresses, the booting interface first. */
  readonly macAddresses: readonly string[];
  readonly smbiosUuid: string | null;
  readonly architecture: Architecture;
  /** PXE covers every network boot (PXE, iPXE, UEFI HTTP boot); media covers boot media. */
  readonly source: BootSource;
  /** Variables the media carries (R-20, R-25): `SMSTSPreferredAdvertID` and custom ones. */
  readonly mediaVariables?: Readonly<Record<string, string>>;
  /** The media allows unattended operating system deployment (R-20). */
  readonly allowUnattended?: boolean;
  /** Media-level unknown computer support; PXE boots use the site's PXE setting. */
  readonly mediaUnknownComputerSupport?: boolean;
}

export interface BootIdentity {
  readonly computer: Computer;
  /** False when the machine matched no record and stands as an Unknown Computer object (R-17). */
  readonly known: boolean;
  readonly matchedBy: 'smbiosUuid' | 'macAddress' | 'unknown';
  /** The UUID and a MAC matched different records; the UUID's record was used. */
  readonly conflict: string | null;
}

export interface Offer {
  readonly deployment: Deployment;
  readonly taskSequence: TaskSequence;
}

export type BootDecision =
  | ({ readonly kind: 'run'; readonly identity: BootIdentity; readonly why: 'preferred' | 'required' } & Offer)
  | { readonly kind: 'offer'; readonly identity: BootIdentity; readonly offers: readonly Offer[]; readonly note: string | null }
  | { readonly kind: 'nothing'; readonly identity: BootIdentity | null; readonly reason: string };

export const PREFERRED_ADVERT_VARIABLE = 'SMSTSPreferredAdvertID';

export function identify(site: Site, facts: BootFacts): BootIdentity | null {
  const byUuid = facts.smbiosUuid ? site.computerByUuid.get(facts.smbiosUuid) : undefined;
  let byMac: Computer | undefined;
  for (const mac of facts.macAddresses) {
    byMac = site.computerByMac.get(mac);
    if (byMac) break;
  }
  if (byUuid) {
    const conflict = byMac && byMac.id !== byUuid.id ? `SMBIOS UUID matches ${byUuid.id} but MAC address matches ${byMac.id}` : null;
    return { computer: byUuid, known: true, matchedBy: 'smbiosUuid', conflict };
  }
  if (byMac) return { computer: byMac, known: true, matchedBy: 'macAddress', conflict: null };
  return null;
}

function mediaVariable(facts: BootFacts, name: string): string | undefined {
  const vars = facts.mediaVariables;
  if (!vars) return undefined;
  const key = Object.keys(vars).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : vars[key];
}

const byCreation = (a: Offer, b: Offer): number =>
  a.deployment.createdAt - b.deployment.createdAt || (a.deployment.id < b.deployment.id ? -1 : a.deployment.id > b.deployment.id ? 1 : 0);

export function resolveBoot(site: Site, facts: BootFacts, _now: number): BootDecision {
  let identity = identify(site, facts);
  if (!identity) {
    const supported = facts.source === 'pxe' ? site.settings.pxe.unknownComputerSupport : facts.mediaUnknownComputerSupport !== false;
    if (!supported) return { kind: 'nothing', identity: null, reason: `unknown computer and unknown computer support is off for ${facts.source} boots` };
    identity = { computer: site.unknownComputer[facts.architecture], known: false, matchedBy: 'unknown', conflict: null };
  }
  const computerId = identity.computer.id;

  // R-12/R-15: only deployments available to media and PXE, whatever their schedules.
  const candidates: Offer[] = [];
  let disabled = 0;
  let ranOnce = 0;
  for (const d of deploymentsFor(site, computerId)) {
    if (!isMediaOrPxe(d.availability)) continue;
    const ts = site.taskSequences.get(d.taskSequenceId);
    if (!ts) continue;
    if (!ts.enabled) {
      disabled++;
      continue; // R-05: deployable, but no computer runs it.
    }
    // R-19: a Required deployment started from PXE is ignored by later PXE boots until cleared.
    if (facts.source === 'pxe' && d.purpose === 'required' && site.requiredPxeStarted.has(pxeStartKey(computerId, d.id))) {
      ranOnce++;
      continue;
    }
    candidates.push({ deployment: d, taskSequence: ts });
  }

  // R-20: a preferred deployment named by the media, else by computer or collection variables.
  const preferredId = mediaVariable(facts, PREFERRED_ADVERT_VARIABLE) ?? variablesFor(site, computerId).get(PREFERRED_ADVERT_VARIABLE.toLowerCase())?.value;
  let note: string | null = null;
  if (preferredId) {
    const preferred = candidates.find((c) => c.deployment.id === preferredId);
    if (preferred && facts.allowUnattended === true) return { kind: 'run', identity, why: 'preferred', ...preferred };
    note = preferred
      ? `${PREFERRED_ADVERT_VARIABLE}=${preferredId} targets this machine but unattended deployment is not allowed`
      : `${PREFERRED_ADVERT_VARIABLE}=${preferredId} does not name a deployment for this machine available to media and PXE`;
  }

  // A Required deployment runs without a choice, the oldest first when there are several; a
  // hidden one still runs only through SMSTSPreferredAdvertID (R-20).
  const visible = candidates.filter((c) => !isHidden(c.deployment.availability));
  const required = visible.filter((c) => c.deployment.purpose === 'required').sort(byCreation);
  if (required.length > 0) return { kind: 'run', identity, why: 'required', ...required[0]! };

  // R-12/R-20: a hidden deployment never appears in a list of choices.
  const offers = visible
    .slice()
    .sort((a, b) => a.taskSequence.name.localeCompare(b.taskSequence.name) || byCreation(a, b));
  if (offers.length > 0) return { kind: 'offer', identity, offers, note };

  const why = [
    `no deployment for ${identity.known ? `computer ${computerId}` : identity.computer.name} is available to media and PXE`,
    disabled ? `${disabled} skipped: task sequence disabled` : '',
    ranOnce ? `${ranOnce} skipped: Required deployment already started from PXE (R-19)` : '',
    candidates.length ? `${candidates.length - visible.length} hidden deployment(s) run only through ${PREFERRED_ADVERT_VARIABLE}` : '',
    note ?? '',
  ].filter(Boolean);
  return { kind: 'nothing', identity, reason: why.join('; ') };
}
