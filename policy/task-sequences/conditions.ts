/**
 * Conditions on task sequence variables, evaluated by the engine before a step or
 * group runs. Names compare case-insensitively, as task sequence variables do.
 */
import { invalid } from '../errors.js';

export const VARIABLE_OPERATORS = [
  'exists',
  'notExists',
  'equals',
  'notEquals',
  'greaterThan',
  'greaterOrEqual',
  'lessThan',
  'lessOrEqual',
  'like', // `%` any run, `_` one character (SQL LIKE, as the editor's "like")
] as const;
export type VariableOperator = (typeof VARIABLE_OPERATORS)[number];

export type Condition =
  | { readonly kind: 'and'; readonly conditions: readonly Condition[] }
  | { readonly kind: 'or'; readonly conditions: readonly Condition[] }
  | { readonly kind: 'not'; readonly condition: Condition }
  | { readonly kind: 'variable'; readonly name: string; readonly operator: VariableOperator; readonly value?: string };

/** A view of variables by lower-cased name. */
export type VariableLookup = (name: string) => string | undefined;

const MAX_DEPTH = 16;

export function validateCondition(c: unknown, path = 'condition', depth = 0): Condition {
  if (depth > MAX_DEPTH) throw invalid(`${path} nests deeper than ${MAX_DEPTH} levels`, path);
  if (typeof c !== 'object' || c === null) throw invalid(`${path} must be an object`, path);
  const o = c as Record<string, unknown>;
  switch (o.kind) {
    case 'and':
    case 'or': {
      if (!Array.isArray(o.conditions) || o.conditions.length === 0)
        throw invalid(`${path}.conditions must be a non-empty list`, `${path}.conditions`);
      return {
        kind: o.kind,
        conditions: o.conditions.map((x, i) => validateCondition(x, `${path}.conditions[${i}]`, depth + 1)),
      };
    }
    case 'not':
      return { kind: 'not', condition: validateCondition(o.condition, `${path}.condition`, depth + 1) };
    case 'variable': {
      if (typeof o.name !== 'string' || !/^[A-Za-z0-9_]{1,256}$/.test(o.name))
        throw invalid(`${path}.name must be a variable name`, `${path}.name`);
      if (!VARIABLE_OPERATORS.includes(o.operator as VariableOperator))
        throw invalid(`${path}.operator must be one of ${VARIABLE_OPERATORS.join(', ')}`, `${path}.operator`);
      const operator = o.operator as VariableOperator;
      const needsValue = operator !== 'exists' && operator !== 'notExists';
      if (needsValue && typeof o.value !== 'string') throw invalid(`${path}.value is required for ${operator}`, `${path}.value`);
      return needsValue ? { kind: 'variable', name: o.name, operator, value: o.value as string } : { kind: 'variable', name: o.name, operator };
    }
    default:
      throw invalid(`${path}.kind must be and, or, not or variable`, `${path}.kind`);
  }
}

export function evaluateCondition(c: Condition, lookup: VariableLookup): boolean {
  switch (c.kind) {
    case 'and':
      return c.conditions.every((x) => evaluateCondition(x, lookup));
    case 'or':
      return c.conditions.some((x) => evaluateCondition(x, lookup));
    case 'not':
      return !evaluateCondition(c.condition, lookup);
    case 'variable':
      return compareVariable(lookup(c.name.toLowerCase()), c.operator, c.value ?? '');
  }
}

const NUMBER = /^-?\d+(\.\d+)?$/;

/** Numeric comparison when both sides are numbers, else case-insensitive text. */
function order(a: string, b: string): number {
  if (NUMBER.test(a) && NUMBER.test(b)) return Math.sign(Number(a) - Number(b));
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

function likeToRegExp(pattern: string): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '%') re += '.*';
    else if (ch === '_') re += '.';
    else re += ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'is');
}

function compareVariable(actual: string | undefined, op: VariableOperator, value: string): boolean {
  if (op === 'exists') return actual !== undefined;
  if (op === 'notExists') return actual === undefined;
  // A variable that does not exist satisfies no comparison but "not equals".
  if (actual === undefined) return op === 'notEquals';
  switch (op) {
    case 'equals':
      return order(actual, value) === 0;
    case 'notEquals':
      return order(actual, value) !== 0;
    case 'greaterThan':
      return order(actual, value) > 0;
    case 'greaterOrEqual':
      return order(actual, value) >= 0;
    case 'lessThan':
      return order(actual, value) < 0;
    case 'lessOrEqual':
      return order(actual, value) <= 0;
    case 'like':
      return likeToRegExp(value).test(actual);
  }
}
