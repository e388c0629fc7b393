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
import { claimId, holdId } from '../store/db.js';
import { allDocs, deleteRow, getDoc, putDoc } from '../store/docs.js';
import { asConflict } from '../store/sqlite-errors.js';
import { write, writeAudit, type SiteContext } from './context.js';

export interface CollectionView extends Omit<Collection, 'variables'> {
  readonly variables: readonly VariableView[];
  readonly memberCount: number;
}

export function collectionView(ctx: SiteContext, c: Collection): CollectionView {
  return { ...c, variables: maskVariables(c.variables), memberCount: ctx.snapshot.get().members.get(c.id)?.size ?? 0 };
}

function store(ctx: SiteContext, c: Collection): void {
  try {
    putDoc(ctx.db, 'collections', c.id, { name: c.name }, c);
  } catch (e) {
    asConflict(e, { 'collections.name': `a collection named ${c.name} already exists` });
  }
}

/** The whole graph is checked inside the transaction, so a cycle or dangling rule never lands. */
function checkGraph(ctx: SiteContext): void {
  const all = new Map(allDocs<Collection>(ctx.db, 'collections').map((c) => [c.id, c]));
  const exists = ctx.db.prepare('SELECT 1 FROM computers WHERE id = ?');
  checkCollectionGraph(all, (id) => exists.get(id) !== undefined);
}

export function ensureBuiltInCollections(ctx: SiteContext): void {
  write(ctx, () => {
    for (const c of builtInCollections()) {
      holdId(ctx.db, c.id, 'collection');
      if (!getDoc(ctx.db, 'collections', c.id)) store(ctx, c);
    }
  });
}

export function getCollection(ctx: SiteContext, id: string): Collection {
  const c = getDoc<Collection>(ctx.db, 'collections', id);
  if (!c) throw notFound(`no collection ${id}`, 'id');
  return c;
}

/** Collection ids: site code and five hex digits, as Configuration Manager's. */
const nextCollectionId = (ctx: SiteContext): string => claimId(ctx.db, 'collection', (n) => `${ctx.siteCode}${(0x10 + n).toString(16).toUpperCase().padStart(5, '0')}`);

export function createCollection(ctx: SiteContext, actor: string, input: CollectionInput): Collection {
  return write(ctx, () => {
    const c = newCollection(nextCollectionId(ctx), input);
    store(ctx, c);
    checkGraph(ctx);
    writeAudit(ctx, actor, { action: 'collection.created', target: c.id, message: `Collection ${c.name} (${c.id}) created`, details: {} });
    return c;
  });
}

export function updateCollection(ctx: SiteContext, actor: string, id: string, patch: Partial<CollectionInput>): Collection {
  return write(ctx, () => {
    const current = getCollection(ctx, id);
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
    store(ctx, next);
    checkGraph(ctx);
    writeAudit(ctx, actor, { action: 'collection.updated', target: id, message: `Collection ${next.name} (${id}) updated`, details: { fields: Object.keys(patch) } });
    return next;
  });
}

/** Deleting a collection deletes its variables with it (they live in its document, R-23). */
export function deleteCollection(ctx: SiteContext, actor: string, id: string): void {
  write(ctx, () => {
    const c = getCollection(ctx, id);
    if (c.builtIn) throw conflict(`${c.name} is built in and cannot be deleted`, 'id');
    const dependents = allDocs<Collection>(ctx.db, 'collections').filter(
      (o) => o.limitingCollectionId === id || o.includeCollectionIds.includes(id) || o.excludeCollectionIds.includes(id),
    );
    if (dependents.length) throw conflict(`collection ${id} is used by the rules of ${dependents.map((d) => d.id).join(', ')}`, 'id');
    const deployed = ctx.db.prepare('SELECT id FROM deployments WHERE collection_id = ?').all(id) as { id: string }[];
    if (deployed.length) throw conflict(`collection ${id} has deployments ${deployed.map((d) => d.id).join(', ')}; delete them first`, 'id');
    deleteRow(ctx.db, 'collections', id);
    writeAudit(ctx, actor, { action: 'collection.deleted', target: id, message: `Collection ${c.name} (${id}) deleted with its ${c.variables.length} variables`, details: {} });
  });
}

export function listCollections(ctx: SiteContext): Collection[] {
  return allDocs<Collection>(ctx.db, 'collections');
}

export function collectionMembers(ctx: SiteContext, id: string): string[] {
  getCollection(ctx, id);
  return [...(ctx.snapshot.get().members.get(id) ?? [])].sort();
}

export { ALL_SYSTEMS_ID };
