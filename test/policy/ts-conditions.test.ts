import t from 'tap';
import {
  PolicyError,
  VARIABLE_OPERATORS,
  evaluateCondition,
  validateCondition,
  type Condition,
  type VariableOperator,
} from '../../policy/index.js';

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

function expectInvalid(tt: Test, input: unknown, field: string, message?: RegExp): void {
  try {
    validateCondition(input);
  } catch (err) {
    tt.type(err, PolicyError);
    tt.equal((err as PolicyError).code, 'invalid');
    tt.equal((err as PolicyError).field, field, 'field');
    if (message) tt.match((err as PolicyError).message, message);
    return;
  }
  tt.fail(`expected a condition refused at ${field}`);
}

const v = (name: string, operator: VariableOperator, value?: string): Condition =>
  value === undefined ? { kind: 'variable', name, operator } : { kind: 'variable', name, operator, value };
const not = (condition: Condition): Condition => ({ kind: 'not', condition });
const and = (...conditions: Condition[]): Condition => ({ kind: 'and', conditions });
const or = (...conditions: Condition[]): Condition => ({ kind: 'or', conditions });

/** The engine looks variables up by lower-cased name. */
const lookup = (vars: Record<string, string>) => {
  const map = new Map(Object.entries(vars).map(([k, x]) => [k.toLowerCase(), x]));
  return (name: string) => map.get(name);
};
const evalWith = (c: Condition, vars: Record<string, string>): boolean => evaluateCondition(c, lookup(vars));

t.test('R-02 validateCondition accepts every operator and returns a clean copy', async (t) => {
  for (const op of VARIABLE_OPERATORS) {
    const needsValue = op !== 'exists' && op !== 'notExists';
    const input = { kind: 'variable', name: 'OSDisk', operator: op, value: 'C:', extra: 1 };
    t.same(validateCondition(input), needsValue ? v('OSDisk', op, 'C:') : v('OSDisk', op), op);
  }
  const tree = { kind: 'or', conditions: [v('A', 'exists'), { kind: 'not', condition: v('B', 'equals', '') }], note: 'x' };
  const out = validateCondition(tree);
  t.same(out, or(v('A', 'exists'), not(v('B', 'equals', ''))));
  t.not(out, tree, 'a new object');
});

t.test('R-02 validateCondition refuses a bad kind, naming where it is', async (t) => {
  expectInvalid(t, null, 'condition', /object/);
  expectInvalid(t, 'A = 1', 'condition');
  expectInvalid(t, {}, 'condition.kind');
  expectInvalid(t, { kind: 'xor', conditions: [v('A', 'exists')] }, 'condition.kind');
  expectInvalid(t, { kind: 'and', conditions: [] }, 'condition.conditions', /non-empty/);
  expectInvalid(t, { kind: 'or' }, 'condition.conditions');
  expectInvalid(t, { kind: 'not' }, 'condition.condition');
  expectInvalid(t, { kind: 'and', conditions: [v('A', 'exists'), { kind: 'maybe' }] }, 'condition.conditions[1].kind');
});

t.test('R-02 validateCondition refuses a missing value and a bad operator', async (t) => {
  for (const op of ['equals', 'notEquals', 'greaterThan', 'greaterOrEqual', 'lessThan', 'lessOrEqual', 'like'] as const) {
    expectInvalid(t, { kind: 'variable', name: 'A', operator: op }, 'condition.value', new RegExp(op));
    expectInvalid(t, { kind: 'variable', name: 'A', operator: op, value: 5 }, 'condition.value');
  }
  expectInvalid(t, { kind: 'variable', name: 'A', operator: '==', value: '1' }, 'condition.operator');
  expectInvalid(t, { kind: 'variable', name: 'A' }, 'condition.operator');
  expectInvalid(t, not({ kind: 'variable', name: 'A', operator: 'like' } as Condition), 'condition.condition.value');
});

t.test('R-02 validateCondition refuses a bad variable name', async (t) => {
  for (const name of ['', 'two words', 'a-b', '%OSDisk%', 'x'.repeat(257), 42, undefined, 'naïve'])
    expectInvalid(t, { kind: 'variable', name, operator: 'exists' }, 'condition.name');
  t.same(validateCondition(v('x'.repeat(256), 'exists')), v('x'.repeat(256), 'exists'), '256 characters is fine');
  t.same(validateCondition(v('_SMSTSBootUEFI', 'exists')), v('_SMSTSBootUEFI', 'exists'));
});

