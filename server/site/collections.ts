/** Collections: create with rules, update, delete (and its variables, R-23), membership. */
import {
  ALL_SYSTEMS_ID,
  builtInCollections,
  checkCollectionGraph,
  newCollection,
  type Collection,
  type CollectionInput,
} from '../../policy/collections.js';
import { conflict, notFound } from '../../policy/errors.js';
import { maskVariables, type VariableView } from '../../policy/variables.js';
import { audit, transact, type SiteContext } from './context.js';
import type { SiteRepos } from './repositories.js';
import { CollectionNameTaken } from './repos/collections.js';

export interface CollectionView extends Omit<Collection, 'variables'> {
  readonly variables: readonly VariableView[];
  readonly memberCount: number;
}

export function collectionView(ctx: SiteContext, c: Collection): CollectionView {
  return { ...c, variables: maskVariables(c.variables), memberCount: ctx.snapshot.get().members.get(c.id)?.size ?? 0 };
}

async function store(tx: SiteRepos, c: Collection): Promise<void> {
  try {
    await tx.collections.put(c);
  } catch (e) {
    if (e instanceof CollectionNameTaken) throw conflict(`a collection named ${c.name} already exists`, 'name');
    throw e;
  }
}

/** The whole graph is checked inside the transaction, so a cycle or dangling rule never lands. */
async function checkGraph(tx: SiteRepos): Promise<void> {
  const all = new Map((await tx.collections.list()).map((c) => [c.id, c]));
  const computers = await tx.computers.existing([...all.values()].flatMap((c) => c.directMemberIds));
  checkCollectionGraph(all, (id) => computers.has(id));
}

export async function ensureBuiltInCollections(ctx: SiteContext): Promise<void> {
  await transact(ctx, async (tx) => {
    for (const c of builtInCollections()) {
      await tx.ids.hold(c.id, 'collection');
      if (!(await tx.collections.get(c.id))) await store(tx, c);
    }
  });
}

/** The collection, read through `repos` (the store, or a transaction's repositories). */
export async function readCollection(repos: Pick<SiteRepos, 'collections'>, id: string): Promise<Collection> {
  const c = await repos.collections.get(id);
  if (!c) throw notFound(`no collection ${id}`, 'id');
  return c;
}

export const getCollection = (ctx: SiteContext, id: string): Promise<Collection> => readCollection(ctx.store, id);

/** Collection ids: site code and five hex digits, as Configuration Manager's. */
const nextCollectionId = (tx: SiteRepos, ctx: SiteContext): Promise<string> => tx.ids.claim('collection', (n) => `${ctx.siteCode}${(0x10 + n).toString(16).toUpperCase().padStart(5, '0')}`);

export function createCollection(ctx: SiteContext, actor: string, input: CollectionInput): Promise<Collection> {
  return transact(ctx, async (tx) => {
    const c = newCollection(await nextCollectionId(tx, ctx), input);
    await store(tx, c);
    await checkGraph(tx);
    await audit(tx, ctx, actor, { action: 'collection.created', target: c.id, message: `Collection ${c.name} (${c.id}) created`, details: {} });
    return c;
  });
}

export function updateCollection(ctx: SiteContext, actor: string, id: string, patch: Partial<CollectionInput>): Promise<Collection> {
  return transact(ctx, async (tx) => {
    const current = await readCollection(tx, id);
    if (current.builtIn) throw conflict(`${current.name} is built in and cannot be changed`, 'id');
    const next = newCollection(id, {
      name: patch.name ?? current.name,
      description: patch.description ?? current.description,
      limitingCollectionId: patch.limitingCollectionId === undefined ? current.limitingCollectionId : patch.limitingCollectionId,
      directMemberIds: patch.directMemberIds ?? current.directMemberIds,
      includeCollectionIds: patch.includeCollectionIds ?? current.includeCollectionIds,
      excludeCollectionIds: patch.excludeCollectionIds ?? current.excludeCollectionIds,
      variables: patch.variables ?? current.variables,
      variablePrecedence: patch.variablePrecedence ?? current.variablePrecedence,
    });
    await store(tx, next);
    await checkGraph(tx);
    await audit(tx, ctx, actor, { action: 'collection.updated', target: id, message: `Collection ${next.name} (${id}) updated`, details: { fields: Object.keys(patch) } });
    return next;
  });
}

/** Deleting a collection deletes its variables with it (they live in its document, R-23). */
export async function deleteCollection(ctx: SiteContext, actor: string, id: string): Promise<void> {
  await transact(ctx, async (tx) => {
    const c = await readCollection(tx, id);
    if (c.builtIn) throw conflict(`${c.name} is built in and cannot be deleted`, 'id');
    const dependents = (await tx.collections.list()).filter(
      (o) => o.limitingCollectionId === id || o.includeCollectionIds.includes(id) || o.excludeCollectionIds.includes(id),
    );
    if (dependents.length) throw conflict(`collection ${id} is used by the rules of ${dependents.map((d) => d.id).join(', ')}`, 'id');
    const deployed = await tx.deployments.ofCollection(id);
    if (deployed.length) throw conflict(`collection ${id} has deployments ${deployed.map((d) => d.id).join(', ')}; delete them first`, 'id');
    await tx.collections.delete(id);
    await audit(tx, ctx, actor, { action: 'collection.deleted', target: id, message: `Collection ${c.name} (${id}) deleted with its ${c.variables.length} variables`, details: {} });
  });
}

export function listCollections(ctx: SiteContext): Promise<Collection[]> {
  return ctx.store.collections.list();
}

export async function collectionMembers(ctx: SiteContext, id: string): Promise<string[]> {
  await getCollection(ctx, id);
  return [...(ctx.snapshot.get().members.get(id) ?? [])].sort();
}

export { ALL_SYSTEMS_ID };
