import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import {
  MAX_DEPTH,
  PolicyError,
  applyEdit,
  applyEdits,
  countItems,
  createTaskSequence,
  maxDepth,
  walk,
  type EditOp,
  type Item,
  type PolicyErrorCode,
  type StepItem,
  type TaskSequence,
} from '../../policy/index.js';

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

function expectError(tt: Test, fn: () => unknown, code: PolicyErrorCode, field?: string): PolicyError | undefined {
  try {
    fn();
  } catch (err) {
    tt.type(err, PolicyError);
    const e = err as PolicyError;
    tt.equal(e.code, code, `code (${e.message})`);
    if (field !== undefined) tt.equal(e.field, field, 'field');
    return e;
  }
  tt.fail(`expected a ${code} error`);
  return undefined;
}

/** `A G(B C) D`: names, with a group's children in parentheses. */
const shape = (items: readonly Item[]): string =>
  items.map((i) => (i.kind === 'group' ? `${i.name}(${shape(i.children)})` : i.name)).join(' ');

const all = (ts: TaskSequence): Item[] => [...walk(ts.items)].map((w) => w.item);
const byId = (ts: TaskSequence, id: string): Item => all(ts).find((i) => i.id === id)!;
const cmd = (name: string, parentId: string | null = null): Extract<EditOp, { op: 'addStep' }> => ({
  op: 'addStep', type: 'RunCommandLine', name, properties: { commandLine: `cmd /c ${name}` }, position: { parentId },
});

const empty = createTaskSequence('PS100001', { type: 'custom', name: 'Edited' });
/** A=i1, G=i2 holding B=i3 and C=i4, D=i5. */
const base = applyEdits(empty, [cmd('A'), { op: 'addGroup', name: 'G' }, cmd('B', 'i2'), cmd('C', 'i2'), cmd('D')]);
const move = (ts: TaskSequence, op: 'moveUp' | 'moveDown', itemId: string): TaskSequence => applyEdit(ts, { op, itemId });

t.test('R-02 the fixture is built by adds in order with fresh ids', async (t) => {
  t.equal(shape(base.items), 'A G(B C) D');
  t.same(all(base).map((i) => i.id), ['i1', 'i2', 'i3', 'i4', 'i5']);
  t.equal(base.nextItemId, 6);
});

t.test('R-02 add step of a catalog type: default name is the display name; a custom name is free text', async (t) => {
  const ts = applyEdit(base, { op: 'addStep', type: 'FormatAndPartitionDisk', properties: { diskNumber: 0 } });
  const added = ts.items.at(-1) as StepItem;
  t.same([added.id, added.name, added.type, added.kind], ['i6', 'Format and Partition Disk', 'FormatAndPartitionDisk', 'step']);
  t.equal(added.properties.diskType, 'gpt', 'catalog defaults are filled in');
  t.same([added.enabled, added.continueOnError, added.condition, added.description], [true, false, null, '']);
  t.equal(ts.nextItemId, 7);
  const named = applyEdit(base, { op: 'addStep', type: 'FormatAndPartitionDisk', name: '  Partition disk 0 ', properties: { diskNumber: 0 } });
  t.equal(named.items.at(-1)!.name, 'Partition disk 0');
  t.equal((named.items.at(-1) as StepItem).type, 'FormatAndPartitionDisk', 'the type is not the name');
  const opts = applyEdit(base, {
    op: 'addStep', type: 'ReleaseStateStore', description: 'why', enabled: false, continueOnError: true,
    condition: { kind: 'variable', name: 'X', operator: 'exists' },
  });
  t.same(
    { d: opts.items.at(-1)!.description, e: opts.items.at(-1)!.enabled, c: opts.items.at(-1)!.continueOnError, k: opts.items.at(-1)!.condition },
    { d: 'why', e: false, c: true, k: { kind: 'variable', name: 'X', operator: 'exists' } },
  );
  t.equal(base.items.length, 3, 'the input is not changed');
});

