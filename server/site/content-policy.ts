/**
 * The content part of the policy a machine runs: for each package its task
 * sequence references, the version to use, its manifest hash, and where to get it — the site's
 * own point first, remote points only when the deployment allows falling back to them — plus
 * whether it may run from the point. A changed package is offered only once a point holds it
 * redistribute before clients see it); until then machines keep the version points have.
 */
import { bestLocations } from '../../content/distribution.js';
import type { Program } from '../../content/model.js';
import type { ContentOption, Deployment } from '../../policy/deployments/model.js';
import type { TaskSequence } from '../../policy/task-sequences/model.js';
import { checkReferences } from '../../policy/task-sequences/references.js';
import { contentIndex } from './content.js';
import type { SiteContext } from './context.js';

export interface ContentLocation {
  readonly pointId: string;
  /** Base URL of the version: append a file's path (percent-encoded per segment). */
  readonly url: string;
  readonly local: boolean;
  /** Bearer token for a remote point; only in the client role's policy, like hidden values. */
  readonly token?: string;
}

export interface PackagePolicy {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  /** Null when no usable point holds any version (or the object has no source files). */
  readonly version: number | null;
  readonly manifestSha256: string | null;
  readonly runFromDistributionPoint: boolean;
  readonly locations: readonly ContentLocation[];
  /** A package's programs, so the engine can run one by name. */
  readonly programs?: readonly { readonly name: string; readonly commandLine: string }[];
}

export interface ContentPolicy {
  readonly option: ContentOption;
  readonly useRemoteDistributionPoint: boolean;
  /** The deployment runs content from the point (every package allowed it when it was made). */
  readonly runFromDistributionPoint: boolean;
  readonly packages: readonly PackagePolicy[];
}

export async function contentPolicy(ctx: SiteContext, deployment: Deployment, ts: TaskSequence, siteAddress: string, revealSecrets: boolean): Promise<ContentPolicy> {
  const { option, useRemoteDistributionPoint } = deployment.content;
  const runFromDp = option === 'runFromDistributionPoint';
  const refs = checkReferences(ts, contentIndex(ctx)).content;
  const points = await ctx.store.points.list();
  const eligible = points.filter((p) => p.kind === 'local' || (useRemoteDistributionPoint && p.kind === 'remote'));
  // Local first, then remote points in registration order.
  const order = [...eligible.filter((p) => p.kind === 'local'), ...eligible.filter((p) => p.kind === 'remote')];
  const held = await ctx.store.holdings.list({ contentIds: refs.map((r) => r.id) });
  const programs = await programsOf(ctx, refs.filter((r) => r.kind === 'package').map((r) => r.id));
  const bests = refs.map((info) => bestLocations(info.id, order.map((p) => p.id), held));
  const tokens = revealSecrets ? await clientTokensOf(ctx, order.filter((p) => p.kind === 'remote' && bests.some((b) => b?.pointIds.includes(p.id)))) : new Map<string, string>();
  const packages = refs.map((info, i): PackagePolicy => {
    const best = bests[i];
    const locations = (best?.pointIds ?? []).map((pointId): ContentLocation => {
      const point = order.find((p) => p.id === pointId)!;
      const base = point.kind === 'local' ? siteAddress : (point.url ?? '');
      const url = `${base.replace(/\/+$/, '')}/content/${encodeURIComponent(info.id)}/${best!.version}/`;
      const token = point.kind === 'remote' ? tokens.get(point.id) : undefined;
      return { pointId, url, local: point.kind === 'local', ...(token ? { token } : {}) };
    });
    return {
      id: info.id,
      kind: info.kind,
      name: info.name,
      version: best?.version ?? null,
      manifestSha256: best?.manifestSha256 ?? null,
      runFromDistributionPoint: runFromDp && info.kind !== 'bootImage' && info.allowRunFromDistributionPoint === true,
      locations,
      ...(info.kind === 'package' ? { programs: programs.get(info.id) ?? [] } : {}),
    };
  });
  return { option, useRemoteDistributionPoint, runFromDistributionPoint: runFromDp, packages };
}

/** The client tokens of the remote points machines are sent to. */
async function clientTokensOf(ctx: SiteContext, points: readonly { readonly id: string }[]): Promise<Map<string, string>> {
  const secrets = await Promise.all(points.map(async (p) => [p.id, (await ctx.store.points.secret(p.id))?.clientToken] as const));
  return new Map(secrets.filter((s): s is readonly [string, string] => typeof s[1] === 'string'));
}

/** Each package's programs, so the engine can run one by name. */
async function programsOf(ctx: SiteContext, ids: readonly string[]): Promise<Map<string, readonly Program[]>> {
  const objects = await Promise.all(ids.map((id) => ctx.store.content.get(id)));
  return new Map(objects.flatMap((o) => (o?.kind === 'package' ? [[o.id, o.programs] as const] : [])));
}
