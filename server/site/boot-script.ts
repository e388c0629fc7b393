/**
 * From a booting machine's facts to its iPXE script: resolveBoot decides, the content
 * records say how each boot image starts, media/ipxe renders. A machine with nothing to run, or
 * whose boot image cannot be started over the network, gets a script that exits to the next
 * boot device.
 */
import { bootFilesProblem } from '../../policy/boot-file-paths.js';
import type { BootFacts } from '../../policy/resolve-boot.js';
import { resolveBoot, type Offer } from '../../policy/resolve-boot.js';
import { renderIpxeScript, type ScriptChoice, type ScriptInput } from '../../media/ipxe/script.js';
import { contentIndex } from './content.js';
import type { SiteContext } from './context.js';
import { mintBootToken } from './boot-tokens.js';

/** Seconds the menu waits before booting from the next device, when several boot images are offered. */
export const MENU_TIMEOUT_SECONDS = 30;

function choiceOf(ctx: SiteContext, offer: Offer): ScriptChoice | string {
  const bootImageId = offer.taskSequence.bootImageId;
  if (!bootImageId) return `task sequence ${offer.taskSequence.id} has no boot image`;
  const info = contentIndex(ctx).get(bootImageId);
  if (!info?.boot) return `boot image ${bootImageId} has no network boot files`;
  // A record written before boot-file paths were checked may hold an unsafe one: that machine is
  // told its boot image is broken; nothing else (no 500 for everyone offered it).
  const broken = bootFilesProblem(info.boot);
  if (broken) {
    ctx.log.warn({ bootImageId, field: `boot.${broken.field}` }, `boot image ${bootImageId} is broken: boot.${broken.field} ${broken.reason}; fix its boot files`);
    return `boot image ${bootImageId} is broken (unsafe boot.${broken.field} path); an administrator must fix it`;
  }
  return { deploymentId: offer.deployment.id, title: offer.taskSequence.name, bootImageId, boot: info.boot };
}

interface Decided {
  readonly input: ScriptInput;
  /** The computer (or Unknown Computer object) and the deployments a booting answer gives it. */
  readonly computerId: string | null;
  readonly deploymentIds: readonly string[];
}

export function scriptInputFor(ctx: SiteContext, facts: BootFacts): ScriptInput {
  return decide(ctx, facts).input;
}

function decide(ctx: SiteContext, facts: BootFacts): Decided {
  const decision = resolveBoot(ctx.snapshot.get(), facts, ctx.now());
  const computerId = decision.identity?.computer.id ?? null;
  if (decision.kind === 'nothing') return { input: { kind: 'exit', reason: decision.reason }, computerId, deploymentIds: [] };
  if (decision.kind === 'run') {
    const choice = choiceOf(ctx, decision);
    return { input: typeof choice === 'string' ? { kind: 'exit', reason: choice } : { kind: 'boot', choice, why: decision.why }, computerId, deploymentIds: [decision.deployment.id] };
  }
  return { input: offerInput(ctx, decision.offers), computerId, deploymentIds: decision.offers.map((o) => o.deployment.id) };
}

function offerInput(ctx: SiteContext, offers: readonly Offer[]): ScriptInput {
  // Offers: boot straight into the boot image when they all share one (the engine shows the
  // list); a menu only when they need different boot images.
  const choices = offers.map((o) => choiceOf(ctx, o)).filter((c): c is ScriptChoice => typeof c !== 'string');
  if (choices.length === 0) return { kind: 'exit', reason: 'no offered task sequence has a network-bootable boot image' };
  const images = new Set(choices.map((c) => c.bootImageId));
  if (images.size === 1) return { kind: 'boot', choice: { ...choices[0]!, title: `${choices.length} task sequence(s) available`, deploymentId: choices.length === 1 ? choices[0]!.deploymentId : 'list' }, why: 'offer' };
  return { kind: 'menu', choices, timeoutSeconds: MENU_TIMEOUT_SECONDS };
}

export interface ScriptOptions {
  /** PXE boots: whether this request carried the right PXE password. */
  readonly passwordOk?: boolean;
  /** A line to show first (a wrong password, a lockout). */
  readonly message?: string | null;
  readonly uefi?: boolean;
  /** Media boots: the media, whose boot the token is bound to. */
  readonly mediaId?: string | null;
}

/**
 * The iPXE script of a boot. One that would start something carries a per-boot token for that
 * machine and what it was given; with a PXE password set, a PXE boot is asked for it first and
 * only a boot that gave it is proven (the only kind that receives secrets).
 */
export function bootScript(ctx: SiteContext, facts: BootFacts, siteUrl: string, o: ScriptOptions = {}): string {
  const identity = { macAddresses: facts.macAddresses, smbiosUuid: facts.smbiosUuid, architecture: facts.architecture };
  const d = decide(ctx, facts);
  if (d.input.kind === 'exit' || d.computerId === null) return renderIpxeScript({ siteUrl, identity }, d.input);
  const pxe = facts.source === 'pxe';
  const passwordRequired = pxe && ctx.snapshot.get().settings.pxe.passwordRequired;
  if (passwordRequired && o.passwordOk !== true) return renderIpxeScript({ siteUrl, identity }, { kind: 'password', message: o.message ?? null, uefi: o.uefi === true });
  const { token } = mintBootToken(ctx, {
    computerId: d.computerId,
    macAddresses: facts.macAddresses,
    smbiosUuid: facts.smbiosUuid,
    architecture: facts.architecture,
    source: facts.source,
    deploymentIds: d.deploymentIds,
    proven: passwordRequired && o.passwordOk === true,
    mediaId: o.mediaId ?? null,
  });
  return renderIpxeScript({ siteUrl, identity, bootToken: token }, d.input);
}