t.test('R-02 add step refuses unknown types, bad properties and bad options', async (t) => {
  const e = expectError(t, () => applyEdit(base, { op: 'addStep', type: 'FormatC' }), 'invalid', 'type');
  t.equal(e?.rule, 'R-03');
  expectError(t, () => applyEdit(base, { op: 'addStep', type: 'RunCommandLine' }), 'invalid', 'properties.commandLine');
  expectError(t, () => applyEdit(base, { op: 'addStep', type: 'RunCommandLine', properties: { commandLine: 'x', bogus: 1 } }), 'invalid', 'properties.bogus');
  expectError(t, () => applyEdit(base, { op: 'addStep', type: 'ReleaseStateStore', name: ' ' }), 'invalid', 'name');
  expectError(t, () => applyEdit(base, { op: 'addStep', type: 'ReleaseStateStore', name: 42 as never }), 'invalid', 'name');
  expectError(t, () => applyEdit(base, { op: 'addStep', type: 'ReleaseStateStore', enabled: 'yes' as never }), 'invalid', 'enabled');
  expectError(t, () => applyEdit(base, { op: 'addStep', type: 'ReleaseStateStore', condition: { kind: 'maybe' } }), 'invalid', 'condition.kind');
});

t.test('R-02 add a group, and add into a group at an index', async (t) => {
  const g = applyEdit(base, { op: 'addGroup' });
  t.same([g.items.at(-1)!.name, g.items.at(-1)!.kind, g.items.at(-1)!.id], ['New Group', 'group', 'i6']);
  const first = applyEdit(base, { ...cmd('X', 'i2'), position: { parentId: 'i2', index: 0 } });
  t.equal(shape(first.items), 'A G(X B C) D');
  const mid = applyEdit(base, { ...cmd('X'), position: { parentId: null, index: 1 } });
  t.equal(shape(mid.items), 'A X G(B C) D');
  const nested = applyEdits(base, [{ op: 'addGroup', name: 'H', position: { parentId: 'i2', index: 1 } }, cmd('Y', 'i6')]);
  t.equal(shape(nested.items), 'A G(B H(Y) C) D');
  expectError(t, () => applyEdit(base, { ...cmd('X'), position: { parentId: 'i2', index: 3 } }), 'invalid', 'position.index');
  expectError(t, () => applyEdit(base, { ...cmd('X'), position: { parentId: null, index: -1 } }), 'invalid', 'position.index');
  expectError(t, () => applyEdit(base, cmd('X', 'i1')), 'invalid', 'position.parentId');
  expectError(t, () => applyEdit(base, cmd('X', 'i99')), 'not-found', 'itemId');
});

t.test('R-02 groups nest at most MAX_DEPTH deep, whether added or moved there', async (t) => {
  const ops: EditOp[] = [{ op: 'addGroup', name: 'H' }, { op: 'addGroup', name: 'G1' }];
  for (let n = 2; n <= MAX_DEPTH; n++) ops.push({ op: 'addGroup', name: `G${n}`, position: { parentId: `i${n}` } });
  const deep = applyEdits(empty, ops);
  t.equal(maxDepth(deep.items), MAX_DEPTH);
  const innermost = `i${MAX_DEPTH + 1}`;
  expectError(t, () => applyEdit(deep, cmd('X', innermost)), 'refused');
  const e = expectError(t, () => move(deep, 'moveUp', 'i2'), 'refused');
  t.equal(e?.rule, 'R-02');
  t.equal(shape(move(deep, 'moveDown', 'i1').items).startsWith('G1(H() G2('), true, 'a shallow move still works');
});

