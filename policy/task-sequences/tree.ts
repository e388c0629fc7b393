/**
 * Immutable helpers over the item tree. Positions are index paths from the root
 * (`[2, 0]` = first child of the third root item).
 */
import { notFound } from '../errors.js';
import type { GroupItem, Item } from './model.js';

export type Path = readonly number[];

/** Items in editor (pre-order) order with their depth and parent group id. */
export function* walk(
  items: readonly Item[],
  depth = 0,
  parentId: string | null = null,
): Generator<{ item: Item; depth: number; parentId: string | null }> {
  for (const item of items) {
    yield { item, depth, parentId };
    if (item.kind === 'group') yield* walk(item.children, depth + 1, item.id);
  }
}

export function locate(items: readonly Item[], id: string): Path | null {
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (item.id === id) return [i];
    if (item.kind === 'group') {
      const sub = locate(item.children, id);
      if (sub) return [i, ...sub];
    }
  }
  return null;
}

export function mustLocate(items: readonly Item[], id: string): Path {
  const path = locate(items, id);
  if (!path) throw notFound(`no step or group with id ${id}`, 'itemId');
  return path;
}

export function itemAt(items: readonly Item[], path: Path): Item {
  let list = items;
  let item: Item | undefined;
  for (const [depth, index] of path.entries()) {
    item = list[index];
    if (!item) throw notFound(`no item at ${path.join('.')}`);
    if (depth < path.length - 1) {
      if (item.kind !== 'group') throw notFound(`no item at ${path.join('.')}`);
      list = item.children;
    }
  }
  if (!item) throw notFound('empty path');
  return item;
}

/** The children list that holds the item at `path` (the root list for a one-element path). */
export function siblingsAt(items: readonly Item[], path: Path): readonly Item[] {
  if (path.length === 1) return items;
  const parent = itemAt(items, path.slice(0, -1)) as GroupItem;
  return parent.children;
}

/** Replaces the list of children at `parentPath` (`[]` = root) by `fn(list)`. */
export function updateList(
  items: readonly Item[],
  parentPath: Path,
  fn: (list: readonly Item[]) => readonly Item[],
): readonly Item[] {
  if (parentPath.length === 0) return fn(items);
  const [head, ...rest] = parentPath as [number, ...number[]];
  const group = items[head];
  if (!group || group.kind !== 'group') throw notFound(`no group at ${parentPath.join('.')}`);
  const updated: GroupItem = { ...group, children: updateList(group.children, rest, fn) };
  return items.map((x, i) => (i === head ? updated : x));
}

export function replaceItem(items: readonly Item[], path: Path, fn: (item: Item) => Item): readonly Item[] {
  const index = path[path.length - 1]!;
  return updateList(items, path.slice(0, -1), (list) => list.map((x, i) => (i === index ? fn(x) : x)));
}

export function removeAt(items: readonly Item[], path: Path): readonly Item[] {
  const index = path[path.length - 1]!;
  return updateList(items, path.slice(0, -1), (list) => list.filter((_, i) => i !== index));
}

export function insertAt(items: readonly Item[], parentPath: Path, index: number, item: Item): readonly Item[] {
  return updateList(items, parentPath, (list) => [...list.slice(0, index), item, ...list.slice(index)]);
}

export function countItems(items: readonly Item[]): number {
  let n = 0;
  for (const _ of walk(items)) n++;
  return n;
}

export function maxDepth(items: readonly Item[]): number {
  let max = 0;
  for (const { depth } of walk(items)) max = Math.max(max, depth + 1);
  return max;
}
