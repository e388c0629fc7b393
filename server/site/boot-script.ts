/**
 * From a booting machine's facts to its iPXE script: resolveBoot decides, the content
 * records say how each boot image starts, media/ipxe renders. A machine with nothing to run, or
 * whose boot image cannot be started over the network, gets a script that exits to the next
 * boot device.
 */
import type { BootFacts } from '../../policy/resolve-boot.js';
import { resolveBoot, type Offer } from '../../policy/resolve-boot.js';
import { renderIpxeScript, type ScriptChoice, type ScriptInput } from '../../media/ipxe/script.js';
import { contentIndex } from './content.js';
import type { SiteContext } from './context.js';

/** Seconds the menu waits before booting from the next device, when several boot images are offered. */
export const MENU_TIMEOUT_SECONDS = 30;

function choiceOf(ctx: SiteContext, offer: Offer): ScriptChoice | string {
  const bootImageId = offer.taskSequence.bootImageId;
  if (!bootImageId) return `task sequence ${offer.taskSequence.id} has no boot image`;
  const info = contentIndex(ctx).get(bootImageId);
  if (!info?.boot) return `boot image ${bootImageId} has no network boot files`;
  return { deploymentId: offer.deployment.id, title: offer.taskSequence.name, bootImageId, boot: info.boot };
}

export function scriptInputFor(ctx: SiteContext, facts: BootFacts): ScriptInput {
  const decision = resolveBoot(ctx.snapshot.get(), facts, ctx.now());
  if (decision.kind === 'nothing') return { kind: 'exit', reason: decision.reason };
  if (decision.kind === 'run') {
    const choice = choiceOf(ctx, decision);
    return typeof choice === 'string' ? { kind: 'exit', reason: choice } : { kind: 'boot', choice, why: decision.why };
  }
  // Offers: boot straight into the boot image when they all share one (the engine shows the
  // list); a menu only when they need different boot images.
  const choices = decision.offers.map((o) => choiceOf(ctx, o)).filter((c): c is ScriptChoice => typeof c !== 'string');
  if (choices.length === 0) return { kind: 'exit', reason: 'no offered task sequence has a network-bootable boot image' };
  const images = new Set(choices.map((c) => c.bootImageId));
  if (images.size === 1) return { kind: 'boot', choice: { ...choices[0]!, title: `${choices.length} task sequence(s) available`, deploymentId: choices.length === 1 ? choices[0]!.deploymentId : 'list' }, why: 'offer' };
  return { kind: 'menu', choices, timeoutSeconds: MENU_TIMEOUT_SECONDS };
}

export function bootScript(ctx: SiteContext, facts: BootFacts, siteUrl: string): string {
  return renderIpxeScript(
    { siteUrl, identity: { macAddresses: facts.macAddresses, smbiosUuid: facts.smbiosUuid, architecture: facts.architecture } },
    scriptInputFor(ctx, facts),
  );
}