t.test('R-02 remove a step, or a group with everything inside it', async (t) => {
  t.equal(shape(applyEdit(base, { op: 'remove', itemId: 'i3' }).items), 'A G(C) D');
  const noGroup = applyEdit(base, { op: 'remove', itemId: 'i2' });
  t.equal(shape(noGroup.items), 'A D');
  t.equal(countItems(noGroup.items), 2);
  t.equal(noGroup.nextItemId, 6, 'ids are never reused');
  const again = applyEdit(noGroup, cmd('E'));
  t.equal(again.items.at(-1)!.id, 'i6');
  expectError(t, () => applyEdit(noGroup, { op: 'remove', itemId: 'i3' }), 'not-found', 'itemId');
});

t.test('R-02 rename, describe, enable/disable and continue on error change only that item', async (t) => {
  const ts = applyEdits(base, [
    { op: 'rename', itemId: 'i3', name: '  Partition disk 0 ' },
    { op: 'setDescription', itemId: 'i3', description: 'first disk' },
    { op: 'setEnabled', itemId: 'i2', enabled: false },
    { op: 'setContinueOnError', itemId: 'i4', continueOnError: true },
  ]);
  const [b, g, c] = [byId(ts, 'i3'), byId(ts, 'i2'), byId(ts, 'i4')];
  t.same([b.name, b.description, (b as StepItem).type], ['Partition disk 0', 'first disk', 'RunCommandLine']);
  t.same([g.enabled, c.continueOnError, c.enabled, b.continueOnError], [false, true, true, false]);
  t.same(byId(ts, 'i1'), byId(base, 'i1'), 'others untouched');
  const back = applyEdit(ts, { op: 'setEnabled', itemId: 'i2', enabled: true });
  t.equal(byId(back, 'i2').enabled, true);
  expectError(t, () => applyEdit(base, { op: 'rename', itemId: 'i1', name: '' }), 'invalid', 'name');
  expectError(t, () => applyEdit(base, { op: 'setDescription', itemId: 'i1', description: 'x'.repeat(4097) }), 'invalid', 'description');
  expectError(t, () => applyEdit(base, { op: 'setContinueOnError', itemId: 'i1', continueOnError: 1 as never }), 'invalid', 'continueOnError');
  for (const op of ['rename', 'setDescription', 'setEnabled', 'setCondition', 'moveUp', 'moveDown'] as const)
    expectError(t, () => applyEdit(base, { op, itemId: 'i42', name: 'x', description: '', enabled: true, condition: null } as EditOp), 'not-found', 'itemId');
});

t.test('R-02 set condition: valid ones are stored, null clears, invalid ones are refused', async (t) => {
  const cond = { kind: 'and', conditions: [{ kind: 'variable', name: '_SMSTSBootUEFI', operator: 'equals', value: 'true' }, { kind: 'not', condition: { kind: 'variable', name: 'Skip', operator: 'exists', value: 'ignored' } }] };
  const ts = applyEdit(base, { op: 'setCondition', itemId: 'i2', condition: cond });
  t.same(byId(ts, 'i2').condition, { ...cond, conditions: [cond.conditions[0], { kind: 'not', condition: { kind: 'variable', name: 'Skip', operator: 'exists' } }] });
  t.equal(byId(applyEdit(ts, { op: 'setCondition', itemId: 'i2', condition: null }), 'i2').condition, null);
  expectError(t, () => applyEdit(base, { op: 'setCondition', itemId: 'i2', condition: { kind: 'variable', name: 'X', operator: 'equals' } }), 'invalid', 'condition.value');
  expectError(t, () => applyEdits(base, [{ op: 'setCondition', itemId: 'i2', condition: { kind: 'or', conditions: [] } }]), 'invalid', 'operations[0].condition.conditions');
});

