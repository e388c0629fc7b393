/**
 * Checks a task sequence read from an export file before anything is imported. The
 * file is foreign input: every field is checked as the editor would check it, the tree is
 * bounded like an edited one, and a secret value in the file is refused — exports never carry
 * them, so one there means the file was not made by an export, or was tampered with.
 */
import { invalid, PolicyError } from '../errors.js';
import { normalizeName } from '../normalize.js';
import { secretPropertyNames, stepType, validateStepProperties } from '../steps/catalog.js';
import type { PropertyValue } from '../steps/types.js';
import { validateCondition } from '../task-sequences/conditions.js';
import { MAX_DEPTH, MAX_ITEMS } from '../task-sequences/edit.js';
import { TASK_SEQUENCE_TYPES, type Item, type TaskSequence, type TaskSequenceType } from '../task-sequences/model.js';

const RULE = 'R-28';
/** The fields an exported task sequence has: everything but the ids that belong to a site. */
export type ImportedTaskSequence = Omit<TaskSequence, 'id' | 'folderId'>;

const FIELDS = ['name', 'description', 'type', 'enabled', 'bootImageId', 'items', 'nextItemId', 'strippedSecrets'];
const ITEM_FIELDS = new Set(['id', 'kind', 'name', 'description', 'enabled', 'continueOnError', 'condition', 'type', 'properties', 'children']);
const ITEM_ID = /^i([1-9][0-9]{0,8})$/;
/** Content ids as content/ allows them; the reference check says whether they exist. */
const CONTENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

type Obj = Record<string, unknown>;

/** Throws `invalid` naming `where` (e.g. `objects/PS100004.json: items[2].name`). */
export function validateImportedTaskSequence(input: unknown, where: string): ImportedTaskSequence {
  const bad: Bad = (field, what) => invalid(`${where}: ${field} ${what}`, field, RULE);
  bad.raw = (field, message) => invalid(`${where}: ${message}`, field, RULE);
  const o = asObject(input, () => bad('task sequence', 'must be an object'));
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) throw bad(k, 'is not a task sequence field');
  const state = { count: 0, ids: new Set<string>(), steps: new Map<string, string>(), maxNumber: 0 };
  const name = rethrow(() => normalizeName(str(o.name, () => bad('name', 'must be text'))), (m) => bad('name', m));
  const type = o.type as TaskSequenceType;
  if (!TASK_SEQUENCE_TYPES.includes(type)) throw bad('type', `must be one of ${TASK_SEQUENCE_TYPES.join(', ')}`);
  const bootImageId = o.bootImageId === null ? null : str(o.bootImageId, () => bad('bootImageId', 'must be a content id or null'));
  if (bootImageId !== null && !CONTENT_ID.test(bootImageId)) throw bad('bootImageId', 'must be a content id or null');
  const nextItemId = o.nextItemId;
  if (typeof nextItemId !== 'number' || !Number.isSafeInteger(nextItemId) || nextItemId < 1) throw bad('nextItemId', 'must be a positive integer');
  if (!Array.isArray(o.items)) throw bad('items', 'must be a list');
  const items = o.items.map((x, i) => checkItem(x, `items[${i}]`, 1, state, bad));
  if (state.maxNumber >= nextItemId) throw bad('nextItemId', `must be greater than every item id (i${state.maxNumber} exists)`);
  return {
    name,
    description: description(o.description, 'description', bad),
    type,
    enabled: bool(o.enabled, 'enabled', bad),
    bootImageId,
    items,
    nextItemId,
    strippedSecrets: checkStripped(o.strippedSecrets, state.steps, bad),
  };
}

interface TreeState {
  count: number;
  readonly ids: Set<string>;
  /** Step item id → step type, for the stripped-secret check. */
  readonly steps: Map<string, string>;
  maxNumber: number;
}

interface Bad {
  (field: string, what: string): PolicyError;
  /** For messages that already name their field (the editor's own checks). */
  raw?: (field: string, message: string) => PolicyError;
}

