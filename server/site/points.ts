/**
 * Distribution points, groups and collection associations. The site's own point is made
 * on first start and shares the site's store; remote points are other osdeploy services,
 * registered by URL and one of their admin tokens, which the site checks and uses to mint a
 * client token for the machines that will download from them. Tokens are write-only.
 *
 * Records go through the repositories (repos/points.ts). Remote calls happen before the
 * transaction that stores what they returned, and collections are checked before it too (their
 * reads are calls of their own). Ids are claimed in the transaction, so one that rolls back
 * gives its id back.
 */
import type { DistributionPoint, PointGroup } from '../../content/distribution.js';
import { conflict, invalid, notFound, PolicyError } from '../../policy/errors.js';
import { normalizeName } from '../../policy/normalize.js';
import { getCollection } from './collections.js';
import { audit, transact, type SiteContext } from './context.js';
import { RemotePointClient, RemotePointError } from './remote-point.js';
import { PointNameTaken } from './repos/points.js';
import type { SiteRepos } from './repositories.js';

export const LOCAL_POINT_NAME = 'Site distribution point';

/** A put refused for a name another point or group has answers 409 naming the field. */
async function orConflict(put: Promise<void>): Promise<void> {
  try {
    await put;
  } catch (e) {
    throw e instanceof PointNameTaken ? conflict(e.message, 'name') : e;
  }
}

/** The site's own point, made inside the caller's transaction when there is none yet. */
export async function localPointIn(tx: SiteRepos, ctx: SiteContext): Promise<DistributionPoint> {
  const existing = (await tx.points.list()).find((p) => p.kind === 'local');
  if (existing) return existing;
  const point: DistributionPoint = { id: await tx.ids.claim('point', (n) => `DP${n}`), name: LOCAL_POINT_NAME, kind: 'local', url: null, description: 'the site store', collections: [], createdAt: ctx.now() };
  // A built-in, like All Systems: made silently, no audit record.
  await tx.points.put(point, null);
  return point;
}

/** First start: the site's own point, holding nothing until content is distributed to it. */
export const ensureLocalPoint = (ctx: SiteContext): Promise<DistributionPoint> => transact(ctx, (tx) => localPointIn(tx, ctx));

export type PointView = DistributionPoint & { readonly hasToken: boolean; readonly holdings: { readonly installed: number; readonly inProgress: number; readonly failed: number } };

export async function pointView(repos: SiteRepos, p: DistributionPoint): Promise<PointView> {
  const held = await repos.holdings.list({ pointId: p.id });
  const count = (s: string) => held.filter((h) => h.state === s).length;
  const hasToken = p.kind === 'remote' && (await repos.points.secret(p.id)) !== null;
  return { ...p, hasToken, holdings: { installed: count('installed'), inProgress: count('inProgress'), failed: count('failed') } };
}

export async function getPointOr404(repos: SiteRepos, id: string): Promise<DistributionPoint> {
  const p = await repos.points.get(id);
  if (!p) throw notFound(`no distribution point ${id}`, 'id');
  return p;
}

export async function listPoints(ctx: SiteContext): Promise<PointView[]> {
  const views: PointView[] = [];
  for (const p of await ctx.store.points.list()) views.push(await pointView(ctx.store, p));
  return views;
}

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
export async function addRemotePoint(ctx: SiteContext, actor: string, input: RemotePointInput, fetchFn?: typeof fetch): Promise<PointView> {
  const url = normaliseUrl(input.url);
  const name = normalizeName(input.name);
  // Checked before the remote calls too, so a clash mints no token there; the put checks again.
  if ((await ctx.store.points.list()).some((p) => p.name === name)) throw conflict(`a distribution point named ${name} exists`, 'name');
  const client = new RemotePointClient(url, input.token, fetchFn);
  let clientToken: string;
  try {
    await client.inventory(AbortSignal.timeout(15_000));
    clientToken = await client.mintClientToken(`clients of site ${ctx.siteCode}`, AbortSignal.timeout(15_000));
  } catch (e) {
    if (e instanceof RemotePointError) throw new PolicyError('refused', e.message, { field: 'url', rule: 'R-07' });
    throw e;
  }
  return transact(ctx, async (tx) => {
    const point: DistributionPoint = { id: await tx.ids.claim('point', (n) => `DP${n}`), name, kind: 'remote', url, description: input.description ?? '', collections: [], createdAt: ctx.now() };
    await orConflict(tx.points.put(point, { token: input.token, clientToken }));
    await audit(tx, ctx, actor, { action: 'point.created', target: point.id, message: `Distribution point ${name} (${point.id}) at ${url} registered`, details: { kind: 'remote', url } });
    return pointView(tx, point);
  });
}

/** New associations must name existing collections; ones already there may outlive theirs. */
async function checkCollections(ctx: SiteContext, ids: readonly string[], before: readonly string[]): Promise<string[]> {
  for (const id of ids) if (!before.includes(id)) await getCollection(ctx, id);
  return [...new Set(ids)];
}

/** A new list of collections, from the one stored when the transaction reads it (associate edits it there). */
type CollectionsEdit = (current: readonly string[]) => readonly string[];

export interface PointPatch {
  readonly name?: string;
  readonly description?: string;
  readonly collections?: readonly string[];
}

export async function updatePoint(ctx: SiteContext, actor: string, id: string, patch: PointPatch): Promise<PointView> {
  let collections: CollectionsEdit | undefined;
  if (patch.collections !== undefined) {
    const checked = await checkCollections(ctx, patch.collections, (await getPointOr404(ctx.store, id)).collections);
    collections = () => checked;
  }
  return editPoint(ctx, actor, id, { ...patch, collections }, Object.keys(patch));
}