t.test('R-02 set properties merges a partial patch and names the property it refuses', async (t) => {
  const ts = applyEdit(base, { op: 'setProperties', itemId: 'i1', properties: { timeoutMinutes: 5 } });
  const patched = applyEdit(ts, { op: 'setProperties', itemId: 'i1', properties: { outputVariable: 'OUT' } });
  const p = (byId(patched, 'i1') as StepItem).properties;
  t.same([p.commandLine, p.timeoutMinutes, p.outputVariable, p.successCodes], ['cmd /c A', 5, 'OUT', [0, 3010]]);
  expectError(t, () => applyEdit(base, { op: 'setProperties', itemId: 'i1', properties: { timeoutMinutes: 0 } }), 'invalid', 'properties.timeoutMinutes');
  expectError(t, () => applyEdit(base, { op: 'setProperties', itemId: 'i1', properties: { commandLine: '' } }), 'invalid', 'properties.commandLine');
  expectError(t, () => applyEdit(base, { op: 'setProperties', itemId: 'i1', properties: { nope: true } }), 'invalid', 'properties.nope');
  expectError(t, () => applyEdit(base, { op: 'setProperties', itemId: 'i2', properties: {} }), 'invalid', 'itemId');
  expectError(t, () => applyEdits(base, [{ op: 'rename', itemId: 'i1', name: 'ok' }, { op: 'setProperties', itemId: 'i1', properties: { timeoutMinutes: 'soon' } }]), 'invalid', 'operations[1].properties.timeoutMinutes');
});

t.test('R-28 giving a stripped secret again clears only that entry; removing the step forgets its entries', async (t) => {
  const withNet = applyEdit(base, { op: 'addStep', type: 'ConnectToNetworkFolder', properties: { path: '\\\\s\\x', account: 'a', password: 'p' } });
  const ts: TaskSequence = { ...withNet, strippedSecrets: ['i6.password', 'i1.runAsPassword', 'i3.runAsPassword'] };
  t.same(applyEdit(ts, { op: 'setProperties', itemId: 'i6', properties: { password: 'new' } }).strippedSecrets, ['i1.runAsPassword', 'i3.runAsPassword']);
  t.same(applyEdit(ts, { op: 'setProperties', itemId: 'i6', properties: { account: 'b' } }).strippedSecrets, ts.strippedSecrets, 'not a secret');
  t.same(applyEdit(ts, { op: 'setProperties', itemId: 'i1', properties: { runAsPassword: '' } }).strippedSecrets, ts.strippedSecrets, 'blank is not given');
  t.same(applyEdit(ts, { op: 'setProperties', itemId: 'i1', properties: { runAsPassword: 'pw' } }).strippedSecrets, ['i6.password', 'i3.runAsPassword']);
  t.same(applyEdit(ts, { op: 'remove', itemId: 'i2' }).strippedSecrets, ['i6.password', 'i1.runAsPassword'], 'group removal drops its children');
});

t.test('R-02 unknown operations are refused and applyEdits is atomic, naming operations[i]', async (t) => {
  expectError(t, () => applyEdit(base, { op: 'explode' } as unknown as EditOp), 'invalid', 'op');
  const snapshot = structuredClone(base);
  const e = expectError(t, () => applyEdits(base, [cmd('X'), { op: 'rename', itemId: 'i1', name: 'Z' }, { op: 'remove', itemId: 'i99' }, cmd('Y')]), 'not-found', 'operations[2].itemId');
  t.match(e?.message, /operation 2 \(remove\)/);
  t.equal(e?.rule, 'R-02');
  t.same(base, snapshot, 'the input is unchanged');
  t.equal(shape(base.items), 'A G(B C) D');
  expectError(t, () => applyEdits(base, [{ op: 'nope' } as unknown as EditOp]), 'invalid', 'operations[0].op');
  t.equal(shape(applyEdits(base, [cmd('X'), { op: 'moveUp', itemId: 'i6' }]).items), 'A G(B C) X D', 'a good list applies in order');
  t.equal(applyEdits(base, []), base);
});

