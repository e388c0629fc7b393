/**
 * Policy for a full-OS client: resolveClient with the computer's run
 * history taken from its status messages, so rerun rules see what really ran. Each offer
 * carries what the engine needs to run it: variables, built-ins and the item tree.
 */
import { builtInVariables } from '../../policy/builtins.js';
import { forbidden, invalid, notFound } from '../../policy/errors.js';
import { isBoundComputer, type ClientAccess } from './client-access.js';
import { resolveClient, type ClientOffer } from '../../policy/resolve-client.js';
import { variablesFor } from '../../policy/site.js';
import { runHistory, runsOf } from '../../policy/status.js';
import { contentPolicy } from './content-policy.js';
import type { SiteContext } from './context.js';
import { taskSequencePolicy } from './run-policy.js';
import { messagesOfComputer } from './status.js';

export interface ClientPolicyQuery {
  readonly computerId: string;
  /** Minutes east of UTC of the client's clock now. */
  readonly utcOffsetMinutes: number;
  readonly lastLogon?: number | null;
  readonly lastLogoff?: number | null;
}

/** A full-OS client reads its own computer's policy only: a site relay any, an enrollment or media token none. */
export function clientPolicyAllowed(ctx: SiteContext, access: ClientAccess | null, computerId: string): void {
  if (!access || access.scope === 'site') return;
  if (access.scope === 'enroll' || access.scope === 'media') throw forbidden('an enrollment or media token reads no computer\'s client policy; use the computer\'s own token', 'computerId');
  const computer = ctx.snapshot.get().computers.get(computerId);
  if (!computer || !isBoundComputer(ctx, access, computer)) throw forbidden(`this token was issued for another machine than ${computerId}`, 'computerId');
}

/** `revealHidden`: a client whose token proved its machine; `pointTokens`: any client (remote points' download tokens). */
export async function clientPolicy(ctx: SiteContext, q: ClientPolicyQuery, revealHidden: boolean, siteAddress: string, pointTokens = revealHidden) {
  if (!Number.isInteger(q.utcOffsetMinutes) || Math.abs(q.utcOffsetMinutes) > 18 * 60) throw invalid('utcOffset must be whole minutes within ±1080', 'utcOffset');
  const messages = await messagesOfComputer(ctx, q.computerId);
  // The policy state after the read: one state for the whole answer.
  const site = ctx.snapshot.get();
  const computer = site.computers.get(q.computerId);
  if (!computer) throw notFound(`no computer ${q.computerId}`, 'computerId');
  if (computer.unknownArchitecture !== null) throw invalid('a full-OS client is a registered computer, not an Unknown Computer object', 'computerId');
  const now = ctx.now();
  const history = runHistory(runsOf(messages));
  const decision = resolveClient(site, computer.id, { utcOffsetMinutes: q.utcOffsetMinutes, history, lastLogon: q.lastLogon ?? null, lastLogoff: q.lastLogoff ?? null }, now);

  const variables = [...variablesFor(site, computer.id).values()].map((v) => ({ name: v.name, value: v.hidden && !revealHidden ? null : v.value, hidden: v.hidden }));
  const run = async (o: ClientOffer) => ({
    deploymentId: o.deployment.id,
    taskSequenceId: o.taskSequence.id,
    taskSequenceName: o.taskSequence.name,
    purpose: o.deployment.purpose,
    downloadFrom: o.downloadFrom,
    builtIns: builtInVariables({
      siteCode: site.siteCode,
      siteAddress,
      mediaType: 'fullOs',
      macAddresses: computer.macAddresses,
      smbiosUuid: computer.smbiosUuid,
      architecture: computer.architecture ?? 'x64',
      uefi: false,
      computer,
      known: true,
      deployment: o.deployment,
      taskSequence: o.taskSequence,
    }),
    taskSequence: taskSequencePolicy(o.taskSequence, revealHidden),
    // The same content section a booted machine gets: points, versions, manifest hashes.
    content: await contentPolicy(ctx, o.deployment, o.taskSequence, siteAddress, pointTokens),
  });
  return {
    computerId: computer.id,
    now,
    variables,
    required: await Promise.all(decision.required.map(async (o) => ({ ...(await run(o)), occurrence: o.occurrence, reason: o.reason }))),
    available: await Promise.all(decision.available.map(run)),
    upcoming: decision.upcoming.map((u) => ({ deploymentId: u.deployment.id, at: u.at, what: u.what, downloadFrom: u.downloadFrom })),
    skipped: decision.skipped,
  };
}
