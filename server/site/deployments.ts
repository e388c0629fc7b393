/** Deployments (R-09…R-16) with the high-risk verification (R-10) and R-19's clear action. */
import { createDeployment, type DeploymentDecision } from '../../policy/deployments/create.js';
import { formatDeploymentId, type Deployment } from '../../policy/deployments/model.js';
import type { MemberFacts } from '../../policy/deployments/high-risk.js';
import { notFound } from '../../policy/errors.js';
import { getCollection, readCollection } from './collections.js';
import { getComputer } from './computers.js';
import { contentIndex } from './content.js';
import { audit, transact, type SiteContext } from './context.js';
import { readTaskSequence } from './task-sequences.js';

/** Membership now: R-10 checks it at creation only. */
export function memberFacts(ctx: SiteContext, collectionId: string): MemberFacts {
  const site = ctx.snapshot.get();
  let siteSystems = 0;
  let servers = 0;
  const members = site.members.get(collectionId) ?? new Set<string>();
  for (const id of members) {
    const c = site.computers.get(id);
    if (c?.isSiteSystem) siteSystems++;
    if (c?.isServer) servers++;
  }
  return { count: members.size, siteSystems, servers };
}

/** A decision that creates nothing: thrown to roll the transaction (and the id it claimed) back. */
class NotCreated {
  constructor(readonly decision: DeploymentDecision) {}
}

/**
 * Creates the deployment when policy allows it. The counter is only spent on success, so a
 * refused attempt leaves no gap in deployment ids.
 */
export async function deploy(ctx: SiteContext, actor: string, input: Record<string, unknown>): Promise<DeploymentDecision> {
  const members = memberFacts(ctx, String(input.collectionId ?? ''));
  const content = await contentIndex(ctx);
  try {
    return await transact(ctx, async (tx) => {
      const taskSequence = await readTaskSequence(tx, String(input.taskSequenceId ?? ''));
      const collection = await readCollection(tx, String(input.collectionId ?? ''));
      const id = await tx.ids.claim('deployment', (n) => formatDeploymentId(ctx.siteCode, n));
      const decision = createDeployment(input, { id, now: ctx.now(), taskSequence, collection, members, content, highRisk: ctx.snapshot.get().settings.highRisk });
      if (decision.kind !== 'created') throw new NotCreated(decision);
      const d = decision.deployment;
      await tx.deployments.put(d);
      for (const event of decision.audit) await audit(tx, ctx, actor, event);
      await audit(tx, ctx, actor, {
        action: 'deployment.created',
        target: d.id,
        message: `Deployment ${d.id}: ${taskSequence.name} to ${collection.name} (${d.purpose}, ${d.availability})`,
        details: { taskSequenceId: d.taskSequenceId, collectionId: d.collectionId, highRisk: d.highRisk?.verdict ?? null },
      });
      return decision;
    });
  } catch (e) {
    if (e instanceof NotCreated) return e.decision;
    throw e;
  }
}

/** Options added after a deployment was stored read as their defaults (the doc is not rewritten). */
const withDefaults = (d: Deployment): Deployment => ({ ...d, allowTechnicianMedia: d.allowTechnicianMedia === true });

export async function getDeployment(ctx: SiteContext, id: string): Promise<Deployment> {
  const d = await ctx.store.deployments.get(id);
  if (!d) throw notFound(`no deployment ${id}`, 'id');
  return withDefaults(d);
}

export interface DeploymentFilter {
  readonly collectionId?: string;
  readonly taskSequenceId?: string;
  readonly offset?: number;
  readonly limit?: number;
}

/** Oldest first; a site has tens to hundreds of deployments, read whole and paged here. */
/** Deployments oldest first (created, then id), as the repository lists them; one sorted copy per policy version. */
let sorted: { readonly version: number; readonly snapshot: object; readonly list: readonly Deployment[] } | null = null;
function deploymentsInOrder(ctx: SiteContext): readonly Deployment[] {
  if (sorted?.snapshot === ctx.snapshot && sorted.version === ctx.snapshot.version) return sorted.list;
  const list = [...ctx.snapshot.get().deployments.values()].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  sorted = { version: ctx.snapshot.version, snapshot: ctx.snapshot, list };
  return list;
}

/**
 * Pages the deployments from the policy state, where every deployment is in memory and current
 * (read-your-writes): listing reads no database, on either engine.
 */
export async function listDeployments(ctx: SiteContext, f: DeploymentFilter = {}): Promise<{ items: Deployment[]; total: number; offset: number; limit: number }> {
  const matching = deploymentsInOrder(ctx).filter((d) => (!f.collectionId || d.collectionId === f.collectionId) && (!f.taskSequenceId || d.taskSequenceId === f.taskSequenceId));
  const offset = f.offset ?? 0;
  const limit = f.limit ?? 100;
  return { items: matching.slice(offset, offset + limit).map(withDefaults), total: matching.length, offset, limit };
}

export async function deleteDeployment(ctx: SiteContext, actor: string, id: string): Promise<void> {
  await transact(ctx, async (tx) => {
    const d = await tx.deployments.get(id);
    if (!d) throw notFound(`no deployment ${id}`, 'id');
    await tx.deployments.delete(id); // its R-19 starts go with it
    await audit(tx, ctx, actor, { action: 'deployment.deleted', target: id, message: `Deployment ${id} deleted`, details: { taskSequenceId: d.taskSequenceId, collectionId: d.collectionId } });
  });
}

/** record that a computer started a Required deployment from PXE. */
export async function recordRequiredPxeStart(ctx: SiteContext, computerId: string, deploymentId: string): Promise<void> {
  await ctx.store.deployments.addPxeStart({ computerId, deploymentId, startedAt: ctx.now() });
}

/** "Clear Required PXE Deployments" for a computer or every member of a collection. */
export async function clearRequiredPxe(ctx: SiteContext, actor: string, target: { computerId: string } | { collectionId: string }): Promise<number> {
  const ids = 'computerId' in target ? [(await getComputer(ctx, target.computerId)).id] : [...(ctx.snapshot.get().members.get((await getCollection(ctx, target.collectionId)).id) ?? [])];
  return transact(ctx, async (tx) => {
    let cleared = 0;
    for (const id of ids) cleared += (await tx.deployments.deletePxeStarts(id)).length;
    const what = 'computerId' in target ? `computer ${target.computerId}` : `collection ${target.collectionId}`;
    await audit(tx, ctx, actor, { action: 'deployment.requiredPxeCleared', target: what, message: `Required PXE deployments cleared for ${what} (${cleared} records)`, details: { cleared } });
    return cleared;
  });
}

export const allDeployments = async (ctx: SiteContext): Promise<Deployment[]> => (await ctx.store.deployments.list()).map(withDefaults);
