/**
 * Task sequence editor operations, as pure functions from one task sequence to the
 * next. `applyEdits` applies a list atomically: the first failing operation throws and
 * nothing of the list is kept (the caller still holds the original).
 */
import { PolicyError, invalid, refused } from '../errors.js';
import { normalizeName } from '../normalize.js';
import { secretPropertyNames, stepType, validateStepProperties } from '../steps/catalog.js';
import type { PropertyValue } from '../steps/types.js';
import { validateCondition, type Condition } from './conditions.js';
import type { GroupItem, Item, StepItem, TaskSequence } from './model.js';
import { countItems, insertAt, itemAt, locate, maxDepth, mustLocate, removeAt, replaceItem, siblingsAt, type Path } from './tree.js';

/** Hard limits that keep a hostile or broken edit list from building an absurd tree. */
export const MAX_ITEMS = 5000;
export const MAX_DEPTH = 32;

/** Where a new item goes: into a group (or the root when `parentId` is null), at `index` or at the end. */
export interface Position {
  readonly parentId: string | null;
  readonly index?: number;
}

interface ItemOptions {
  readonly name?: string;
  readonly description?: string;
  readonly enabled?: boolean;
  readonly continueOnError?: boolean;
  readonly condition?: unknown;
  readonly position?: Position;
}

export type EditOp =
  | ({ readonly op: 'addStep'; readonly type: string; readonly properties?: unknown } & ItemOptions)
  | ({ readonly op: 'addGroup' } & ItemOptions)
  | { readonly op: 'remove'; readonly itemId: string }
  | { readonly op: 'moveUp'; readonly itemId: string }
  | { readonly op: 'moveDown'; readonly itemId: string }
  | { readonly op: 'rename'; readonly itemId: string; readonly name: string }
  | { readonly op: 'setDescription'; readonly itemId: string; readonly description: string }
  | { readonly op: 'setEnabled'; readonly itemId: string; readonly enabled: boolean }
  | { readonly op: 'setContinueOnError'; readonly itemId: string; readonly continueOnError: boolean }
  | { readonly op: 'setCondition'; readonly itemId: string; readonly condition: unknown }
  | { readonly op: 'setProperties'; readonly itemId: string; readonly properties: unknown };

export const EDIT_OPS = [
  'addStep',
  'addGroup',
  'remove',
  'moveUp',
  'moveDown',
  'rename',
  'setDescription',
  'setEnabled',
  'setContinueOnError',
  'setCondition',
  'setProperties',
] as const;

export function applyEdits(ts: TaskSequence, ops: readonly EditOp[]): TaskSequence {
  let next = ts;
  ops.forEach((op, i) => {
    try {
      next = applyEdit(next, op);
    } catch (e) {
      if (e instanceof PolicyError) {
        throw new PolicyError(e.code, `operation ${i} (${String(op.op)}): ${e.message}`, {
          field: `operations[${i}]${e.field ? '.' + e.field : ''}`,
          rule: e.rule ?? 'R-02',
        });
      }
      throw e;
    }
  });
  return next;
}

export function applyEdit(ts: TaskSequence, op: EditOp): TaskSequence {
  switch (op.op) {
    case 'addStep':
      return addItem(ts, newStep(ts, op), op.position);
    case 'addGroup':
      return addItem(ts, newGroup(ts, op), op.position);
    case 'remove':
      return withItems(ts, removeAt(ts.items, mustLocate(ts.items, op.itemId)), dropStripped(ts, op.itemId));
    case 'moveUp':
      return withItems(ts, checkDepth(moveUp(ts.items, mustLocate(ts.items, op.itemId))));
    case 'moveDown':
      return withItems(ts, checkDepth(moveDown(ts.items, mustLocate(ts.items, op.itemId))));
    case 'rename':
      return update(ts, op.itemId, (item) => ({ ...item, name: normalizeName(String(op.name)) }));
    case 'setDescription':
      return update(ts, op.itemId, (item) => ({ ...item, description: checkDescription(op.description) }));
    case 'setEnabled':
      return update(ts, op.itemId, (item) => ({ ...item, enabled: bool(op.enabled, 'enabled') }));
    case 'setContinueOnError':
      return update(ts, op.itemId, (item) => ({ ...item, continueOnError: bool(op.continueOnError, 'continueOnError') }));
    case 'setCondition':
      return update(ts, op.itemId, (item) => ({ ...item, condition: op.condition == null ? null : validateCondition(op.condition) }));
    case 'setProperties':
      return setProperties(ts, op.itemId, op.properties);
    default:
      throw invalid(`unknown edit operation ${JSON.stringify((op as { op: unknown }).op)}; one of ${EDIT_OPS.join(', ')}`, 'op');
  }
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw invalid(`${field} must be true or false`, field);
  return v;
}

function text(v: unknown, field: string): string {
  if (typeof v !== 'string') throw invalid(`${field} must be text`, field);
  return v;
}

function checkDescription(v: unknown): string {
  if (typeof v !== 'string') throw invalid('description must be text', 'description');
  if (v.length > 4096) throw invalid('description is longer than 4096 characters', 'description');
  return v;
}

function base(ts: TaskSequence, opts: ItemOptions, defaultName: string) {
  return {
    id: `i${ts.nextItemId}`,
    name: normalizeName(text(opts.name ?? defaultName, 'name')),
    description: opts.description === undefined ? '' : checkDescription(opts.description),
    enabled: opts.enabled === undefined ? true : bool(opts.enabled, 'enabled'),
    continueOnError: opts.continueOnError === undefined ? false : bool(opts.continueOnError, 'continueOnError'),
    condition: opts.condition == null ? null : (validateCondition(opts.condition) as Condition),
  };
}

