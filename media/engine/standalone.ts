/**
 * Standalone and prestaged media: the engine runs the task sequence the
 * media carries with no network at all — no policy request, no content download, no
 * registration. `openMedia` has already refused expired, locked or tampered media (cli.ts).
 *
 * - The media names exactly one deployment. It runs as the site's boot resolution would run it
 *   (policy/resolve-boot.ts): unattended where SMSTSPreferredAdvertID names it and the media
 *   allows unattended deployment, at once when it is Required and not hidden, never when it is
 *   hidden otherwise; an Available one needs the technician's choice (`--pick`, or a prompt on a
 *   terminal), else the engine exits with the choice-needed code.
 * - Variables: the media's, then the collection's from the policy snapshot, then the built-ins
 *   the site knew and those of this machine (MAC addresses, UUID, UEFI). `_SMSTSClientGUID` is
 *   empty: the machine is registered when its status messages first reach a site.
 * - Content is read from the media by hash and verified (content/media-fetcher.ts); content.json
 *   matched the policy's content list when the media were opened (media.ts), or they were refused.
 * - Status messages are kept in the outbox; any later start with a site sends them (outbox.ts).
 * - A restart or a crash resumes from the state folder like any run; the engine is started again
 *   with `--media DIR`.
 */
import { preferredOf, PREFERRED_VARIABLE } from '../boot-media/model.js';
import { choose } from './boot.js';
import { mediaContentPolicy } from './content/media-fetcher.js';
import { deferRegistration, EXIT, exitOf, finish, resumeIfSaved, startRun, type Engine } from './engine.js';
import { machineFacts } from './identity.js';
import type { MediaRunPolicy, StandaloneMedia } from './media.js';

export type StandaloneDecision =
  | { readonly kind: 'run'; readonly why: 'preferred' | 'required' }
  | { readonly kind: 'offer'; readonly note: string | null }
  | { readonly kind: 'nothing'; readonly reason: string };

/** R-20 for the one deployment the media carries, as resolveBoot decides it for a media boot. */
export function decideStandalone(policy: Pick<MediaRunPolicy, 'deploymentId' | 'purpose' | 'hidden'>, media: { readonly variables: Readonly<Record<string, string>>; readonly allowUnattended: boolean }): StandaloneDecision {
  const preferred = preferredOf(media.variables);
  let note: string | null = null;
  if (preferred !== undefined) {
    if (preferred === policy.deploymentId && media.allowUnattended) return { kind: 'run', why: 'preferred' };
    note = preferred === policy.deploymentId
      ? `${PREFERRED_VARIABLE}=${preferred} names the media's deployment but the media does not allow unattended deployment`
      : `${PREFERRED_VARIABLE}=${preferred} does not name the deployment this media carries (${policy.deploymentId})`;
  }
  if (policy.hidden) {
    const reason = `deployment ${policy.deploymentId} is hidden: it runs only through ${PREFERRED_VARIABLE} on media that allow unattended deployment (R-20)`;
    return { kind: 'nothing', reason: note ? `${reason}; ${note}` : reason };
  }
  if (policy.purpose === 'required') return { kind: 'run', why: 'required' };
  return { kind: 'offer', note };
}

/** The built-ins only the machine knows; the site left them off media made for any machine. */
function machineBuiltIns(engine: Engine): Record<string, string> {
  const o = engine.opts;
  const facts = machineFacts(o.macs, o.uuid, o.arch);
  return {
    _SMSTSMacAddresses: facts.macAddresses.map((m) => m.toUpperCase()).join(','),
    _SMSTSUUID: facts.smbiosUuid ?? '',
    _SMSTSBootUEFI: String(o.uefi),
  };
}

export async function standaloneMode(engine: Engine, media: StandaloneMedia): Promise<number> {
  const o = engine.opts;
  engine.log.line(media.contentCheck);
  const resumed = await resumeIfSaved(engine);
  if (resumed) return await finish(engine, exitOf(resumed));

  const p = media.policy;
  const facts = machineFacts(o.macs, o.uuid, o.arch);
  engine.log.line(`machine ${facts.macAddresses.join(', ') || '-'} uuid ${facts.smbiosUuid ?? '-'} ${facts.architecture}, booted from ${media.type} media ${media.mediaId}: runs offline, no site is asked`);
  const decision = decideStandalone(p, o.media);
  if (decision.kind === 'nothing') {
    engine.log.line(`nothing to run: ${decision.reason}`);
    return await finish(engine, EXIT.done);
  }
  if (decision.kind === 'offer') {
    if (decision.note) engine.log.line(decision.note);
    const offer = { deploymentId: p.deploymentId, taskSequenceId: p.taskSequenceId, taskSequenceName: p.taskSequenceName, purpose: p.purpose };
    if (!(await choose(engine, [offer]))) {
      engine.log.line(`a choice is needed; offered: ${p.deploymentId} (${p.taskSequenceName}). Start again with --pick ${p.deploymentId}`);
      return await finish(engine, EXIT.choiceNeeded);
    }
  } else if (o.pick && o.pick !== p.deploymentId) engine.log.line(`--pick ${o.pick} ignored: ${p.deploymentId} runs (${decision.why})`);

  const name = o.media.variables.OSDComputerName ?? p.variables.find((v) => v.name.toLowerCase() === 'osdcomputername')?.value ?? undefined;
  deferRegistration(engine, name);
  const result = await startRun(engine, {
    computerId: null,
    source: 'media',
    policy: { ...p, builtIns: { ...p.builtIns, ...machineBuiltIns(engine) } },
    siteVariables: p.variables,
    mediaVariables: o.media.variables,
    content: mediaContentPolicy(media),
  });
  return await finish(engine, exitOf(result));
}
