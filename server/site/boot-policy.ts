/**
 * Boot policy for a machine that booted from PXE or media: resolveBoot (policy/) plus, for the
 * deployment it will run, the merged variables and built-ins. Hidden values go only
 * to the client role, which hands them to the task sequence; people see them masked.
 */
import { builtInVariables, type MediaForm } from '../../policy/builtins.js';
import { validateArchitecture } from '../../policy/computers.js';
import { invalid, PolicyError } from '../../policy/errors.js';
import { normalizeMac, normalizeUuid } from '../../policy/normalize.js';
import { resolveBoot, type BootDecision, type BootFacts, type BootIdentity, type Offer } from '../../policy/resolve-boot.js';
import { variablesFor } from '../../policy/site.js';
import type { SiteContext } from './context.js';
import { taskSequencePolicy } from './run-policy.js';
import { contentPolicy } from './content-policy.js';

export interface BootQuery {
  readonly mac?: string | readonly string[];
  readonly uuid?: string;
  readonly arch?: string;
  readonly source?: string;
  readonly uefi?: string;
  readonly preferred?: string;
  readonly unattended?: string;
  readonly mediaForm?: string;
}

/** A bad value is reported under the query parameter's name, not the policy field's. */
function asQueryField<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PolicyError) throw new PolicyError(e.code, e.message, { field, ...(e.rule ? { rule: e.rule } : {}) });
    throw e;
  }
}

export function factsFromQuery(q: BootQuery): BootFacts & { uefi: boolean; mediaForm: MediaForm } {
  const macs = (Array.isArray(q.mac) ? q.mac : q.mac ? [q.mac] : []).flatMap((m: string) => m.split(',')).filter(Boolean);
  if (macs.length > 32) throw invalid('at most 32 MAC addresses', 'mac');
  const macAddresses = macs.map((m) => asQueryField('mac', () => normalizeMac(m)));
  const uuid = q.uuid;
  // Cheap boards report all-zero or all-FF UUIDs (iPXE passes them on as `${uuid}`): no identity, not an error.
  const placeholder = uuid !== undefined && /^[{]?([0-]+|[fF-]+)[}]?$/.test(uuid);
  const smbiosUuid = uuid && !placeholder ? asQueryField('uuid', () => normalizeUuid(uuid)) : null;
  if (macAddresses.length === 0 && !smbiosUuid) throw invalid('a boot needs mac or uuid', 'mac');
  const source = q.source ?? 'pxe';
  if (source !== 'pxe' && source !== 'media') throw invalid('source must be pxe or media', 'source');
  const mediaForm = (q.mediaForm ?? 'usb') as MediaForm;
  if (!['cd', 'usb', 'hardDisk'].includes(mediaForm)) throw invalid('mediaForm must be cd, usb or hardDisk', 'mediaForm');
  return {
    macAddresses,
    smbiosUuid,
    architecture: validateArchitecture(q.arch ?? 'x64', 'arch'),
    source,
    ...(q.preferred ? { mediaVariables: { SMSTSPreferredAdvertID: q.preferred } } : {}),
    allowUnattended: q.unattended === 'true',
    uefi: q.uefi === 'true',
    mediaForm,
  };
}

const identityView = (i: BootIdentity | null) =>
  i && { computerId: i.computer.id, name: i.computer.name, known: i.known, matchedBy: i.matchedBy, conflict: i.conflict };

const offerView = (o: Offer) => ({
  deploymentId: o.deployment.id,
  taskSequenceId: o.taskSequence.id,
  taskSequenceName: o.taskSequence.name,
  purpose: o.deployment.purpose,
  bootImageId: o.taskSequence.bootImageId,
});

export function bootPolicy(ctx: SiteContext, facts: ReturnType<typeof factsFromQuery>, revealHidden: boolean, siteAddress: string) {
  const site = ctx.snapshot.get();
  const decision: BootDecision = resolveBoot(site, facts, ctx.now());
  if (decision.kind === 'nothing') return { kind: decision.kind, identity: identityView(decision.identity), reason: decision.reason };
  if (decision.kind === 'offer') return { kind: decision.kind, identity: identityView(decision.identity), offers: decision.offers.map(offerView), note: decision.note };
  const merged = variablesFor(site, decision.identity.computer.id);
  const variables = [...merged.values()].map((v) => ({ name: v.name, value: v.hidden && !revealHidden ? null : v.value, hidden: v.hidden }));
  const builtIns = builtInVariables({
    siteCode: site.siteCode,
    siteAddress,
    mediaType: facts.source === 'pxe' ? 'pxe' : 'bootMedia',
    mediaForm: facts.mediaForm,
    macAddresses: facts.macAddresses,
    smbiosUuid: facts.smbiosUuid,
    architecture: facts.architecture,
    uefi: facts.uefi,
    computer: decision.identity.computer,
    known: decision.identity.known,
    deployment: decision.deployment,
    taskSequence: decision.taskSequence,
  });
  // The engine needs the tree it runs; step secrets only for the client role, like hidden values.
  const taskSequence = taskSequencePolicy(decision.taskSequence, revealHidden);
  // Where each referenced package comes from, per the deployment's content options.
  const content = contentPolicy(ctx, decision.deployment, decision.taskSequence, siteAddress, revealHidden);
  return { kind: decision.kind, why: decision.why, identity: identityView(decision.identity), ...offerView(decision), variables, builtIns, taskSequence, content };
}
