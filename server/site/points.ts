/**
 * Distribution points, groups and collection associations. The site's own point is made
 * on first start and shares the site's store; remote points are other osdeploy services,
 * registered by URL and one of their admin tokens, which the site checks and uses to mint a
 * client token for the machines that will download from them. Tokens are write-only.
 */
import type { DistributionPoint, PointGroup } from '../../content/distribution.js';
import { conflict, invalid, notFound, PolicyError } from '../../policy/errors.js';
import { normalizeName } from '../../policy/normalize.js';
import { claimId } from '../store/db.js';
import { allGroups, allPoints, getGroup, getPoint, holdings, pointSecret, putGroup, putPoint } from '../store/points.js';
import { deleteRow } from '../store/docs.js';
import { getCollection } from './collections.js';
import { write, writeAudit, type SiteContext } from './context.js';
import { RemotePointClient, RemotePointError } from './remote-point.js';

export const LOCAL_POINT_NAME = 'Site distribution point';

const isUnique = (e: unknown): boolean => /UNIQUE constraint failed/.test((e as Error)?.message ?? '');

/** First start: the site's own point, holding nothing until content is distributed to it. */
export function ensureLocalPoint(ctx: SiteContext): DistributionPoint {
  const existing = allPoints(ctx.db).find((p) => p.kind === 'local');
  if (existing) return existing;
  return write(ctx, () => {
    const point: DistributionPoint = { id: claimId(ctx.db, 'point', (n) => `DP${n}`), name: LOCAL_POINT_NAME, kind: 'local', url: null, description: 'the site store', collections: [], createdAt: ctx.now() };
    // A built-in, like All Systems: made silently, no audit record.
    putPoint(ctx.db, point, null);
    return point;
  });
}

export function localPoint(ctx: SiteContext): DistributionPoint {
  return allPoints(ctx.db).find((p) => p.kind === 'local') ?? ensureLocalPoint(ctx);
}

export function pointView(ctx: SiteContext, p: DistributionPoint) {
  const held = holdings(ctx.db, { pointId: p.id });
  const count = (s: string) => held.filter((h) => h.state === s).length;
  return { ...p, hasToken: p.kind === 'remote' && pointSecret(ctx.db, p.id) !== null, holdings: { installed: count('installed'), inProgress: count('inProgress'), failed: count('failed') } };
}

export function getPointOr404(ctx: SiteContext, id: string): DistributionPoint {
  const p = getPoint(ctx.db, id);
  if (!p) throw notFound(`no distribution point ${id}`, 'id');
  return p;
}

export const listPoints = (ctx: SiteContext) => allPoints(ctx.db).map((p) => pointView(ctx, p));

function normaliseUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw invalid('url must be an absolute http(s) URL', 'url');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid('url must be http or https', 'url');
  if (u.username || u.password || u.search || u.hash) throw invalid('url must carry no credentials, query or fragment; give the token separately', 'url');
  return u.toString().replace(/\/+$/, '');
}

export interface RemotePointInput {
  readonly name: string;
  readonly url: string;
  readonly token: string;
  readonly description?: string;
}

/** Registers a remote point after checking it answers with that token; mints its client token. */
export async function addRemotePoint(ctx: SiteContext, actor: string, input: RemotePointInput, fetchFn?: typeof fetch) {
  const url = normaliseUrl(input.url);
  const name = normalizeName(input.name);
  if (allPoints(ctx.db).some((p) => p.name === name)) throw conflict(`a distribution point named ${name} exists`, 'name');
  const client = new RemotePointClient(url, input.token, fetchFn);
  let clientToken: string;
  try {
    await client.inventory(AbortSignal.timeout(15_000));
    clientToken = await client.mintClientToken(`clients of site ${ctx.siteCode}`, AbortSignal.timeout(15_000));
  } catch (e) {
    if (e instanceof RemotePointError) throw new PolicyError('refused', e.message, { field: 'url', rule: 'R-07' });
    throw e;
  }
  return write(ctx, () => {
    const point: DistributionPoint = { id: claimId(ctx.db, 'point', (n) => `DP${n}`), name, kind: 'remote', url, description: input.description ?? '', collections: [], createdAt: ctx.now() };
    try {
      putPoint(ctx.db, point, { token: input.token, clientToken });
    } catch (e) {
      if (isUnique(e)) throw conflict(`a distribution point named ${name} exists`, 'name');
      throw e;
    }
    writeAudit(ctx, actor, { action: 'point.created', target: point.id, message: `Distribution point ${name} (${point.id}) at ${url} registered`, details: { kind: 'remote', url } });
    return pointView(ctx, point);
  });
}

/** New associations must name existing collections; ones already there may outlive theirs. */
const checkCollections = (ctx: SiteContext, ids: readonly string[], before: readonly string[]): string[] => {
  for (const id of ids) if (!before.includes(id)) getCollection(ctx, id);
  return [...new Set(ids)];
};