async function editPoint(ctx: SiteContext, actor: string, id: string, patch: Omit<PointPatch, 'collections'> & { collections?: CollectionsEdit | undefined }, fields: readonly string[]): Promise<PointView> {
  return transact(ctx, async (tx) => {
    const p = await getPointOr404(tx, id);
    const next: DistributionPoint = {
      ...p,
      ...(patch.name === undefined ? {} : { name: normalizeName(patch.name) }),
      ...(patch.description === undefined ? {} : { description: patch.description }),
      ...(patch.collections === undefined ? {} : { collections: [...patch.collections(p.collections)] }),
    };
    await orConflict(tx.points.put(next));
    await audit(tx, ctx, actor, { action: 'point.updated', target: id, message: `Distribution point ${next.name} (${id}) updated`, details: { fields } });
    return pointView(tx, next);
  });
}

export async function deletePoint(ctx: SiteContext, actor: string, id: string): Promise<void> {
  await transact(ctx, async (tx) => {
    const p = await getPointOr404(tx, id);
    if (p.kind === 'local') throw conflict('the site distribution point cannot be removed', 'id');
    if ((await tx.holdings.list({ pointId: id })).some((h) => h.state === 'inProgress')) throw conflict(`distribution to ${p.name} (${id}) is in progress`, 'id');
    for (const g of await tx.pointGroups.list()) if (g.pointIds.includes(id)) await tx.pointGroups.put({ ...g, pointIds: g.pointIds.filter((x) => x !== id) });
    // Its holdings go with it.
    await tx.points.delete(id);
    await audit(tx, ctx, actor, { action: 'point.deleted', target: id, message: `Distribution point ${p.name} (${id}) removed`, details: {} });
  });
}

export interface GroupInput {
  readonly name?: string;
  readonly description?: string;
  readonly pointIds?: readonly string[];
  readonly collections?: readonly string[];
}

export async function getGroupOr404(repos: SiteRepos, id: string): Promise<PointGroup> {
  const g = await repos.pointGroups.get(id);
  if (!g) throw notFound(`no distribution point group ${id}`, 'id');
  return g;
}

export const listGroups = (ctx: SiteContext): Promise<PointGroup[]> => ctx.store.pointGroups.list();

export async function saveGroup(ctx: SiteContext, actor: string, id: string | null, input: GroupInput): Promise<PointGroup> {
  const before = id ? await getGroupOr404(ctx.store, id) : null;
  if (!before && input.name === undefined) throw invalid('name is required', 'name');
  const checked = input.collections ? await checkCollections(ctx, input.collections, before?.collections ?? []) : undefined;
  return writeGroup(ctx, actor, id, input, checked ? () => checked : undefined);
}

async function writeGroup(ctx: SiteContext, actor: string, id: string | null, input: Omit<GroupInput, 'collections'>, collections: CollectionsEdit | undefined): Promise<PointGroup> {
  return transact(ctx, async (tx) => {
    const base = id ? await getGroupOr404(tx, id) : null;
    for (const p of input.pointIds ?? []) if (!(await tx.points.get(p))) throw notFound(`no distribution point ${p}`, 'pointIds');
    const group: PointGroup = {
      id: base?.id ?? (await tx.ids.claim('pointGroup', (n) => `DPG${n}`)),
      name: input.name === undefined ? base!.name : normalizeName(input.name),
      description: input.description ?? base?.description ?? '',
      pointIds: input.pointIds ? [...new Set(input.pointIds)] : (base?.pointIds ?? []),
      collections: collections ? [...collections(base?.collections ?? [])] : (base?.collections ?? []),
    };
    await orConflict(tx.pointGroups.put(group));
    const verb = base ? 'updated' : 'created';
    await audit(tx, ctx, actor, { action: `pointGroup.${verb}`, target: group.id, message: `Distribution point group ${group.name} (${group.id}) ${verb}`, details: { pointIds: group.pointIds } });
    return group;
  });
}

export async function deleteGroup(ctx: SiteContext, actor: string, id: string): Promise<void> {
  await transact(ctx, async (tx) => {
    const g = await getGroupOr404(tx, id);
    await tx.pointGroups.delete(id);
    await audit(tx, ctx, actor, { action: 'pointGroup.deleted', target: id, message: `Distribution point group ${g.name} (${id}) deleted`, details: {} });
  });
}

/** Points and groups serving a collection: what "distribute to the collection" reaches. */
export async function associations(ctx: SiteContext, collectionId: string) {
  await getCollection(ctx, collectionId);
  return {
    collectionId,
    pointIds: (await ctx.store.points.list()).filter((p) => p.collections.includes(collectionId)).map((p) => p.id),
    groupIds: (await ctx.store.pointGroups.list()).filter((g) => g.collections.includes(collectionId)).map((g) => g.id),
  };
}

export async function associate(ctx: SiteContext, actor: string, collectionId: string, target: { pointId?: string; groupId?: string }, on: boolean) {
  if (!target.pointId === !target.groupId) throw invalid('give exactly one of pointId or groupId', 'pointId');
  if (on) await getCollection(ctx, collectionId);
  // Applied to the list the transaction reads, so two associations at once both land.
  const edit: CollectionsEdit = (list) => (on ? [...new Set([...list, collectionId])] : list.filter((c) => c !== collectionId));
  if (target.pointId) await editPoint(ctx, actor, target.pointId, { collections: edit }, ['collections']);
  else await writeGroup(ctx, actor, target.groupId!, {}, edit);
  return associations(ctx, collectionId);
}