t.test('R-02 move up enters the group above as its last child', async (t) => {
  t.equal(shape(move(base, 'moveUp', 'i5').items), 'A G(B C D)');
});
t.test('R-02 move up takes the first child of a group out, just before the group', async (t) => {
  t.equal(shape(move(base, 'moveUp', 'i3').items), 'A B G(C) D');
});
t.test('R-02 move down enters the group below as its first child', async (t) => {
  t.equal(shape(move(base, 'moveDown', 'i1').items), 'G(A B C) D');
});
t.test('R-02 move down takes the last child of a group out, just after the group', async (t) => {
  t.equal(shape(move(base, 'moveDown', 'i4').items), 'A G(B) C D');
});
t.test('R-02 moves inside a list swap neighbours, and a group moves with its children', async (t) => {
  t.equal(shape(move(base, 'moveUp', 'i4').items), 'A G(C B) D');
  t.equal(shape(move(base, 'moveDown', 'i3').items), 'A G(C B) D');
  t.equal(shape(move(base, 'moveUp', 'i2').items), 'G(B C) A D');
  t.equal(shape(move(base, 'moveDown', 'i2').items), 'A D G(B C)');
  const withEmpty = applyEdit(base, { op: 'addGroup', name: 'E', position: { parentId: null, index: 1 } });
  t.equal(shape(move(withEmpty, 'moveDown', 'i1').items), 'E(A) G(B C) D', 'an empty group is entered too');
});
t.test('R-02 the first item cannot move up and the last cannot move down', async (t) => {
  const up = expectError(t, () => move(base, 'moveUp', 'i1'), 'refused', 'itemId');
  t.equal(up?.rule, 'R-02');
  expectError(t, () => move(base, 'moveDown', 'i5'), 'refused', 'itemId');
  expectError(t, () => applyEdits(base, [{ op: 'moveDown', itemId: 'i5' }]), 'refused', 'operations[0].itemId');
});

// ---- property tests ----

const abstractOp = fc.oneof(
  fc.record({ op: fc.constantFrom('addStep' as const, 'addGroup' as const), target: fc.nat(), toRoot: fc.boolean(), index: fc.option(fc.nat({ max: 4 }), { nil: undefined }) }),
  fc.record({ op: fc.constantFrom('remove' as const, 'moveUp' as const, 'moveDown' as const, 'rename' as const, 'setEnabled' as const), target: fc.nat() }),
);
type AbstractOp = { op: string; target: number; toRoot?: boolean; index?: number | undefined };

/** Turns a generated op into a real one over the ids the task sequence has now. */
function concrete(ts: TaskSequence, a: AbstractOp): EditOp {
  const ids = all(ts).map((i) => i.id);
  const id = ids.length ? ids[a.target % ids.length]! : 'i0';
  const position = { parentId: a.toRoot || !ids.length ? null : id, index: a.index };
  switch (a.op) {
    case 'addStep':
      return { op: 'addStep', type: a.target % 2 ? 'ReleaseStateStore' : 'RunCommandLine', properties: a.target % 2 ? {} : { commandLine: 'x' }, position };
    case 'addGroup':
      return { op: 'addGroup', position };
    case 'rename':
      return { op: 'rename', itemId: id, name: `n${a.target}` };
    case 'setEnabled':
      return { op: 'setEnabled', itemId: id, enabled: a.target % 2 === 0 };
    default:
      return { op: a.op as 'remove' | 'moveUp' | 'moveDown', itemId: id };
  }
}

function tryEdit(ts: TaskSequence, op: EditOp): TaskSequence | null {
  try {
    return applyEdit(ts, op);
  } catch (e) {
    if (e instanceof PolicyError) return null;
    throw e;
  }
}

const start = createTaskSequence('PS1', { type: 'installOs', name: 'P', bootImageId: 'B', osImageId: 'O', userState: { usmtPackageId: 'U' } });
const treeOf = (ops: AbstractOp[]): TaskSequence => ops.reduce((ts, a) => tryEdit(ts, concrete(ts, a)) ?? ts, base);

