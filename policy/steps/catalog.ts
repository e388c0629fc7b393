/**
 * The step catalog: lookup, property validation, secrets and content references of
 * task sequence step types. The data lives in catalog-data.ts; this file holds the rules.
 *
 * Secrets are validated like any other property, but views go through
 * `redactSecrets`, exports strip them, and `missingSecrets` says what must be given again.
 */
import type { ContentKind } from '../content-refs.js';
import { invalid, type PolicyError } from '../errors.js';
import { STEP_CATALOG_DATA } from './catalog-data.js';
import type { Assignment, PropertyDef, PropertyValue, StepCategory, StepTypeDef } from './types.js';

const RULE = 'R-03';
/** Hostile-input bounds: generous for real task sequences, small enough to store. */
const MAX_STRING = 4096;
const MAX_TEXT = 1024 * 1024;
const MAX_LIST = 1000;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

export const STEP_CATALOG: readonly StepTypeDef[] = deepFreeze(STEP_CATALOG_DATA);

const BY_TYPE = new Map<string, StepTypeDef>(STEP_CATALOG.map((def) => [def.type, def]));

export function stepType(type: string): StepTypeDef | undefined {
  return BY_TYPE.get(type);
}

function requireType(type: string): StepTypeDef {
  const def = BY_TYPE.get(type);
  if (!def) throw invalid(`unknown step type ${JSON.stringify(type)}`, 'type', RULE);
  return def;
}

export interface StepCategoryGroup {
  readonly category: StepCategory;
  readonly steps: readonly StepTypeDef[];
}

const CATEGORIES: readonly StepCategoryGroup[] = (() => {
  const groups = new Map<StepCategory, StepTypeDef[]>();
  for (const def of STEP_CATALOG) {
    const list = groups.get(def.category) ?? [];
    list.push(def);
    groups.set(def.category, list);
  }
  return deepFreeze([...groups].map(([category, steps]) => ({ category, steps })));
})();

/** Categories with their step types, both in catalog order: the editor's Add menu. */
export function stepCategories(): readonly StepCategoryGroup[] {
  return CATEGORIES;
}

// ---- validation ----

const fieldOf = (prop: PropertyDef): string => `properties.${prop.name}`;
const bad = (prop: PropertyDef, what: string): PolicyError => invalid(`${fieldOf(prop)} ${what}`, fieldOf(prop), RULE);

function checkString(prop: PropertyDef, value: unknown, multiLine: boolean): string {
  if (typeof value !== 'string') throw bad(prop, 'must be a string');
  if (value.length > (multiLine ? MAX_TEXT : MAX_STRING)) throw bad(prop, 'is too long');
  // eslint-disable-next-line no-control-regex
  const forbidden = multiLine ? /\u0000/ : /[\u0000-\u001f\u007f]/;
  if (forbidden.test(value)) throw bad(prop, multiLine ? 'contains a NUL character' : 'must be one line without control characters');
  return value;
}

function checkInteger(prop: PropertyDef, value: unknown, where = ''): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw bad(prop, `${where}must be an integer`);
  if (prop.min !== undefined && value < prop.min) throw bad(prop, `${where}must be at least ${prop.min}`);
  if (prop.max !== undefined && value > prop.max) throw bad(prop, `${where}must be at most ${prop.max}`);
  return value;
}

function checkList(prop: PropertyDef, value: unknown): readonly unknown[] {
  if (!Array.isArray(value)) throw bad(prop, 'must be a list');
  if (value.length > MAX_LIST) throw bad(prop, `has more than ${MAX_LIST} entries`);
  return value;
}

function checkRef(prop: PropertyDef, value: unknown, where = ''): string {
  if (typeof value !== 'string' || value.trim() === '') throw bad(prop, `${where}must be a non-empty content id`);
  return checkString(prop, value.trim(), false);
}

function checkAssignment(prop: PropertyDef, value: unknown, index: number): Assignment {
  const where = `[${index}] `;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(prop, `${where}must be a { name, value } object`);
  const { name, value: v } = value as { name?: unknown; value?: unknown };
  if (typeof name !== 'string' || name.trim() === '') throw bad(prop, `${where}name must be a non-empty string`);
  if (typeof v !== 'string') throw bad(prop, `${where}value must be a string`);
  return { name: checkString(prop, name.trim(), false), value: checkString(prop, v, false) };
}

