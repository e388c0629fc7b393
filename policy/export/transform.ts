/**
 * The two transformations a task sequence goes through between sites: on export its
 * step secrets are removed and remembered by name (`itemId.property`), never by value; on import
 * its content references are rewritten from the exporting site's ids to this site's.
 */
import type { ContentKind } from '../content-refs.js';
import { redactSecrets, stepType } from '../steps/catalog.js';
import type { PropertyValue } from '../steps/types.js';
import type { Item, TaskSequence } from '../task-sequences/model.js';

export interface StrippedTaskSequence {
  readonly taskSequence: TaskSequence;
  /**
   * `itemId.property` of every secret that had a value, plus those an earlier import stripped and
   * nobody gave again: the importing site must ask for all of them.
   */
  readonly stripped: readonly string[];
}

/**
 * A copy of `ts` with every secret property removed. An unknown step type throws (from the
 * catalog) rather than guess which of its properties are secrets: exporting it could leak one.
 */
export function stripSecrets(ts: TaskSequence): StrippedTaskSequence {
  const stripped = new Set<string>(ts.strippedSecrets);
  const strip = (item: Item): Item => {
    if (item.kind === 'group') return { ...item, children: item.children.map(strip) };
    const { properties, secretsSet } = redactSecrets(item.type, item.properties);
    for (const name of secretsSet) stripped.add(`${item.id}.${name}`);
    return { ...item, properties };
  };
  const items = ts.items.map(strip);
  const list = [...stripped];
  return { taskSequence: { ...ts, items, strippedSecrets: list }, stripped: list };
}

/** Maps a content id of the exporting site to this site's; returns the id unchanged when unknown. */
export type IdMap = (kind: ContentKind, id: string) => string;

/**
 * Rewrites the boot image and every ref / ref-list step property through `map`. Only properties
 * the catalog declares as references change; everything else is copied as it is.
 */
export function remapReferences(ts: TaskSequence, map: IdMap): TaskSequence {
  const remapItem = (item: Item): Item => {
    if (item.kind === 'group') return { ...item, children: item.children.map(remapItem) };
    const def = stepType(item.type);
    if (!def) return item;
    const properties: Record<string, PropertyValue> = { ...item.properties };
    for (const prop of def.properties) {
      const value = properties[prop.name];
      if (prop.refKind === undefined || value === undefined) continue;
      const kind = prop.refKind;
      if (prop.kind === 'ref' && typeof value === 'string') properties[prop.name] = map(kind, value);
      if (prop.kind === 'ref-list' && Array.isArray(value)) properties[prop.name] = (value as readonly string[]).map((id) => map(kind, id));
    }
    return { ...item, properties };
  };
  return { ...ts, bootImageId: ts.bootImageId === null ? null : map('bootImage', ts.bootImageId), items: ts.items.map(remapItem) };
}
