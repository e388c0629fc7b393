/**
 * Task sequence variables: per computer and per collection, with hidden values that
 * never reach a person but do reach the task sequence. Names are case-insensitive, as the
 * engine treats them; the spelling first given is kept for display.
 */
import { invalid, refused } from './errors.js';

export interface Variable {
  readonly name: string;
  readonly value: string;
  /** "Do not display this value": masked in every view meant for people. */
  readonly hidden: boolean;
}

/** Seed: "Configuration Manager does not support more than 1,000 assigned variables for a computer." */
export const MAX_VARIABLES_PER_COMPUTER = 1000;
export const MAX_VARIABLE_VALUE = 16_384;
/** Collection variable precedence: 1 is the lowest and 9 the highest. */
export const MIN_PRECEDENCE = 1;
export const MAX_PRECEDENCE = 9;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,255}$/;

export function validateVariable(input: unknown, field: string): Variable {
  if (typeof input !== 'object' || input === null) throw invalid(`${field} must be an object`, field);
  const o = input as Record<string, unknown>;
  for (const key of Object.keys(o))
    if (key !== 'name' && key !== 'value' && key !== 'hidden') throw invalid(`${field}.${key} is not a variable field`, `${field}.${key}`);
  if (typeof o.name !== 'string' || !NAME.test(o.name)) {
    // Names starting with `_` are the engine's read-only built-ins.
    throw invalid(`${field}.name must be letters, digits, '_', '.', '-' (not starting with '_'), at most 256`, `${field}.name`);
  }
  if (typeof o.value !== 'string') throw invalid(`${field}.value must be text`, `${field}.value`);
  if (o.value.length > MAX_VARIABLE_VALUE) throw invalid(`${field}.value is longer than ${MAX_VARIABLE_VALUE}`, `${field}.value`);
  if (o.hidden !== undefined && typeof o.hidden !== 'boolean') throw invalid(`${field}.hidden must be true or false`, `${field}.hidden`);
  return { name: o.name, value: o.value, hidden: o.hidden === true };
}

export function validateVariables(input: unknown, field: string, max = MAX_VARIABLES_PER_COMPUTER): Variable[] {
  if (!Array.isArray(input)) throw invalid(`${field} must be a list`, field);
  if (input.length > max) throw refused(`at most ${max} variables are supported (${input.length} given)`, 'R-23', field);
  const seen = new Set<string>();
  return input.map((x, i) => {
    const v = validateVariable(x, `${field}[${i}]`);
    const key = v.name.toLowerCase();
    if (seen.has(key)) throw invalid(`${field}[${i}].name ${v.name} is given twice`, `${field}[${i}].name`);
    seen.add(key);
    return v;
  });
}

export type VariableSource = { readonly kind: 'computer' } | { readonly kind: 'collection'; readonly collectionId: string };

export interface ResolvedVariable extends Variable {
  readonly source: VariableSource;
}

export interface CollectionVariables {
  readonly collectionId: string;
  readonly precedence: number;
  readonly variables: readonly Variable[];
}

/**
 * The variables a computer's task sequence sees: collection variables ordered by precedence
 * (9 beats 1; equal precedence resolved by collection id so the result never depends on
 * input order), then the computer's own, which win over any collection's.
 * Keys are lower-cased names.
 */
export function mergeVariables(
  computer: readonly Variable[],
  collections: readonly CollectionVariables[],
): Map<string, ResolvedVariable> {
  const ordered = [...collections].sort(
    (a, b) => a.precedence - b.precedence || (a.collectionId < b.collectionId ? 1 : a.collectionId > b.collectionId ? -1 : 0),
  );
  const out = new Map<string, ResolvedVariable>();
  for (const c of ordered)
    for (const v of c.variables) out.set(v.name.toLowerCase(), { ...v, source: { kind: 'collection', collectionId: c.collectionId } });
  for (const v of computer) out.set(v.name.toLowerCase(), { ...v, source: { kind: 'computer' } });
  return out;
}

/** What a person may see of a variable: a hidden value is never shown. */
export interface VariableView {
  readonly name: string;
  readonly value: string | null;
  readonly hidden: boolean;
}

export function maskVariable(v: Variable): VariableView {
  return { name: v.name, value: v.hidden ? null : v.value, hidden: v.hidden };
}

export const maskVariables = (vs: readonly Variable[]): VariableView[] => vs.map(maskVariable);
