/**
 * What administrators read from status messages: a deployment's counts by state with
 * each computer's last state, a computer's run history, and the alerts that fire now.
 */
import { alertsFor, deploymentStates, runsOf, type Alert, type ComputerState, type DeploymentCounts, type RunSummary, type StatusMessage } from '../../policy/status.js';
import type { Deployment } from '../../policy/deployments/model.js';
import type { Page } from './repositories.js';
import type { SiteContext } from './context.js';
import { allDeployments, getDeployment } from './deployments.js';
import { getComputer } from './computers.js';
import { messagesOfComputer, messagesOfDeployment } from './status.js';

export interface ComputerStateView extends Omit<ComputerState, 'run'> {
  readonly name: string | null;
  readonly runId: string | null;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  /** The newest message: the step it is on, or how it ended. */
  readonly last: StatusMessage | null;
}

export interface DeploymentStatus {
  readonly deploymentId: string;
  readonly collectionId: string;
  readonly counts: DeploymentCounts;
  readonly computers: readonly ComputerStateView[];
}

/**
 * Targeted computers are the collection's members now. The built-in Unknown Computer objects
 * are placeholders, not machines: the machines they stand for count once they register and run.
 */
function targeted(ctx: SiteContext, d: Deployment): string[] {
  const site = ctx.snapshot.get();
  return [...(site.members.get(d.collectionId) ?? [])].filter((id) => site.computers.get(id)?.unknownArchitecture === null);
}

async function summarize(ctx: SiteContext, d: Deployment): Promise<{ counts: DeploymentCounts; computers: ComputerState[] }> {
  return deploymentStates(targeted(ctx, d), runsOf(await messagesOfDeployment(ctx, d.id)));
}

export async function deploymentStatus(ctx: SiteContext, deploymentId: string): Promise<DeploymentStatus> {
  const d = await getDeployment(ctx, deploymentId);
  const { counts, computers } = await summarize(ctx, d);
  const site = ctx.snapshot.get();
  return {
    deploymentId: d.id,
    collectionId: d.collectionId,
    counts,
    computers: computers.map((c) => ({
      computerId: c.computerId,
      name: site.computers.get(c.computerId)?.name ?? null,
      state: c.state,
      runId: c.run?.runId ?? null,
      startedAt: c.run?.startedAt ?? null,
      finishedAt: c.run?.finishedAt ?? null,
      last: c.run?.last ?? null,
    })),
  };
}

export interface ComputerStatus {
  readonly computerId: string;
  readonly name: string;
  /** Required deployments this computer started from PXE and that later PXE boots ignore. */
  readonly requiredPxeStarts: readonly { readonly deploymentId: string; readonly startedAt: number }[];
  readonly runs: readonly Omit<RunSummary, 'last'>[];
  /** Messages, newest first, paged. */
  readonly messages: Page<StatusMessage>;
}

export async function computerStatus(ctx: SiteContext, computerId: string, page: { offset: number; limit: number }): Promise<ComputerStatus> {
  const c = await getComputer(ctx, computerId);
  const all = await messagesOfComputer(ctx, c.id);
  const runs = runsOf(all).map(({ last: _last, ...r }) => r);
  const newestFirst = all.slice().reverse();
  const requiredPxeStarts = (await ctx.store.deployments.pxeStartsOf(c.id)).map((s) => ({ deploymentId: s.deploymentId, startedAt: s.startedAt }));
  return {
    computerId: c.id,
    name: c.name,
    requiredPxeStarts,
    runs,
    messages: { items: newestFirst.slice(page.offset, page.offset + page.limit), total: all.length, ...page },
  };
}

/** Alerts are evaluated when asked, against the injected clock, so they need no background job. */
export async function currentAlerts(ctx: SiteContext): Promise<Alert[]> {
  const now = ctx.now();
  const alerts: Alert[] = [];
  for (const d of await allDeployments(ctx))
    if (d.alerts.successBelow !== null || d.alerts.failureAbove !== null) alerts.push(...alertsFor(d, (await summarize(ctx, d)).counts, now));
  return alerts;
}
