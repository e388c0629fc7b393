/**
 * Which stored values are secrets: the secret properties of task sequence
 * steps (the step catalog says which), the values of hidden collection and computer variables,
 * and a remote distribution point's tokens (their own column). Each table's documents are
 * mapped value by value with a visitor that seals, opens or re-seals; `null` from the visitor
 * means "this value cannot be read" (see binding.ts) and the value is left out of the result:
 * a step's secret then counts as stripped (the task sequence needs that password again, as after
 * an import, R-28), a hidden variable is left out of the list.
 */
import { secretPropertyNames } from '../../../policy/steps/catalog.js';
import type { Item, TaskSequence } from '../../../policy/task-sequences/model.js';
import type { Variable } from '../../../policy/variables.js';

/** Gets one secret's stored or plain value and its description; returns the new value or null. */
export type Visit = (value: string, what: string) => string | null;

export interface SecretTable {
  readonly table: string;
  map(doc: unknown, visit: Visit): unknown;
}

/** Secret property names of a step type; an unknown type (a catalog that shrank) has none to read. */
function secretNames(type: string): readonly string[] {
  try {
    return secretPropertyNames(type);
  } catch {
    return [];
  }
}

function mapItems(items: readonly Item[], tsId: string, visit: Visit, dropped: string[]): Item[] {
  return items.map((item): Item => {
    if (item.kind === 'group') return { ...item, children: mapItems(item.children ?? [], tsId, visit, dropped) };
    const names = secretNames(item.type).filter((n) => typeof item.properties?.[n] === 'string' && item.properties[n] !== '');
    if (names.length === 0) return item;
    const properties = { ...item.properties };
    for (const name of names) {
      const next = visit(properties[name] as string, `task sequence ${tsId}, step ${item.id} (${item.type}), property ${name}`);
      if (next === null) {
        delete properties[name];
        dropped.push(`${item.id}.${name}`);
      } else properties[name] = next;
    }
    return { ...item, properties };
  });
}

export function mapTaskSequence(ts: TaskSequence, visit: Visit): TaskSequence {
  const dropped: string[] = [];
  const items = mapItems(ts.items ?? [], ts.id, visit, dropped);
  const stripped = ts.strippedSecrets ?? [];
  return { ...ts, items, strippedSecrets: dropped.length ? [...new Set([...stripped, ...dropped])] : stripped };
}

export function mapVariables(vars: readonly Variable[] | undefined, owner: string, visit: Visit): Variable[] {
  const out: Variable[] = [];
  for (const v of vars ?? []) {
    if (!v.hidden || typeof v.value !== 'string' || v.value === '') {
      out.push(v);
      continue;
    }
    const value = visit(v.value, `${owner}, hidden variable ${v.name}`);
    if (value !== null) out.push({ ...v, value });
  }
  return out;
}

type WithVariables = { readonly id: string; readonly variables?: readonly Variable[] };

const variablesOf =
  (noun: string) =>
  (doc: unknown, visit: Visit): unknown => {
    const d = doc as WithVariables;
    return d.variables ? { ...d, variables: mapVariables(d.variables, `${noun} ${d.id}`, visit) } : d;
  };

/** The document tables that hold secrets, by table name. */
export const SECRET_TABLES: ReadonlyMap<string, SecretTable> = new Map(
  [
    { table: 'task_sequences', map: (doc: unknown, visit: Visit) => mapTaskSequence(doc as TaskSequence, visit) },
    { table: 'collections', map: variablesOf('collection') },
    { table: 'computers', map: variablesOf('computer') },
  ].map((t) => [t.table, t]),
);

/** The column of distribution_points that holds a remote point's tokens (JSON, sealed as one value). */
export const pointSecretWhat = (pointId: string): string => `distribution point ${pointId}, tokens`;
