/** Task sequences (R-01…R-05) and their folders, stored whole; secrets never leave through a view. */
import { invalid, notFound, conflict } from '../../policy/errors.js';
import { checkFolder, checkFolderEmpty, folderPath, type Folder } from '../../policy/folders.js';
import { redactSecrets, stepType } from '../../policy/steps/catalog.js';
import type { PropertyValue } from '../../policy/steps/types.js';
import { copyTaskSequence, moveTaskSequence, setTaskSequenceEnabled, setTaskSequenceProperties } from '../../policy/task-sequences/actions.js';
import { createTaskSequence, type CreateAnswers } from '../../policy/task-sequences/create.js';
import { applyEdits, type EditOp } from '../../policy/task-sequences/edit.js';
import type { Item, TaskSequence } from '../../policy/task-sequences/model.js';
import { deploysOperatingSystem } from '../../policy/task-sequences/queries.js';
import { checkReferences, type ReferenceReport } from '../../policy/task-sequences/references.js';
import { claimPackageId, contentIndex } from './content.js';
import { audit, transact, type SiteContext } from './context.js';
import type { SiteRepos } from './repositories.js';

/** A step as people see it: secret properties removed, with the names of those that are set. */
export type ItemView =
  | (Omit<Extract<Item, { kind: 'step' }>, 'properties'> & { properties: Record<string, PropertyValue>; secretsSet: string[] })
  | (Omit<Extract<Item, { kind: 'group' }>, 'children'> & { children: ItemView[] });

export interface TaskSequenceView extends Omit<TaskSequence, 'items'> {
  readonly items: ItemView[];
  readonly needsPasswords: boolean;
  readonly deploysOs: boolean;
  readonly folderPath: string;
}

function itemView(item: Item): ItemView {
  if (item.kind === 'group') return { ...item, children: item.children.map(itemView) };
  if (!stepType(item.type)) return { ...item, properties: {}, secretsSet: [] };
  const { properties, secretsSet } = redactSecrets(item.type, item.properties);
  return { ...item, properties, secretsSet };
}

function viewOf(ts: TaskSequence, folders: ReadonlyMap<string, Folder>): TaskSequenceView {
  return {
    ...ts,
    items: ts.items.map(itemView),
    needsPasswords: ts.strippedSecrets.length > 0,
    deploysOs: deploysOperatingSystem(ts),
    folderPath: folderPath(ts.folderId, folders),
  };
}

export async function taskSequenceView(ctx: SiteContext, ts: TaskSequence): Promise<TaskSequenceView> {
  return viewOf(ts, await foldersById(ctx.store));
}

/** Views of many task sequences, the folders read once. */
export async function taskSequenceViews(ctx: SiteContext, list: readonly TaskSequence[]): Promise<TaskSequenceView[]> {
  const folders = await foldersById(ctx.store);
  return list.map((ts) => viewOf(ts, folders));
}

const foldersById = async (repos: Pick<SiteRepos, 'folders'>): Promise<Map<string, Folder>> => new Map((await repos.folders.list()).map((f) => [f.id, f]));

async function store(tx: SiteRepos, ctx: SiteContext, ts: TaskSequence): Promise<void> {
  if (ts.folderId !== null && !(await tx.folders.get(ts.folderId))) throw notFound(`no folder ${ts.folderId}`, 'folderId');
  await tx.taskSequences.put(ts, ctx.now());
}

/** The task sequence, read through `repos` (the store, or a transaction's repositories). */
export async function readTaskSequence(repos: Pick<SiteRepos, 'taskSequences'>, id: string): Promise<TaskSequence> {
  const ts = await repos.taskSequences.get(id);
  if (!ts) throw notFound(`no task sequence ${id}`, 'id');
  return ts;
}

export const getTaskSequence = (ctx: SiteContext, id: string): Promise<TaskSequence> => readTaskSequence(ctx.store, id);

/** By name then id; `folderId` null: those at the top level. */
export const listTaskSequences = (ctx: SiteContext, folderId?: string | null): Promise<TaskSequence[]> =>
  folderId === undefined ? ctx.store.taskSequences.list() : ctx.store.taskSequences.inFolder(folderId);

export function createTs(ctx: SiteContext, actor: string, answers: CreateAnswers): Promise<TaskSequence> {
  return transact(ctx, async (tx) => {
    const ts = createTaskSequence(await claimPackageId(tx, ctx), answers);
    await store(tx, ctx, ts);
    await audit(tx, ctx, actor, { action: 'taskSequence.created', target: ts.id, message: `Task sequence ${ts.name} (${ts.id}) created as ${ts.type}`, details: { type: ts.type } });
    return ts;
  });
}

/** Applies a list of edit operations atomically. */
export async function editTs(ctx: SiteContext, actor: string, id: string, operations: readonly EditOp[]): Promise<TaskSequence> {
  if (!Array.isArray(operations) || operations.length === 0) throw invalid('operations must be a non-empty list', 'operations');
  return transact(ctx, async (tx) => {
    const next = applyEdits(await readTaskSequence(tx, id), operations);
    await store(tx, ctx, next);
    await audit(tx, ctx, actor, { action: 'taskSequence.edited', target: id, message: `Task sequence ${next.name} (${id}) edited: ${operations.map((o) => o.op).join(', ')}`, details: { operations: operations.length } });
    return next;
  });
}

