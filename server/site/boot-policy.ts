/**
 * Boot policy for a machine that booted from PXE or media: resolveBoot (policy/) plus, for the
 * deployment it will run, the merged variables and built-ins. Hidden values go only
 * to the client role, which hands them to the task sequence; people see them masked.
 */
import { builtInVariables, type MediaForm } from '../../policy/builtins.js';
import { validateArchitecture } from '../../policy/computers.js';
import { forbidden, invalid, PolicyError } from '../../policy/errors.js';
import { normalizeMac, normalizeUuid } from '../../policy/normalize.js';
import { resolveBoot, type BootDecision, type BootFacts, type BootIdentity, type Offer } from '../../policy/resolve-boot.js';
import { variablesFor } from '../../policy/site.js';
import type { SiteContext } from './context.js';
import { taskSequencePolicy } from './run-policy.js';
import { contentPolicy } from './content-policy.js';
import { clientAccess, type ClientAccess } from './client-access.js';
import { mintBootToken } from './boot-tokens.js';
import { secretsOf } from './media-policy.js';
import type { TokenInfo } from './tokens.js';

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

export type BootFactsView = ReturnType<typeof factsFromQuery>;

/**
 * The facts a client's boot is decided on: a per-boot token's own machine, a media token's own
 * media settings; the caller's `preferred` and `unattended` never widen what the boot
 * may run — they only pick one of the deployments it is offered (a technician's choice).
 */
function boundFacts(a: ClientAccess, q: BootQuery): { facts: BootFactsView; pick: string | null } {
  const asked = factsFromQuery(q);
  const pick = q.preferred ?? null;
  if (a.scope === 'site') return { facts: asked, pick: null };
  const base = { ...asked, allowUnattended: false } as BootFactsView;
  delete (base as { mediaVariables?: unknown }).mediaVariables;
  let facts: BootFactsView = base;
  if (a.scope === 'boot') {
    facts = {
      ...base,
      macAddresses: a.macAddresses,
      smbiosUuid: a.smbiosUuid,
      ...(a.architecture ? { architecture: a.architecture as BootFactsView['architecture'] } : {}),
      source: a.source ?? 'pxe',
    };
  }
  const media = a.media;
  if (a.scope === 'media' || (a.scope === 'boot' && media)) {
    if (!media) throw forbidden(`media ${a.mediaId} no longer exist at this site`);
    facts = {
      ...facts,
      source: 'media',
      mediaForm: media.mediaForm as BootFactsView['mediaForm'],
      allowUnattended: media.allowUnattended,
      ...(media.preferred ? { mediaVariables: { SMSTSPreferredAdvertID: media.preferred } } : {}),
    };
  }
  return { facts, pick };
}

/**
 * GET /api/v1/boot-policy for any caller. Clients get a per-boot token for what they were
 * answered (`bootToken`), which every later call of that boot uses; secrets only reach a client
 * whose boot proved itself, for its own machine.
 */
export async function bootPolicyFor(ctx: SiteContext, principal: TokenInfo | null, q: BootQuery, siteAddress: string) {
  const access = await clientAccess(ctx, principal);
  if (!access) return bootPolicy(ctx, factsFromQuery(q), false, siteAddress, null);
  const { facts, pick } = boundFacts(access, q);
  const site = ctx.snapshot.get();
  let decided = facts;
  if (pick) {
    const first = resolveBoot(site, facts, ctx.now());
    // A technician's choice among the offers (not hidden, available to this machine).
    if (first.kind === 'offer' && first.offers.some((o) => o.deployment.id === pick)) {
      decided = { ...facts, mediaVariables: { SMSTSPreferredAdvertID: pick }, allowUnattended: true };
    }
  }
  if (access.scope === 'computer') {
    const d = resolveBoot(site, decided, ctx.now());
    if (d.identity && d.identity.computer.id !== access.computerId) throw forbidden(`this token is for computer ${access.computerId}, not ${d.identity.computer.id}`, 'mac');
  }
  return bootPolicy(ctx, decided, access.proven, siteAddress, access);
}

const PXE_PASSWORD_HINT = 'set a PXE password (R-18) or boot password-protected media';

export async function bootPolicy(ctx: SiteContext, facts: BootFactsView, revealHidden: boolean, siteAddress: string, access: ClientAccess | null) {
  const site = ctx.snapshot.get();
  const decision: BootDecision = resolveBoot(site, facts, ctx.now());
  const token = (deploymentIds: string[]) => {
    if (!access || !decision.identity) return {};
    const t = mintBootToken(ctx, {
      computerId: decision.identity.computer.id,
      macAddresses: facts.macAddresses,
      smbiosUuid: facts.smbiosUuid,
      architecture: facts.architecture,
      source: facts.source,
      deploymentIds,
      proven: access.proven,
      mediaId: access.mediaId ?? access.media?.id ?? null,
    });
    return { bootToken: t.token, bootTokenExpiresAt: t.expiresAt };
  };
  if (decision.kind === 'nothing') return { kind: decision.kind, identity: identityView(decision.identity), reason: decision.reason };
  if (decision.kind === 'offer')
    return { kind: decision.kind, identity: identityView(decision.identity), offers: decision.offers.map(offerView), note: decision.note, ...token(decision.offers.map((o) => o.deployment.id)) };
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
  // A remote point's download token is an enrollment token of that point: every client's boot gets it.
  const content = await contentPolicy(ctx, decision.deployment, decision.taskSequence, siteAddress, access !== null);
  // Said, not silently dropped: the engine fails the step that needs one with this reason.
  const withheld = access && !revealHidden ? secretsOf(decision.taskSequence, [...merged.values()]) : [];
  return {
    kind: decision.kind,
    why: decision.why,
    identity: identityView(decision.identity),
    ...offerView(decision),
    variables,
    builtIns,
    taskSequence,
    content,
    ...(withheld.length > 0 ? { secretsWithheld: { secrets: withheld, reason: `this boot did not prove itself, so the site withheld its secrets; ${PXE_PASSWORD_HINT}` } } : {}),
    ...token([decision.deployment.id]),
  };
}
