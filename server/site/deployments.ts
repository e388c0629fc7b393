/** Deployments (R-09…R-16) with the high-risk verification (R-10) and R-19's clear action. */
import { createDeployment, type DeploymentDecision } from '../../policy/deployments/create.js';
import { formatDeploymentId, type Deployment } from '../../policy/deployments/model.js';
import type { MemberFacts } from '../../policy/deployments/high-risk.js';
import { notFound } from '../../policy/errors.js';
import { claimId, releaseId } from '../store/db.js';
import { allDocs, deleteRow, getDoc, putDoc } from '../store/docs.js';
import { addPxeStart, deletePxeStarts } from '../store/policy-rows.js';
import { getCollection } from './collections.js';
import { getComputer } from './computers.js';
import { contentIndex } from './content.js';
import { readSettings, write, writeAudit, type SiteContext } from './context.js';
import { getTaskSequence } from './task-sequences.js';

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

/**
 * Creates the deployment when policy allows it. The counter is only spent on success, so a
 * refused attempt leaves no gap in deployment ids.
 */
export function deploy(ctx: SiteContext, actor: string, input: Record<string, unknown>): DeploymentDecision {
  const members = memberFacts(ctx, String(input.collectionId ?? ''));
  return write(ctx, () => {
    const taskSequence = getTaskSequence(ctx, String(input.taskSequenceId ?? ''));
    const collection = getCollection(ctx, String(input.collectionId ?? ''));
    const id = claimId(ctx.db, 'deployment', (n) => formatDeploymentId(ctx.siteCode, n));
    const decision = createDeployment(input, {
      id,
      now: ctx.now(),
      taskSequence,
      collection,
      members,
      content: contentIndex(ctx),
      highRisk: readSettings(ctx.db).highRisk,
    });
    if (decision.kind !== 'created') {
      releaseId(ctx.db, 'deployment', id);
      return decision;
    }
    const d = decision.deployment;
    putDoc(ctx.db, 'deployments', d.id, { task_sequence_id: d.taskSequenceId, collection_id: d.collectionId, created_at: d.createdAt }, d);
    for (const event of decision.audit) writeAudit(ctx, actor, event);
    writeAudit(ctx, actor, {
      action: 'deployment.created',
      target: d.id,
      message: `Deployment ${d.id}: ${taskSequence.name} to ${collection.name} (${d.purpose}, ${d.availability})`,
      details: { taskSequenceId: d.taskSequenceId, collectionId: d.collectionId, highRisk: d.highRisk?.verdict ?? null },
    });
    return decision;
  });
}

/** Options added after a deployment was stored read as their defaults (the doc is not rewritten). */
const withDefaults = (d: Deployment): Deployment => ({ ...d, allowTechnicianMedia: d.allowTechnicianMedia === true });

export function getDeployment(ctx: SiteContext, id: string): Deployment {
  const d = getDoc<Deployment>(ctx.db, 'deployments', id);
  if (!d) throw notFound(`no deployment ${id}`, 'id');
  return withDefaults(d);
}

export interface DeploymentFilter {
  readonly collectionId?: string;
  readonly taskSequenceId?: string;
  readonly offset?: number;
  readonly limit?: number;
}

export function listDeployments(ctx: SiteContext, f: DeploymentFilter = {}): { items: Deployment[]; total: number; offset: number; limit: number } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.collectionId) {
      where.push('collection_id = ?');
      args.push(f.collectionId);
    }
  if (f.taskSequenceId) {
      where.push('task_sequence_id = ?');
      args.push(f.taskSequenceId);
    }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const offset = f.offset ?? 0;
  const limit = f.limit ?? 100;
  const total = (ctx.db.prepare(`SELECT COUNT(*) AS n FROM deployments ${clause}`).get(...args) as { n: number }).n;
  const rows = ctx.db.prepare(`SELECT doc FROM deployments ${clause} ORDER BY created_at, id LIMIT ? OFFSET ?`).all(...args, limit, offset) as { doc: string }[];
  return { items: rows.map((r) => withDefaults(JSON.parse(r.doc) as Deployment)), total, offset, limit };
}

export function deleteDeployment(ctx: SiteContext, actor: string, id: string): void {
  write(ctx, () => {
    const d = getDeployment(ctx, id);
    deletePxeStarts(ctx.db, { deploymentId: id });
    deleteRow(ctx.db, 'deployments', id);
    writeAudit(ctx, actor, { action: 'deployment.deleted', target: id, message: `Deployment ${id} deleted`, details: { taskSequenceId: d.taskSequenceId, collectionId: d.collectionId } });
  });
}

/** record that a computer started a Required deployment from PXE. */
export function recordRequiredPxeStart(ctx: SiteContext, computerId: string, deploymentId: string): void {
  write(ctx, () => {
    addPxeStart(ctx.db, computerId, deploymentId, ctx.now());
  });
}

/** "Clear Required PXE Deployments" for a computer or every member of a collection. */
export function clearRequiredPxe(ctx: SiteContext, actor: string, target: { computerId: string } | { collectionId: string }): number {
  const ids = 'computerId' in target ? [getComputer(ctx, target.computerId).id] : [...(ctx.snapshot.get().members.get(getCollection(ctx, target.collectionId).id) ?? [])];
  return write(ctx, () => {
    let cleared = 0;
    for (const id of ids) cleared += deletePxeStarts(ctx.db, { computerId: id });
    const what = 'computerId' in target ? `computer ${target.computerId}` : `collection ${target.collectionId}`;
    writeAudit(ctx, actor, { action: 'deployment.requiredPxeCleared', target: what, message: `Required PXE deployments cleared for ${what} (${cleared} records)`, details: { cleared } });
    return cleared;
  });
}

export const allDeployments = (ctx: SiteContext): Deployment[] => allDocs<Deployment>(ctx.db, 'deployments').map(withDefaults);
