/**
 * Distribution points, groups, collection associations and distribution planning, as
 * pure functions over plain records: which points a request names, which of them still need
 * which version, and what a job's items add up to. The server stores these records and runs
 * the transfers; nothing here does I/O.
 */
import { currentVersion, type ContentObject } from './model.js';

export type PointKind = 'local' | 'remote';

export interface DistributionPoint {
  readonly id: string;
  readonly name: string;
  readonly kind: PointKind;
  /** Base URL of a remote point's osdeploy service; null for the site's own point. */
  readonly url: string | null;
  readonly description: string;
  /** Collections this point serves: "distribute to a collection" reaches it. */
  readonly collections: readonly string[];
  readonly createdAt: number;
}

export interface PointGroup {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly pointIds: readonly string[];
  readonly collections: readonly string[];
}

export type HoldingState = 'inProgress' | 'installed' | 'failed';

/** What one point holds (or is getting) of one version of one content object. */
export interface Holding {
  readonly pointId: string;
  readonly contentId: string;
  readonly version: number;
  readonly manifestSha256: string;
  readonly state: HoldingState;
  readonly reason: string | null;
  readonly jobId: string | null;
  readonly updatedAt: number;
}

export interface Targets {
  readonly pointIds?: readonly string[];
  readonly groupIds?: readonly string[];
  readonly collectionIds?: readonly string[];
}

export interface TargetProblem {
  readonly field: 'pointIds' | 'groupIds' | 'collectionIds';
  readonly id: string;
  readonly reason: string;
}

/** The points a request reaches, each once, in the order first named; unknown ids are problems. */
export function resolveTargets(t: Targets, points: readonly DistributionPoint[], groups: readonly PointGroup[]): { pointIds: string[]; problems: TargetProblem[] } {
  const known = new Set(points.map((p) => p.id));
  const out = new Set<string>();
  const problems: TargetProblem[] = [];
  for (const id of t.pointIds ?? []) {
    if (known.has(id)) out.add(id);
    else problems.push({ field: 'pointIds', id, reason: `no distribution point ${id}` });
  }
  for (const id of t.groupIds ?? []) {
    const g = groups.find((x) => x.id === id);
    if (!g) problems.push({ field: 'groupIds', id, reason: `no distribution point group ${id}` });
    else for (const p of g.pointIds) if (known.has(p)) out.add(p);
  }
  for (const id of t.collectionIds ?? []) {
    const direct = points.filter((p) => p.collections.includes(id)).map((p) => p.id);
    const viaGroups = groups.filter((g) => g.collections.includes(id)).flatMap((g) => g.pointIds);
    const reached = [...direct, ...viaGroups].filter((p) => known.has(p));
    if (reached.length === 0) problems.push({ field: 'collectionIds', id, reason: `collection ${id} has no associated distribution point or group` });
    for (const p of reached) out.add(p);
  }
  return { pointIds: [...out], problems };
}

export interface PlanItem {
  readonly pointId: string;
  readonly contentId: string;
  readonly version: number;
  readonly manifestSha256: string;
  readonly bytes: number;
  readonly files: number;
}

export interface Skipped {
  readonly pointId: string | null;
  readonly contentId: string;
  readonly version: number | null;
  readonly reason: string;
}

export interface Plan {
  readonly items: readonly PlanItem[];
  readonly skipped: readonly Skipped[];
  /** Content that cannot be distributed at all (R-04: nothing imported yet). */
  readonly problems: readonly Skipped[];
}

const holdingOf = (holdings: readonly Holding[], pointId: string, contentId: string, version: number): Holding | undefined =>
  holdings.find((h) => h.pointId === pointId && h.contentId === contentId && h.version === version);

/**
 * Which point needs which current version. A point that holds it installed is skipped, unless
 * `redistribute` asks to send it again (a repair after validation found damage); one already
 * getting it is skipped either way.
 */
export function planDistribution(content: readonly ContentObject[], pointIds: readonly string[], holdings: readonly Holding[], redistribute = false): Plan {
  const items: PlanItem[] = [];
  const skipped: Skipped[] = [];
  const problems: Skipped[] = [];
  for (const c of content) {
    const v = currentVersion(c);
    if (!v) {
      if (c.withoutSource) skipped.push({ pointId: null, contentId: c.id, version: null, reason: 'has no source files: nothing to distribute' });
      else problems.push({ pointId: null, contentId: c.id, version: null, reason: `${c.name} (${c.id}) has no content version; import its source first` });
      continue;
    }
    for (const pointId of pointIds) {
      const h = holdingOf(holdings, pointId, c.id, v.version);
      if (h?.state === 'inProgress') skipped.push({ pointId, contentId: c.id, version: v.version, reason: `version ${v.version} is already being distributed (job ${h.jobId ?? '?'})` });
      else if (h?.state === 'installed' && h.manifestSha256 === v.manifestSha256 && !redistribute)
        skipped.push({ pointId, contentId: c.id, version: v.version, reason: `already holds version ${v.version}` });
      else items.push({ pointId, contentId: c.id, version: v.version, manifestSha256: v.manifestSha256, bytes: v.totalSize, files: v.files.length });
    }
  }
  return { items, skipped, problems };
}

/** True when the point holds (or is receiving) the current version of every object that has one. */
export function holdsAll(pointId: string, content: readonly ContentObject[], holdings: readonly Holding[]): boolean {
  return content.every((c) => {
    const v = currentVersion(c);
    if (!v) return true;
    const h = holdingOf(holdings, pointId, c.id, v.version);
    return h !== undefined && h.state !== 'failed' && h.manifestSha256 === v.manifestSha256;
  });
}

/**
 * The points the Distribute Content wizard offers: those that already hold every current
 * version are not listed (seed: "that distribution point is not listed").
 */
export function offeredPoints(points: readonly DistributionPoint[], content: readonly ContentObject[], holdings: readonly Holding[]): DistributionPoint[] {
  return points.filter((p) => !holdsAll(p.id, content, holdings));
}

/** The newest installed version that any of `pointIds` holds, and the points holding it in the given order. */
export function bestLocations(contentId: string, pointIds: readonly string[], holdings: readonly Holding[]): { version: number; manifestSha256: string; pointIds: string[] } | null {
  const installed = holdings.filter((h) => h.contentId === contentId && h.state === 'installed' && pointIds.includes(h.pointId));
  if (installed.length === 0) return null;
  const version = Math.max(...installed.map((h) => h.version));
  const at = installed.filter((h) => h.version === version);
  return { version, manifestSha256: at[0]!.manifestSha256, pointIds: pointIds.filter((p) => at.some((h) => h.pointId === p)) };
}