function newStep(ts: TaskSequence, op: Extract<EditOp, { op: 'addStep' }>): StepItem {
  const def = stepType(String(op.type));
  if (!def) throw invalid(`unknown step type ${JSON.stringify(op.type)}`, 'type', 'R-03');
  return { ...base(ts, op, def.displayName), kind: 'step', type: def.type, properties: validateStepProperties(def.type, op.properties ?? {}) };
}

function newGroup(ts: TaskSequence, op: ItemOptions): GroupItem {
  return { ...base(ts, op, 'New Group'), kind: 'group', children: [] };
}

function addItem(ts: TaskSequence, item: Item, position: Position | undefined): TaskSequence {
  let parentPath: Path = [];
  let list: readonly Item[] = ts.items;
  if (position?.parentId != null) {
    parentPath = mustLocate(ts.items, position.parentId);
    const parent = itemAt(ts.items, parentPath);
    if (parent.kind !== 'group') throw invalid(`item ${position.parentId} is a step, not a group`, 'position.parentId');
    list = parent.children;
  }
  const index = position?.index ?? list.length;
  if (!Number.isInteger(index) || index < 0 || index > list.length)
    throw invalid(`position.index must be between 0 and ${list.length}`, 'position.index');
  const items = insertAt(ts.items, parentPath, index, item);
  if (countItems(items) > MAX_ITEMS) throw refused(`a task sequence holds at most ${MAX_ITEMS} steps and groups`, 'R-02');
  return { ...ts, items: checkDepth(items), nextItemId: ts.nextItemId + 1 };
}

/** Adding, and moving an item into a group, both deepen the tree: the limit holds for both. */
function checkDepth(items: readonly Item[]): readonly Item[] {
  if (maxDepth(items) > MAX_DEPTH) throw refused(`groups nest at most ${MAX_DEPTH} deep`, 'R-02');
  return items;
}

function withItems(ts: TaskSequence, items: readonly Item[], strippedSecrets = ts.strippedSecrets): TaskSequence {
  return { ...ts, items, strippedSecrets };
}

function update(ts: TaskSequence, itemId: string, fn: (item: Item) => Item): TaskSequence {
  return withItems(ts, replaceItem(ts.items, mustLocate(ts.items, itemId), fn));
}

/** Removing an item also forgets the stripped secrets of it and everything inside it. */
function dropStripped(ts: TaskSequence, itemId: string): readonly string[] {
  const gone = new Set<string>();
  const path = mustLocate(ts.items, itemId);
  const collect = (item: Item): void => {
    gone.add(item.id);
    if (item.kind === 'group') item.children.forEach(collect);
  };
  collect(itemAt(ts.items, path));
  return ts.strippedSecrets.filter((s) => !gone.has(s.slice(0, s.indexOf('.'))));
}

function setProperties(ts: TaskSequence, itemId: string, input: unknown): TaskSequence {
  const path = mustLocate(ts.items, itemId);
  const item = itemAt(ts.items, path);
  if (item.kind !== 'step') throw invalid(`item ${itemId} is a group and has no properties`, 'itemId');
  const patch = validateStepProperties(item.type, input, { partial: true });
  const merged: Record<string, PropertyValue> = { ...item.properties, ...patch };
  const properties = validateStepProperties(item.type, merged);
  const secrets = new Set(secretPropertyNames(item.type));
  const given = Object.keys(patch).filter((k) => secrets.has(k) && patch[k] !== '');
  const strippedSecrets = ts.strippedSecrets.filter((s) => !given.some((k) => s === `${itemId}.${k}`));
  return withItems(ts, replaceItem(ts.items, path, () => ({ ...item, properties })), strippedSecrets);
}

/**
 * Move Item Up, as the editor does it: one item at a time; an item right after a group
 * enters that group as its last child; the first item of a group leaves it and goes just
 * before the group. The first item of the task sequence cannot move up.
 */
export function moveUp(items: readonly Item[], path: Path): readonly Item[] {
  const index = path[path.length - 1]!;
  const parentPath = path.slice(0, -1);
  const item = itemAt(items, path);
  if (index > 0) {
    const prevPath = [...parentPath, index - 1];
    const prev = itemAt(items, prevPath);
    const without = removeAt(items, path);
    if (prev.kind === 'group') return insertAt(without, prevPath, prev.children.length, item);
    return insertAt(without, parentPath, index - 1, item);
  }
  if (parentPath.length === 0) throw refused('the first item cannot move up', 'R-02', 'itemId');
  const without = removeAt(items, path);
  const groupIndex = parentPath[parentPath.length - 1]!;
  return insertAt(without, parentPath.slice(0, -1), groupIndex, item);
}

/**
 * Move Item Down, the mirror of `moveUp`: an item right before a group enters it as its
 * first child; the last item of a group leaves it and goes just after the group.
 */
export function moveDown(items: readonly Item[], path: Path): readonly Item[] {
  const index = path[path.length - 1]!;
  const parentPath = path.slice(0, -1);
  const siblings = siblingsAt(items, path);
  const item = itemAt(items, path);
  if (index < siblings.length - 1) {
    const next = siblings[index + 1]!;
    const without = removeAt(items, path);
    // After removal the next sibling sits at `index`.
    if (next.kind === 'group') return insertAt(without, [...parentPath, index], 0, item);
    return insertAt(without, parentPath, index + 1, item);
  }
  if (parentPath.length === 0) throw refused('the last item cannot move down', 'R-02', 'itemId');
  const without = removeAt(items, path);
  const groupIndex = parentPath[parentPath.length - 1]!;
  return insertAt(without, parentPath.slice(0, -1), groupIndex + 1, item);
}

export { locate };
