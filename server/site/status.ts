/**
 * Status messages from engines: stored once each (the engine's message id makes a
 * resend after a lost answer harmless), with the time and the computer, and R-19 recorded
 * when a Required deployment starts from PXE.
 */
import type { StatusMessage } from '../../policy/status.js';
import type { Computer } from '../../policy/computers.js';
import { tryNormalizeMac } from '../../policy/normalize.js';
import type { Site } from '../../policy/site.js';
import { type SiteContext } from './context.js';
import type { StatusRow } from './repos/status.js';
import { statusRefusal, type ClientAccess } from './client-access.js';

/** What the API accepts: the message without the site's fields, identified by computerId or a MAC. */
export type StatusInput = Omit<StatusMessage, 'computerId' | 'receivedAt'> & { readonly computerId?: string; readonly mac?: string };

export const MAX_OUTPUT_TAIL_BYTES = 8 * 1024;
export const MAX_BATCH = 500;

export interface StatusResult {
  readonly accepted: number;
  readonly duplicates: number;
  /**
   * Messages that can never be stored (unknown computer…). They are answered, not retried: an
   * engine that kept resending them would block its whole buffer.
   */
  readonly rejected: readonly { readonly id: string; readonly reason: string }[];
}

function macOwner(site: Site, mac: string): string | null {
  const normal = tryNormalizeMac(mac);
  return normal ? (site.computerByMac.get(normal)?.id ?? null) : null;
}

/** From the policy state (a registration is in it once acknowledged): the hot path reads no database. */
function resolveComputer(site: Site, m: StatusInput): Computer | string {
  const id = m.computerId ?? (m.mac ? macOwner(site, m.mac) : null);
  if (!id) return m.mac ? `no computer has MAC address ${m.mac}; register the machine first (POST /api/v1/register, R-17)` : 'computerId or mac is required';
  const c = site.computers.get(id);
  if (!c) return `no computer ${id}`;
  if (c.unknownArchitecture !== null) return `${c.name} stands for machines that are not registered; register the machine first (POST /api/v1/register, R-17)`;
  return c;
}

/**
 * `access`: the client token's binding (docs/security.md): a message about another machine, or a
 * deployment that does not target it, is rejected. The batch is checked here, on the main thread,
 * against the policy state; it is stored by the status writer (a worker thread) in one transaction
 * with the R-19 records it starts, and this resolves once that has committed and the policy state
 * has the R-19 records (the next PXE boot of that machine already sees them).
 */
export async function recordStatus(ctx: SiteContext, batch: readonly StatusInput[], access: ClientAccess | null = null): Promise<StatusResult> {
  const rejected: { id: string; reason: string }[] = [];
  const rows: StatusRow[] = [];
  const site = ctx.snapshot.get();
  const deployments = site.deployments;
  for (const m of batch) {
    if (m.outputTail !== undefined && Buffer.byteLength(m.outputTail) > MAX_OUTPUT_TAIL_BYTES) {
      rejected.push({ id: m.id, reason: `outputTail is longer than ${MAX_OUTPUT_TAIL_BYTES} bytes` });
      continue;
    }
    const computer = resolveComputer(site, m);
    if (typeof computer === 'string') {
      rejected.push({ id: m.id, reason: computer });
      continue;
    }
    const refusal = access ? statusRefusal(ctx, access, computer, m.deploymentId, m.source) : null;
    if (refusal) {
      rejected.push({ id: m.id, reason: refusal });
      continue;
    }
    const { mac: _mac, ...rest } = m;
    const doc: StatusMessage = { ...rest, computerId: computer.id, receivedAt: ctx.now() };
    // only Required deployments are remembered; an Available one may be picked again.
    const requiredPxeStart = m.kind === 'runStarted' && m.source === 'pxe' && deployments.get(m.deploymentId)?.purpose === 'required';
    rows.push({ id: m.id, at: m.at, computerId: computer.id, deploymentId: m.deploymentId, kind: m.kind, doc: JSON.stringify(doc), requiredPxeStart });
  }
  let accepted = 0;
  let duplicates = 0;
  if (rows.length) {
    const written = await ctx.statusWriter.write(rows, ctx.now());
    for (const isNew of written.inserted) {
      if (isNew) accepted++;
      else duplicates++;
    }
    // A writer on a connection of its own (the SQLite worker) reports nothing itself; applying a
    // record the store reported already changes nothing.
    ctx.snapshot.apply(written.pxeStartsAdded.map((p) => ({ kind: 'pxeStart' as const, computerId: p.computerId, deploymentId: p.deploymentId, present: true })));
  }
  if (accepted > 0) ctx.log.debug({ accepted, duplicates, rejected: rejected.length }, 'status messages stored');
  for (const r of rejected) ctx.log.warn({ id: r.id, reason: r.reason }, 'status message rejected');
  return { accepted, duplicates, rejected };
}

export const messagesOfDeployment = (ctx: SiteContext, deploymentId: string): Promise<StatusMessage[]> => ctx.store.status.ofDeployment(deploymentId);

export const messagesOfComputer = (ctx: SiteContext, computerId: string): Promise<StatusMessage[]> => ctx.store.status.ofComputer(computerId);