t.test('R-02 validateCondition refuses nesting deeper than 16 levels', async (t) => {
  let ok: Condition = v('A', 'exists');
  for (let i = 0; i < 16; i++) ok = not(ok);
  t.same(validateCondition(ok), ok, '16 levels of not');
  const tooDeep = not(ok);
  expectInvalid(t, tooDeep, 'condition' + '.condition'.repeat(17), /deeper than 16/);
  let wide: Condition = v('A', 'exists');
  for (let i = 0; i < 17; i++) wide = and(wide, v('B', 'exists'));
  expectInvalid(t, wide, 'condition' + '.conditions[0]'.repeat(17));
  let hostile: unknown = v('A', 'exists');
  for (let i = 0; i < 100_000; i++) hostile = { kind: 'not', condition: hostile };
  expectInvalid(t, hostile, 'condition' + '.condition'.repeat(17));
});

t.test('R-02 and, or and not combine as logic does', async (t) => {
  const T = v('A', 'exists');
  const F = v('Missing', 'exists');
  const rows: [Condition, boolean][] = [
    [and(T, T, T), true],
    [and(T, F, T), false],
    [and(F), false],
    [or(F, F, T), true],
    [or(F, F), false],
    [or(T), true],
    [not(T), false],
    [not(F), true],
    [not(not(T)), true],
    [and(or(F, T), not(F)), true],
    [or(and(T, F), not(T)), false],
  ];
  for (const [c, expected] of rows) t.equal(evalWith(c, { A: '1' }), expected, JSON.stringify(c));
});

t.test('R-02 exists and notExists look names up case-insensitively; an empty value exists', async (t) => {
  const vars = { osdisk: 'C:', Empty: '' };
  t.equal(evalWith(v('OSDisk', 'exists'), vars), true);
  t.equal(evalWith(v('OSDISK', 'notExists'), vars), false);
  t.equal(evalWith(v('Other', 'exists'), vars), false);
  t.equal(evalWith(v('Other', 'notExists'), vars), true);
  t.equal(evalWith(v('empty', 'exists'), vars), true);
  t.equal(evalWith(v('empty', 'equals', ''), vars), true);
  const asked: string[] = [];
  evaluateCondition(v('_SMSTSInWinPE', 'equals', 'true'), (n) => {
    asked.push(n);
    return undefined;
  });
  t.same(asked, ['_smstsinwinpe'], 'the lookup gets the lower-cased name');
});

t.test('R-02 equals and notEquals ignore case, and numbers compare as numbers', async (t) => {
  const rows: [string, VariableOperator, string, boolean][] = [
    ['Dell Inc.', 'equals', 'DELL INC.', true],
    ['Dell Inc.', 'equals', 'Dell', false],
    ['Dell Inc.', 'notEquals', 'dell inc.', false],
    ['Dell Inc.', 'notEquals', 'HP', true],
    ['01', 'equals', '1', true],
    ['5.0', 'equals', '5', true],
    ['5', 'notEquals', '6', true],
  ];
  for (const [actual, op, value, expected] of rows) t.equal(evalWith(v('X', op, value), { X: actual }), expected, `${actual} ${op} ${value}`);
});

t.test('R-02 ordering is numeric when both sides are numbers, else case-insensitive text', async (t) => {
  const rows: [string, VariableOperator, string, boolean][] = [
    ['10', 'greaterThan', '9', true],
    ['9', 'lessThan', '10', true],
    ['10', 'lessThan', '9', false],
    ['-1', 'lessThan', '0', true],
    ['2.5', 'greaterThan', '2.25', true],
    ['4096', 'greaterOrEqual', '4096', true],
    ['4095', 'greaterOrEqual', '4096', false],
    ['4096', 'lessOrEqual', '4096.0', true],
    ['b', 'greaterThan', 'a', true],
    ['B', 'greaterThan', 'a', true],
    ['a', 'greaterThan', 'B', false],
    ['a', 'lessThan', 'b', true],
    ['abc', 'greaterOrEqual', 'ABC', true],
    ['abc', 'lessOrEqual', 'ABC', true],
    ['10a', 'lessThan', '9', true],
  ];
  for (const [actual, op, value, expected] of rows) t.equal(evalWith(v('X', op, value), { X: actual }), expected, `${actual} ${op} ${value}`);
});

