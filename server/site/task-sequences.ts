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
import { claimId } from '../store/db.js';
import { allDocs, deleteRow, getDoc, putDoc } from '../store/docs.js';
import { contentIndex, nextPackageId } from './content.js';
import { write, writeAudit, type SiteContext } from './context.js';

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

export function taskSequenceView(ctx: SiteContext, ts: TaskSequence): TaskSequenceView {
  return {
    ...ts,
    items: ts.items.map(itemView),
    needsPasswords: ts.strippedSecrets.length > 0,
    deploysOs: deploysOperatingSystem(ts),
    folderPath: folderPath(ts.folderId, foldersById(ctx)),
  };
}

const foldersById = (ctx: SiteContext): Map<string, Folder> =>
  new Map((ctx.db.prepare('SELECT id, name, parent_id AS parentId FROM folders').all() as Folder[]).map((f) => [f.id, f]));

function store(ctx: SiteContext, ts: TaskSequence): void {
  if (ts.folderId !== null && !foldersById(ctx).has(ts.folderId)) throw notFound(`no folder ${ts.folderId}`, 'folderId');
  putDoc(ctx.db, 'task_sequences', ts.id, { name: ts.name, folder_id: ts.folderId, updated_at: ctx.now() }, ts);
}

export function getTaskSequence(ctx: SiteContext, id: string): TaskSequence {
  const ts = getDoc<TaskSequence>(ctx.db, 'task_sequences', id);
  if (!ts) throw notFound(`no task sequence ${id}`, 'id');
  return ts;
}

export const listTaskSequences = (ctx: SiteContext, folderId?: string | null): TaskSequence[] =>
  allDocs<TaskSequence>(ctx.db, 'task_sequences', 'name, id').filter((t) => folderId === undefined || t.folderId === folderId);

export function createTs(ctx: SiteContext, actor: string, answers: CreateAnswers): TaskSequence {
  return write(ctx, () => {
    const ts = createTaskSequence(nextPackageId(ctx), answers);
    store(ctx, ts);
    writeAudit(ctx, actor, { action: 'taskSequence.created', target: ts.id, message: `Task sequence ${ts.name} (${ts.id}) created as ${ts.type}`, details: { type: ts.type } });
    return ts;
  });
}

/** Applies a list of edit operations atomically. */
export function editTs(ctx: SiteContext, actor: string, id: string, operations: readonly EditOp[]): TaskSequence {
  if (!Array.isArray(operations) || operations.length === 0) throw invalid('operations must be a non-empty list', 'operations');
  return write(ctx, () => {
    const next = applyEdits(getTaskSequence(ctx, id), operations);
    store(ctx, next);
    writeAudit(ctx, actor, { action: 'taskSequence.edited', target: id, message: `Task sequence ${next.name} (${id}) edited: ${operations.map((o) => o.op).join(', ')}`, details: { operations: operations.length } });
    return next;
  });
}

function update(ctx: SiteContext, actor: string, id: string, action: string, fn: (ts: TaskSequence) => TaskSequence): TaskSequence {
  return write(ctx, () => {
    const next = fn(getTaskSequence(ctx, id));
    store(ctx, next);
    writeAudit(ctx, actor, { action: `taskSequence.${action}`, target: id, message: `Task sequence ${next.name} (${id}) ${action}`, details: {} });
    return next;
  });
}

export const enableTs = (ctx: SiteContext, actor: string, id: string, enabled: boolean): TaskSequence =>
  update(ctx, actor, id, enabled ? 'enabled' : 'disabled', (ts) => setTaskSequenceEnabled(ts, enabled));

export const moveTs = (ctx: SiteContext, actor: string, id: string, folderId: string | null): TaskSequence =>
  update(ctx, actor, id, 'moved', (ts) => moveTaskSequence(ts, folderId));

export const setTsProperties = (ctx: SiteContext, actor: string, id: string, props: unknown): TaskSequence =>
  update(ctx, actor, id, 'propertiesChanged', (ts) => setTaskSequenceProperties(ts, props));

export function copyTs(ctx: SiteContext, actor: string, id: string, name?: string): TaskSequence {
  return write(ctx, () => {
    const copy = copyTaskSequence(getTaskSequence(ctx, id), nextPackageId(ctx), name);
    store(ctx, copy);
    writeAudit(ctx, actor, { action: 'taskSequence.copied', target: copy.id, message: `Task sequence ${id} copied to ${copy.name} (${copy.id})`, details: { from: id } });
    return copy;
  });
}

export function deleteTs(ctx: SiteContext, actor: string, id: string): void {
  write(ctx, () => {
    const ts = getTaskSequence(ctx, id);
    const deployed = ctx.db.prepare('SELECT id FROM deployments WHERE task_sequence_id = ?').all(id) as { id: string }[];
    if (deployed.length) throw conflict(`task sequence ${id} has deployments ${deployed.map((d) => d.id).join(', ')}; delete them first`, 'id');
    deleteRow(ctx.db, 'task_sequences', id);
    writeAudit(ctx, actor, { action: 'taskSequence.deleted', target: id, message: `Task sequence ${ts.name} (${id}) deleted`, details: {} });
  });
}

export const validateTsReferences = (ctx: SiteContext, id: string): ReferenceReport => checkReferences(getTaskSequence(ctx, id), contentIndex(ctx));

// ---- folders (R-05) ----

export const listFolders = (ctx: SiteContext): (Folder & { path: string })[] => {
  const all = foldersById(ctx);
  return [...all.values()].map((f) => ({ ...f, path: folderPath(f.id, all) })).sort((a, b) => a.path.localeCompare(b.path));
};

export function createFolder(ctx: SiteContext, actor: string, input: { name: string; parentId?: string | null }): Folder {
  return write(ctx, () => {
    const all = foldersById(ctx);
    const folder = checkFolder({ id: claimId(ctx.db, 'folder', (n) => `f${n}`), name: String(input.name ?? ''), parentId: input.parentId ?? null }, all);
    ctx.db.prepare('INSERT INTO folders (id, name, parent_id) VALUES (?, ?, ?)').run(folder.id, folder.name, folder.parentId);
    writeAudit(ctx, actor, { action: 'folder.created', target: folder.id, message: `Folder ${folderPath(folder.id, new Map([...all, [folder.id, folder]]))} created`, details: {} });
    return folder;
  });
}

export function updateFolder(ctx: SiteContext, actor: string, id: string, patch: { name?: string; parentId?: string | null }): Folder {
  return write(ctx, () => {
    const all = foldersById(ctx);
    const current = all.get(id);
    if (!current) throw notFound(`no folder ${id}`, 'id');
    const folder = checkFolder({ id, name: patch.name ?? current.name, parentId: patch.parentId === undefined ? current.parentId : patch.parentId }, all);
    ctx.db.prepare('UPDATE folders SET name = ?, parent_id = ? WHERE id = ?').run(folder.name, folder.parentId, id);
    writeAudit(ctx, actor, { action: 'folder.updated', target: id, message: `Folder ${id} updated`, details: { fields: Object.keys(patch) } });
    return folder;
  });
}

export function deleteFolder(ctx: SiteContext, actor: string, id: string): void {
  write(ctx, () => {
    const all = foldersById(ctx);
    if (!all.has(id)) throw notFound(`no folder ${id}`, 'id');
    checkFolderEmpty(id, all, listTaskSequences(ctx).map((t) => t.folderId));
    ctx.db.prepare('DELETE FROM folders WHERE id = ?').run(id);
    writeAudit(ctx, actor, { action: 'folder.deleted', target: id, message: `Folder ${id} deleted`, details: {} });
  });
}