function update(ctx: SiteContext, actor: string, id: string, action: string, fn: (ts: TaskSequence) => TaskSequence): Promise<TaskSequence> {
  return transact(ctx, async (tx) => {
    const next = fn(await readTaskSequence(tx, id));
    await store(tx, ctx, next);
    await audit(tx, ctx, actor, { action: `taskSequence.${action}`, target: id, message: `Task sequence ${next.name} (${id}) ${action}`, details: {} });
    return next;
  });
}

export const enableTs = (ctx: SiteContext, actor: string, id: string, enabled: boolean): Promise<TaskSequence> =>
  update(ctx, actor, id, enabled ? 'enabled' : 'disabled', (ts) => setTaskSequenceEnabled(ts, enabled));

export const moveTs = (ctx: SiteContext, actor: string, id: string, folderId: string | null): Promise<TaskSequence> =>
  update(ctx, actor, id, 'moved', (ts) => moveTaskSequence(ts, folderId));

export const setTsProperties = (ctx: SiteContext, actor: string, id: string, props: unknown): Promise<TaskSequence> =>
  update(ctx, actor, id, 'propertiesChanged', (ts) => setTaskSequenceProperties(ts, props));

export function copyTs(ctx: SiteContext, actor: string, id: string, name?: string): Promise<TaskSequence> {
  return transact(ctx, async (tx) => {
    const copy = copyTaskSequence(await readTaskSequence(tx, id), await claimPackageId(tx, ctx), name);
    await store(tx, ctx, copy);
    await audit(tx, ctx, actor, { action: 'taskSequence.copied', target: copy.id, message: `Task sequence ${id} copied to ${copy.name} (${copy.id})`, details: { from: id } });
    return copy;
  });
}

export async function deleteTs(ctx: SiteContext, actor: string, id: string): Promise<void> {
  await transact(ctx, async (tx) => {
    const ts = await readTaskSequence(tx, id);
    const deployed = await tx.deployments.ofTaskSequence(id);
    if (deployed.length) throw conflict(`task sequence ${id} has deployments ${deployed.map((d) => d.id).join(', ')}; delete them first`, 'id');
    await tx.taskSequences.delete(id);
    await audit(tx, ctx, actor, { action: 'taskSequence.deleted', target: id, message: `Task sequence ${ts.name} (${id}) deleted`, details: {} });
  });
}

export const validateTsReferences = async (ctx: SiteContext, id: string): Promise<ReferenceReport> => {
  const ts = await getTaskSequence(ctx, id);
  return checkReferences(ts, await contentIndex(ctx));
};

// ---- folders (R-05) ----

export const listFolders = async (ctx: SiteContext): Promise<(Folder & { path: string })[]> => {
  const all = await foldersById(ctx.store);
  return [...all.values()].map((f) => ({ ...f, path: folderPath(f.id, all) })).sort((a, b) => a.path.localeCompare(b.path));
};

export function createFolder(ctx: SiteContext, actor: string, input: { name: string; parentId?: string | null }): Promise<Folder> {
  return transact(ctx, async (tx) => {
    const all = await foldersById(tx);
    const folder = checkFolder({ id: await tx.ids.claim('folder', (n) => `f${n}`), name: String(input.name ?? ''), parentId: input.parentId ?? null }, all);
    await tx.folders.insert(folder);
    await audit(tx, ctx, actor, { action: 'folder.created', target: folder.id, message: `Folder ${folderPath(folder.id, new Map([...all, [folder.id, folder]]))} created`, details: {} });
    return folder;
  });
}

export function updateFolder(ctx: SiteContext, actor: string, id: string, patch: { name?: string; parentId?: string | null }): Promise<Folder> {
  return transact(ctx, async (tx) => {
    const all = await foldersById(tx);
    const current = all.get(id);
    if (!current) throw notFound(`no folder ${id}`, 'id');
    const folder = checkFolder({ id, name: patch.name ?? current.name, parentId: patch.parentId === undefined ? current.parentId : patch.parentId }, all);
    await tx.folders.update(folder);
    await audit(tx, ctx, actor, { action: 'folder.updated', target: id, message: `Folder ${id} updated`, details: { fields: Object.keys(patch) } });
    return folder;
  });
}

export async function deleteFolder(ctx: SiteContext, actor: string, id: string): Promise<void> {
  await transact(ctx, async (tx) => {
    const all = await foldersById(tx);
    if (!all.has(id)) throw notFound(`no folder ${id}`, 'id');
    checkFolderEmpty(id, all, (await tx.taskSequences.list()).map((t) => t.folderId));
    await tx.folders.delete(id);
    await audit(tx, ctx, actor, { action: 'folder.deleted', target: id, message: `Folder ${id} deleted`, details: {} });
  });
}