t.test('R-02 like matches the whole value: % is any run, _ is one character, case ignored', async (t) => {
  const rows: [string, string, boolean][] = [
    ['HP EliteBook 840 G5', 'HP%840%', true],
    ['HP EliteBook 840 G5', 'hp elitebook%', true],
    ['HP EliteBook 840 G5', '%G5', true],
    ['HP EliteBook 840 G5', 'EliteBook%', false],
    ['HP EliteBook 840 G5', '%EliteBook', false],
    ['G5', 'G_', true],
    ['G55', 'G_', false],
    ['G', 'G_', false],
    ['', '%', true],
    ['anything', '%', true],
    ['line1\nline2', 'line1%line2', true],
    ['20H2', '__H_', true],
  ];
  for (const [actual, pattern, expected] of rows) t.equal(evalWith(v('Model', 'like', pattern), { Model: actual }), expected, `${JSON.stringify(actual)} like ${pattern}`);
});

t.test('R-02 regular expression characters in a like pattern are literal', async (t) => {
  const rows: [string, string, boolean][] = [
    ['a.c', 'a.c', true],
    ['abc', 'a.c', false],
    ['a+b', 'a+b', true],
    ['aab', 'a+b', false],
    ['(x)', '(x)', true],
    ['x', '(x)', false],
    ['[ab]', '[ab]', true],
    ['a', '[ab]', false],
    ['a|b', 'a|b', true],
    ['a', 'a|b', false],
    ['^x$', '^x$', true],
    ['x', '^x$', false],
    ['C:\\Windows\\System32', 'C:\\%', true],
    ['C:Windows', 'C:\\%', false],
    ['anything', '.*', false],
    ['.*', '.*', true],
    ['a{2}', 'a{2}', true],
    ['aa', 'a{2}', false],
    ['what?', 'what?', true],
    ['wha', 'what?', false],
    ['a/b', 'a/b', true],
  ];
  for (const [actual, pattern, expected] of rows) t.equal(evalWith(v('X', 'like', pattern), { X: actual }), expected, `${actual} like ${pattern}`);
});

t.test('R-02 a missing variable satisfies notEquals and notExists only', async (t) => {
  const expected: Record<VariableOperator, boolean> = {
    exists: false, notExists: true, equals: false, notEquals: true, greaterThan: false,
    greaterOrEqual: false, lessThan: false, lessOrEqual: false, like: false,
  };
  for (const op of VARIABLE_OPERATORS) {
    t.equal(evalWith(v('Absent', op, ''), { Present: '' }), expected[op], `${op} ''`);
    t.equal(evalWith(v('Absent', op, '%'), {}), expected[op], `${op} %`);
  }
  t.equal(evalWith(not(v('Absent', 'equals', 'x')), {}), true, 'not(equals) of a missing variable is true');
});

t.test('R-02 a validated condition from JSON evaluates like the original', async (t) => {
  const c = and(or(v('_SMSTSBootUEFI', 'equals', 'TRUE'), v('Model', 'like', '%Surface%')), not(v('SkipOSD', 'exists')), v('Memory', 'greaterOrEqual', '8192'));
  const parsed = validateCondition(JSON.parse(JSON.stringify(c)));
  const machines: [Record<string, string>, boolean][] = [
    [{ _SMSTSBootUEFI: 'true', Memory: '16384' }, true],
    [{ _SMSTSBootUEFI: 'false', Model: 'Microsoft Surface Pro 7', Memory: '8192' }, true],
    [{ _SMSTSBootUEFI: 'false', Model: 'Latitude 7490', Memory: '16384' }, false],
    [{ _SMSTSBootUEFI: 'true', Memory: '16384', SkipOSD: '' }, false],
    [{ _SMSTSBootUEFI: 'true', Memory: '4096' }, false],
  ];
  for (const [vars, expected] of machines) {
    t.equal(evalWith(parsed, vars), expected, JSON.stringify(vars));
    t.equal(evalWith(c, vars), expected);
  }
});