function checkItem(input: unknown, at: string, depth: number, state: TreeState, bad: Bad): Item {
  const o = asObject(input, () => bad(at, 'must be an object'));
  for (const k of Object.keys(o)) if (!ITEM_FIELDS.has(k)) throw bad(`${at}.${k}`, 'is not an item field');
  if (depth > MAX_DEPTH) throw bad(at, `nests deeper than ${MAX_DEPTH} groups`);
  if (++state.count > MAX_ITEMS) throw bad('items', `hold more than ${MAX_ITEMS} steps and groups`);
  const id = str(o.id, () => bad(`${at}.id`, 'must be text'));
  const m = ITEM_ID.exec(id);
  if (!m) throw bad(`${at}.id`, 'must look like i1, i2…');
  if (state.ids.has(id)) throw bad(`${at}.id`, `${id} is used twice`);
  state.ids.add(id);
  state.maxNumber = Math.max(state.maxNumber, Number(m[1]));
  const base = {
    id,
    name: rethrow(() => normalizeName(str(o.name, () => bad(`${at}.name`, 'must be text'))), (msg) => bad(`${at}.name`, msg)),
    description: description(o.description, `${at}.description`, bad),
    enabled: bool(o.enabled, `${at}.enabled`, bad),
    continueOnError: bool(o.continueOnError, `${at}.continueOnError`, bad),
    condition: o.condition === null ? null : rethrow(() => validateCondition(o.condition, `${at}.condition`), (msg) => bad.raw!(`${at}.condition`, msg)),
  };
  if (o.kind === 'group') {
    if (o.type !== undefined || o.properties !== undefined) throw bad(at, 'is a group and has no type or properties');
    if (!Array.isArray(o.children)) throw bad(`${at}.children`, 'must be a list');
    return { ...base, kind: 'group', children: o.children.map((c, i) => checkItem(c, `${at}.children[${i}]`, depth + 1, state, bad)) };
  }
  if (o.kind !== 'step') throw bad(`${at}.kind`, 'must be step or group');
  if (o.children !== undefined) throw bad(at, 'is a step and has no children');
  const type = str(o.type, () => bad(`${at}.type`, 'must be text'));
  if (!stepType(type)) throw bad(`${at}.type`, `${JSON.stringify(type)} is not a step type of this site's catalog`);
  state.steps.set(id, type);
  return { ...base, kind: 'step', type, properties: checkProperties(type, o.properties, at, bad) };
}

/**
 * Each value is checked as an edit would check it; then the whole step as the editor would,
 * with stand-ins for the secrets the export removed so "required password" does not refuse it.
 */
function checkProperties(type: string, input: unknown, at: string, bad: Bad): Record<string, PropertyValue> {
  const props = rethrow(() => validateStepProperties(type, input, { partial: true }), (m) => bad.raw!(`${at}.properties`, `${at}: ${m}`));
  const secrets = secretPropertyNames(type);
  for (const name of secrets) if (props[name] !== undefined) throw bad(`${at}.properties.${name}`, 'is a secret; export files never carry secrets (R-27)');
  const standIns = Object.fromEntries(secrets.map((s) => [s, 'stand-in']));
  rethrow(() => validateStepProperties(type, { ...props, ...standIns }), (m) => bad.raw!(`${at}.properties`, `${at}: ${m}`));
  return props;
}

function checkStripped(input: unknown, steps: ReadonlyMap<string, string>, bad: Bad): string[] {
  if (!Array.isArray(input)) throw bad('strippedSecrets', 'must be a list');
  const seen = new Set<string>();
  return input.map((entry, i) => {
    const field = `strippedSecrets[${i}]`;
    const text = str(entry, () => bad(field, 'must be text'));
    const dot = text.indexOf('.');
    const type = steps.get(text.slice(0, dot));
    if (dot < 0 || type === undefined) throw bad(field, `${JSON.stringify(text)} names no step of this task sequence`);
    if (!secretPropertyNames(type).includes(text.slice(dot + 1))) throw bad(field, `${JSON.stringify(text)} is not a secret of a ${type} step`);
    if (seen.has(text)) throw bad(field, `${JSON.stringify(text)} is listed twice`);
    seen.add(text);
    return text;
  });
}

function asObject(v: unknown, fail: () => PolicyError): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail();
  return v as Obj;
}

function str(v: unknown, fail: () => PolicyError): string {
  if (typeof v !== 'string') throw fail();
  return v;
}

function bool(v: unknown, field: string, bad: Bad): boolean {
  if (typeof v !== 'boolean') throw bad(field, 'must be true or false');
  return v;
}

function description(v: unknown, field: string, bad: Bad): string {
  if (typeof v !== 'string' || v.length > 4096) throw bad(field, 'must be text of at most 4096 characters');
  return v;
}

/** Runs `fn`; a policy error it throws is re-thrown through `wrap` so the message names the file and field. */
function rethrow<T>(fn: () => T, wrap: (message: string) => PolicyError): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PolicyError) throw wrap(e.message);
    throw e;
  }
}