t.test('R-02 any sequence of edits keeps the tree valid and the count equal to adds minus removals', async (t) => {
  let checked = 0;
  fc.assert(
    fc.property(fc.array(abstractOp, { maxLength: 60 }), (ops) => {
      let ts = start;
      let expected = countItems(start.items);
      let adds = 0;
      for (const a of ops) {
        const op = concrete(ts, a);
        const removing = op.op === 'remove' ? all(ts).find((i) => i.id === op.itemId) : undefined;
        const next = tryEdit(ts, op);
        if (!next) continue;
        if (op.op === 'addStep' || op.op === 'addGroup') {
          expected++;
          adds++;
        }
        if (removing) expected -= countItems([removing]);
        ts = next;
        const items = all(ts);
        const ids = items.map((i) => i.id);
        if (new Set(ids).size !== ids.length) throw new Error(`duplicate ids ${ids.join(',')}`);
        for (const id of ids) {
          const m = /^i(\d+)$/.exec(id);
          if (!m || Number(m[1]) >= ts.nextItemId) throw new Error(`bad id ${id} (next ${ts.nextItemId})`);
        }
        for (const item of items) {
          if (item.kind !== 'step' && item.kind !== 'group') throw new Error(`not an item in the tree: ${JSON.stringify(item)}`);
          if (item.kind === 'step' && 'children' in item) throw new Error(`step ${item.id} holds children`);
        }
        if (items.length !== expected) throw new Error(`count ${items.length}, expected ${expected}`);
        if (ts.nextItemId !== start.nextItemId + adds) throw new Error('nextItemId counts every add');
        if (maxDepth(ts.items) > MAX_DEPTH) throw new Error('too deep');
        checked++;
      }
    }),
    { numRuns: 200 },
  );
  t.ok(checked > 300, `checked ${checked} successful edits`);
});

t.test('R-02 moveUp then moveDown (and moveDown then moveUp) is the identity whenever the first move succeeded', async (t) => {
  const moved = { up: 0, down: 0 };
  fc.assert(
    fc.property(fc.array(abstractOp, { maxLength: 30 }), fc.nat(), (ops, pick) => {
      const ts = treeOf(ops);
      const ids = all(ts).map((i) => i.id);
      const id = ids[pick % ids.length]!;
      for (const [first, second, key] of [['moveUp', 'moveDown', 'up'], ['moveDown', 'moveUp', 'down']] as const) {
        const once = tryEdit(ts, { op: first, itemId: id });
        if (!once) continue;
        moved[key]++;
        const back = applyEdit(once, { op: second, itemId: id });
        if (!isDeepStrictEqual(back, ts)) throw new Error(`${first}/${second} ${id}: ${shape(ts.items)} -> ${shape(back.items)}`);
      }
    }),
    { numRuns: 300 },
  );
  t.ok(moved.up > 50 && moved.down > 50, `moves exercised: ${JSON.stringify(moved)}`);
});

t.test('R-02 moves never change the multiset of items', async (t) => {
  /** Each item by id, a group without its children (which are items of their own). */
  const content = (ts: TaskSequence) => new Map(all(ts).map((i) => [i.id, i.kind === 'group' ? { ...i, children: undefined } : i]));
  let moves = 0;
  fc.assert(
    fc.property(fc.array(abstractOp, { maxLength: 30 }), fc.array(fc.tuple(fc.boolean(), fc.nat()), { maxLength: 30 }), (ops, steps) => {
      let ts = treeOf(ops);
      const before = content(ts);
      for (const [up, pick] of steps) {
        const ids = all(ts).map((i) => i.id);
        const next = tryEdit(ts, { op: up ? 'moveUp' : 'moveDown', itemId: ids[pick % ids.length]! });
        if (!next) continue;
        ts = next;
        moves++;
      }
      const after = content(ts);
      if (!isDeepStrictEqual([...after.keys()].sort(), [...before.keys()].sort())) throw new Error('ids changed');
      for (const [id, item] of before) if (!isDeepStrictEqual(after.get(id), item)) throw new Error(`item ${id} changed`);
    }),
    { numRuns: 200 },
  );
  t.ok(moves > 500, `${moves} moves made`);
});