export function updatePoint(ctx: SiteContext, actor: string, id: string, patch: { name?: string; description?: string; collections?: readonly string[] }) {
  return write(ctx, () => {
    const p = getPointOr404(ctx, id);
    const next: DistributionPoint = {
      ...p,
      ...(patch.name === undefined ? {} : { name: normalizeName(patch.name) }),
      ...(patch.description === undefined ? {} : { description: patch.description }),
      ...(patch.collections === undefined ? {} : { collections: checkCollections(ctx, patch.collections, p.collections) }),
    };
    try {
      putPoint(ctx.db, next);
    } catch (e) {
      if (isUnique(e)) throw conflict(`a distribution point named ${next.name} exists`, 'name');
      throw e;
    }
    writeAudit(ctx, actor, { action: 'point.updated', target: id, message: `Distribution point ${next.name} (${id}) updated`, details: { fields: Object.keys(patch) } });
    return pointView(ctx, next);
  });
}

export function deletePoint(ctx: SiteContext, actor: string, id: string): void {
  write(ctx, () => {
    const p = getPointOr404(ctx, id);
    if (p.kind === 'local') throw conflict('the site distribution point cannot be removed', 'id');
    if (holdings(ctx.db, { pointId: id }).some((h) => h.state === 'inProgress')) throw conflict(`distribution to ${p.name} (${id}) is in progress`, 'id');
    for (const g of allGroups(ctx.db)) if (g.pointIds.includes(id)) putGroup(ctx.db, { ...g, pointIds: g.pointIds.filter((x) => x !== id) });
    ctx.db.prepare('DELETE FROM point_content WHERE point_id = ?').run(id);
    deleteRow(ctx.db, 'distribution_points', id);
    writeAudit(ctx, actor, { action: 'point.deleted', target: id, message: `Distribution point ${p.name} (${id}) removed`, details: {} });
  });
}

export interface GroupInput {
  readonly name?: string;
  readonly description?: string;
  readonly pointIds?: readonly string[];
  readonly collections?: readonly string[];
}

export function getGroupOr404(ctx: SiteContext, id: string): PointGroup {
  const g = getGroup(ctx.db, id);
  if (!g) throw notFound(`no distribution point group ${id}`, 'id');
  return g;
}

export const listGroups = (ctx: SiteContext): PointGroup[] => allGroups(ctx.db);

export function saveGroup(ctx: SiteContext, actor: string, id: string | null, input: GroupInput): PointGroup {
  return write(ctx, () => {
    const base = id ? getGroupOr404(ctx, id) : null;
    if (!base && input.name === undefined) throw invalid('name is required', 'name');
    for (const p of input.pointIds ?? []) if (!getPoint(ctx.db, p)) throw notFound(`no distribution point ${p}`, 'pointIds');
    const group: PointGroup = {
      id: base?.id ?? claimId(ctx.db, 'pointGroup', (n) => `DPG${n}`),
      name: input.name === undefined ? base!.name : normalizeName(input.name),
      description: input.description ?? base?.description ?? '',
      pointIds: input.pointIds ? [...new Set(input.pointIds)] : (base?.pointIds ?? []),
      collections: input.collections ? checkCollections(ctx, input.collections, base?.collections ?? []) : (base?.collections ?? []),
    };
    try {
      putGroup(ctx.db, group);
    } catch (e) {
      if (isUnique(e)) throw conflict(`a distribution point group named ${group.name} exists`, 'name');
      throw e;
    }
    const verb = base ? 'updated' : 'created';
    writeAudit(ctx, actor, { action: `pointGroup.${verb}`, target: group.id, message: `Distribution point group ${group.name} (${group.id}) ${verb}`, details: { pointIds: group.pointIds } });
    return group;
  });
}

export function deleteGroup(ctx: SiteContext, actor: string, id: string): void {
  write(ctx, () => {
    const g = getGroupOr404(ctx, id);
    deleteRow(ctx.db, 'distribution_point_groups', id);
    writeAudit(ctx, actor, { action: 'pointGroup.deleted', target: id, message: `Distribution point group ${g.name} (${id}) deleted`, details: {} });
  });
}

/** Points and groups serving a collection: what "distribute to the collection" reaches. */
export function associations(ctx: SiteContext, collectionId: string) {
  getCollection(ctx, collectionId);
  return {
    collectionId,
    pointIds: allPoints(ctx.db).filter((p) => p.collections.includes(collectionId)).map((p) => p.id),
    groupIds: allGroups(ctx.db).filter((g) => g.collections.includes(collectionId)).map((g) => g.id),
  };
}

export function associate(ctx: SiteContext, actor: string, collectionId: string, target: { pointId?: string; groupId?: string }, on: boolean) {
  if (!target.pointId === !target.groupId) throw invalid('give exactly one of pointId or groupId', 'pointId');
  const edit = (list: readonly string[]) => (on ? [...new Set([...list, collectionId])] : list.filter((c) => c !== collectionId));
  if (target.pointId) {
    const p = getPointOr404(ctx, target.pointId);
    updatePoint(ctx, actor, p.id, { collections: edit(p.collections) });
  } else {
    const g = getGroupOr404(ctx, target.groupId!);
    saveGroup(ctx, actor, g.id, { collections: edit(g.collections) });
  }
  return associations(ctx, collectionId);
}
