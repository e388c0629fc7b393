/**
 * Device collections: direct members, include and exclude collection rules and a limiting
 * collection; the built-ins All Systems and All Unknown Computers.
 * Membership is computed once for a whole site (`computeMembership`) so that boot
 * resolution is a lookup, not a graph walk.
 */
import type { Computer } from './computers.js';
import { conflict, invalid, notFound } from './errors.js';
import { normalizeName } from './normalize.js';
import { MAX_PRECEDENCE, MIN_PRECEDENCE, validateVariables, type Variable } from './variables.js';

export const ALL_SYSTEMS_ID = 'SMS00001';
export const ALL_UNKNOWN_COMPUTERS_ID = 'SMS000US';

export type BuiltInRule = 'allSystems' | 'allUnknownComputers';

export interface Collection {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /** Set on built-ins, whose membership is a fixed rule; they cannot be deleted or edited. */
  readonly builtIn: BuiltInRule | null;
  /** Members must also be members of this collection. */
  readonly limitingCollectionId: string | null;
  readonly directMemberIds: readonly string[];
  readonly includeCollectionIds: readonly string[];
  readonly excludeCollectionIds: readonly string[];
  readonly variables: readonly Variable[];
  /** 1 (lowest) … 9 (highest): which collection's variable wins when a computer is in several. */
  readonly variablePrecedence: number;
}

export function builtInCollections(): Collection[] {
  const base = { description: '', limitingCollectionId: null, directMemberIds: [], includeCollectionIds: [], excludeCollectionIds: [], variables: [], variablePrecedence: 1 };
  return [
    { ...base, id: ALL_SYSTEMS_ID, name: 'All Systems', builtIn: 'allSystems' },
    { ...base, id: ALL_UNKNOWN_COMPUTERS_ID, name: 'All Unknown Computers', builtIn: 'allUnknownComputers', limitingCollectionId: ALL_SYSTEMS_ID },
  ];
}

export interface CollectionInput {
  readonly name: string;
  readonly description?: string;
  readonly limitingCollectionId?: string | null;
  readonly directMemberIds?: readonly string[];
  readonly includeCollectionIds?: readonly string[];
  readonly excludeCollectionIds?: readonly string[];
  readonly variables?: unknown;
  readonly variablePrecedence?: number;
}

function idList(v: unknown, field: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.length === 0)) throw invalid(`${field} must be a list of ids`, field);
  return [...new Set(v as string[])];
}

/** Shape checks only; `checkCollectionGraph` checks the references against the site. */
export function newCollection(id: string, input: CollectionInput): Collection {
  const precedence = input.variablePrecedence ?? MIN_PRECEDENCE;
  if (!Number.isInteger(precedence) || precedence < MIN_PRECEDENCE || precedence > MAX_PRECEDENCE)
    throw invalid(`variablePrecedence must be ${MIN_PRECEDENCE}..${MAX_PRECEDENCE}`, 'variablePrecedence');
  if (input.description !== undefined && typeof input.description !== 'string') throw invalid('description must be text', 'description');
  return {
    id,
    name: normalizeName(String(input.name ?? '')),
    description: input.description ?? '',
    builtIn: null,
    limitingCollectionId: input.limitingCollectionId ?? ALL_SYSTEMS_ID,
    directMemberIds: idList(input.directMemberIds, 'directMemberIds'),
    includeCollectionIds: idList(input.includeCollectionIds, 'includeCollectionIds'),
    excludeCollectionIds: idList(input.excludeCollectionIds, 'excludeCollectionIds'),
    variables: input.variables === undefined ? [] : validateVariables(input.variables, 'variables'),
    variablePrecedence: precedence,
  };
}

/** Collections that `c` depends on for its membership. */
function dependencies(c: Collection): string[] {
  return [...(c.limitingCollectionId ? [c.limitingCollectionId] : []), ...c.includeCollectionIds, ...c.excludeCollectionIds];
}

/**
 * Every referenced collection and computer exists, and no collection depends on itself
 * through limiting, include or exclude rules (a cycle has no membership).
 */
export function checkCollectionGraph(collections: ReadonlyMap<string, Collection>, computerExists: (id: string) => boolean): void {
  for (const c of collections.values()) {
    for (const dep of dependencies(c)) if (!collections.has(dep)) throw notFound(`collection ${c.id} refers to missing collection ${dep}`, 'collectionId');
    for (const m of c.directMemberIds) if (!computerExists(m)) throw notFound(`collection ${c.id} refers to missing computer ${m}`, 'directMemberIds');
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, trail: string[]): void => {
    const s = state.get(id);
    if (s === 'done') return;
    // Name only the cycle itself, not the collections whose rules merely lead into it.
    if (s === 'visiting') throw conflict(`collection rules form a cycle: ${[...trail.slice(trail.indexOf(id)), id].join(' → ')}`, 'includeCollectionIds');
    state.set(id, 'visiting');
    for (const dep of dependencies(collections.get(id)!)) visit(dep, [...trail, id]);
    state.set(id, 'done');
  };
  for (const id of collections.keys()) visit(id, []);
}

/**
 * Members of every collection: (direct ∪ included) − excluded, within the limiting collection.
 * Assumes `checkCollectionGraph` passed. Linear in the total size of the member sets.
 */
export function computeMembership(
  collections: ReadonlyMap<string, Collection>,
  computers: readonly Computer[],
  /** To compute in steps: the sets so far, the computer sets, and the one collection to add. */
  partial?: { memo: Map<string, ReadonlySet<string>>; all: Set<string>; unknown: Set<string>; only: string },
): Map<string, ReadonlySet<string>> {
  const memo = partial?.memo ?? new Map<string, ReadonlySet<string>>();
  const all = partial?.all ?? new Set(computers.map((c) => c.id));
  const unknown = partial?.unknown ?? new Set(computers.filter((c) => c.unknownArchitecture !== null).map((c) => c.id));
  const members = (id: string): ReadonlySet<string> => {
    const done = memo.get(id);
    if (done) return done;
    const c = collections.get(id);
    if (!c) return new Set();
    let set: Set<string>;
    if (c.builtIn === 'allSystems') set = all;
    else if (c.builtIn === 'allUnknownComputers') set = unknown;
    else {
      set = new Set(c.directMemberIds.filter((m) => all.has(m)));
      for (const inc of c.includeCollectionIds) for (const m of members(inc)) set.add(m);
      for (const exc of c.excludeCollectionIds) for (const m of members(exc)) set.delete(m);
      if (c.limitingCollectionId) {
        const limit = members(c.limitingCollectionId);
        for (const m of set) if (!limit.has(m)) set.delete(m);
      }
    }
    memo.set(id, set);
    return set;
  };
  if (partial) members(partial.only);
  else for (const id of collections.keys()) members(id);
  return memo;
}