/** One value of one property, checked against its kind; returns a fresh normalised copy. */
function checkValue(prop: PropertyDef, value: unknown): PropertyValue {
  switch (prop.kind) {
    case 'string':
      return checkString(prop, value, false);
    case 'text':
      return checkString(prop, value, true);
    case 'boolean':
      if (typeof value !== 'boolean') throw bad(prop, 'must be true or false');
      return value;
    case 'integer':
      return checkInteger(prop, value);
    case 'enum':
      if (typeof value !== 'string' || !(prop.values ?? []).includes(value))
        throw bad(prop, `must be one of ${(prop.values ?? []).join(', ')}`);
      return value;
    case 'string-list':
      return checkList(prop, value).map((item, i) => {
        if (typeof item !== 'string') throw bad(prop, `[${i}] must be a string`);
        return checkString(prop, item, false);
      });
    case 'integer-list':
      return checkList(prop, value).map((item, i) => checkInteger(prop, item, `[${i}] `));
    case 'ref':
      return checkRef(prop, value);
    case 'ref-list':
      return checkList(prop, value).map((item, i) => checkRef(prop, item, `[${i}] `));
    case 'assignments':
      return checkList(prop, value).map((item, i) => checkAssignment(prop, item, i));
  }
}

/** Present and not blank: an empty string or list counts as no value. */
function hasValue(value: PropertyValue | undefined): boolean {
  if (value === undefined) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

/** A copy that shares no array or assignment object with `value`. */
function copyValue(value: PropertyValue): PropertyValue {
  if (!Array.isArray(value)) return value;
  const items: readonly unknown[] = value;
  return items.map((item) => (typeof item === 'object' && item !== null ? { ...(item as Assignment) } : item)) as PropertyValue;
}

/**
 * Validates a step's properties and returns a normalised copy (ref ids trimmed, assignment
 * names trimmed, nothing shared with the input). With `partial` (an edit that sends only the
 * changed properties, or a stripped import), required properties may be absent and no
 * defaults are filled in; every given value is still checked. `undefined` counts as absent.
 */
export function validateStepProperties(
  type: string,
  input: unknown,
  opts: { partial?: boolean } = {},
): Record<string, PropertyValue> {
  const def = requireType(type);
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw invalid('properties must be an object', 'properties', RULE);
  const byName = new Map(def.properties.map((p) => [p.name, p]));
  const out: Record<string, PropertyValue> = {};
  for (const [name, value] of Object.entries(input)) {
    const prop = byName.get(name);
    if (!prop) throw invalid(`step type ${def.type} has no property ${JSON.stringify(name)}`, `properties.${name}`, RULE);
    if (value !== undefined) out[name] = checkValue(prop, value);
  }
  if (opts.partial) return out;
  for (const prop of def.properties) {
    if (out[prop.name] === undefined && prop.default !== undefined) out[prop.name] = copyValue(prop.default);
    if (prop.required && !hasValue(out[prop.name])) throw bad(prop, `is required for ${def.displayName}`);
  }
  return out;
}

// ---- secrets ----

const SECRETS = new Map<string, readonly string[]>(
  STEP_CATALOG.map((def) => [def.type, Object.freeze(def.properties.filter((p) => p.secret).map((p) => p.name))]),
);

export function secretPropertyNames(type: string): readonly string[] {
  requireType(type);
  return SECRETS.get(type) ?? [];
}

/**
 * A view of a step safe to show or export: every secret property removed, plus the names of
 * the secrets that had a value (so a console can say "password: set"). An unknown type throws
 * rather than guess which properties are secret.
 */
export function redactSecrets(
  type: string,
  props: Readonly<Record<string, PropertyValue>>,
): { properties: Record<string, PropertyValue>; secretsSet: string[] } {
  const secrets = new Set(secretPropertyNames(type));
  const properties: Record<string, PropertyValue> = {};
  const secretsSet: string[] = [];
  for (const [name, value] of Object.entries(props)) {
    if (!secrets.has(name)) properties[name] = copyValue(value);
    else if (hasValue(value)) secretsSet.push(name);
  }
  return { properties, secretsSet };
}

/**
 * Secret properties that must be given (again) before the step can run: the required ones
 * without a value, and any named in `stripped` (e.g. secrets an export removed, R-28) that
 * still have none.
 */
export function missingSecrets(
  type: string,
  props: Readonly<Record<string, PropertyValue>>,
  stripped: readonly string[] = [],
): string[] {
  const def = requireType(type);
  const wanted = new Set(stripped);
  return def.properties
    .filter((p) => p.secret && (p.required || wanted.has(p.name)) && !hasValue(props[p.name]))
    .map((p) => p.name);
}

// ---- references (R-04) ----

export interface StepReference {
  readonly kind: ContentKind;
  readonly id: string;
  readonly property: string;
}

/** Every content id a step names through its ref and ref-list properties, in property order. */
export function referencesOfStep(type: string, props: Readonly<Record<string, PropertyValue>>): StepReference[] {
  const def = requireType(type);
  const refs: StepReference[] = [];
  for (const prop of def.properties) {
    if (prop.refKind === undefined || (prop.kind !== 'ref' && prop.kind !== 'ref-list')) continue;
    const value = props[prop.name];
    const ids: readonly unknown[] = Array.isArray(value) ? value : [value];
    for (const id of ids) {
      if (typeof id === 'string' && id.trim() !== '') refs.push({ kind: prop.refKind, id: id.trim(), property: prop.name });
    }
  }
  return refs;
}
