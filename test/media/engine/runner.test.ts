/**
 * The runner with a fake step executor: order, groups, conditions on variables set by
 * earlier steps, disabled items, continue on error, failure, and resuming after a restart step
 * or a crash.
 */
import t from 'tap';
import type { Item, StepItem } from '../../../policy/task-sequences/model.js';
import { newProgress, runItems, type RunProgress, type RunnerEvents, type StepOutcome } from '../../../media/engine/runner.js';
import { Variables } from '../../../media/engine/variables.js';
import { equals, group, step } from './items.js';

interface Recorded {
  readonly events: string[];
  readonly checkpoints: RunProgress[];
}

/** A fake executor: `Fail` fails, `Restart` restarts, `Set` sets X=value, `Boom` throws; each call recorded. */
function harness(vars = new Variables(), crashAt?: string) {
  const rec: Recorded = { events: [], checkpoints: [] };
  const runStep = async (s: StepItem): Promise<StepOutcome> => {
    rec.events.push(`run ${s.id}`);
    if (s.id === crashAt) throw new Error('simulated crash'); // stands for the process dying mid-step
    switch (s.type) {
      case 'Fail':
        return { ok: false, exitCode: 2, message: 'exit 2' };
      case 'Restart':
        return { ok: true, restart: true };
      case 'Set':
        vars.set(String(s.properties.name), String(s.properties.value));
        return { ok: true };
      case 'Boom':
        throw new Error('kaboom');
      default:
        return { ok: true };
    }
  };
  const events: RunnerEvents = {
    stepStarted: async (s, resumed) => void rec.events.push(`start ${s.id}${resumed ? ' (resumed)' : ''}`),
    stepFinished: async (s, o, _ms, cont) => void rec.events.push(`${o.ok ? 'ok' : 'failed'} ${s.id}${cont ? ' (continued)' : ''}`),
    skipped: async (item, reason) => void rec.events.push(`skip ${item.id}: ${reason}`),
    checkpoint: async (p) => void rec.checkpoints.push(structuredClone(p)),
  };
  return { rec, vars, go: (items: readonly Item[], progress = newProgress()) => runItems(items, vars.lookup, progress, runStep, events, () => 0) };
}

const ran = (r: Recorded) => r.events.filter((e) => e.startsWith('run ')).map((e) => e.slice(4));

t.test('R-29 steps and groups run in order; conditions see variables set by earlier steps', async (t) => {
  const { rec, go } = harness(new Variables([{ name: 'Role', value: 'lab', secret: false }]));
  const items = [
    step('a', 'Ok'),
    step('b', 'Set', { name: 'Stage', value: 'two' }),
    group('g', [step('c', 'Ok'), step('d', 'Ok', {}, { condition: equals('Stage', 'one') })], { condition: equals('stage', 'TWO') }),
    group('h', [step('e', 'Ok')], { condition: equals('Role', 'office') }),
    step('f', 'Ok', {}, { condition: { kind: 'and', conditions: [equals('role', 'lab'), { kind: 'variable', name: 'Stage', operator: 'exists' }] } }),
  ];
  t.equal(await go(items), 'success');
  t.same(ran(rec), ['a', 'b', 'c', 'f']);
  t.ok(rec.events.includes('skip d: condition not met'));
  t.ok(rec.events.includes('skip h: condition not met'), 'a group whose condition fails is skipped whole');
  t.notOk(rec.events.some((e) => e.includes(' e')), 'its children are not even reported');
});

t.test('R-02/R-29 disabled steps and groups are skipped and reported', async (t) => {
  const { rec, go } = harness();
  t.equal(await go([step('a', 'Ok', {}, { enabled: false }), group('g', [step('b', 'Ok')], { enabled: false }), step('c', 'Ok')]), 'success');
  t.same(ran(rec), ['c']);
  t.same(rec.events.filter((e) => e.startsWith('skip')), ['skip a: disabled', 'skip g: disabled']);
});

t.test('R-29 continue on error goes on; a failure nothing continues past fails the run and stops it', async (t) => {
  const { rec, go } = harness();
  const progress = newProgress();
  const result = await go([step('a', 'Fail', {}, { continueOnError: true }), step('b', 'Ok'), step('c', 'Boom'), step('d', 'Ok')], progress);
  t.equal(result, 'failed');
  t.same(ran(rec), ['a', 'b', 'c'], 'd never runs');
  t.ok(rec.events.includes('failed a (continued)'));
  t.ok(rec.events.includes('failed c'));
  t.match(progress, { failed: true, failure: 'c: kaboom' }, 'a throwing step is a failed step with its message');
});

t.test('R-29 a failure inside a group ends the group; the group’s continue on error decides for the run', async (t) => {
  const a = harness();
  t.equal(await a.go([group('g', [step('x', 'Fail'), step('y', 'Ok')], { continueOnError: true }), step('z', 'Ok')]), 'success');
  t.same(ran(a.rec), ['x', 'z'], 'y is skipped with the rest of its group; z runs');
  const b = harness();
  t.equal(await b.go([group('g', [step('x', 'Fail'), step('y', 'Ok')]), step('z', 'Ok')]), 'failed');
  t.same(ran(b.rec), ['x']);
});

t.test('R-29 a restart step ends this start; the next start goes on with the next step', async (t) => {
  const items = [step('a', 'Ok'), group('g', [step('b', 'Restart'), step('c', 'Set', { name: 'After', value: 'yes' })]), step('d', 'Ok', {}, { condition: equals('After', 'yes') })];
  const first = harness();
  const progress = newProgress();
  t.equal(await first.go(items, progress), 'restart');
  t.same(ran(first.rec), ['a', 'b']);
  const saved = structuredClone(first.rec.checkpoints.at(-1)!);
  t.same(saved, { done: ['a', 'b'], entered: ['g'], current: null, failed: false, failure: null }, 'checkpointed with the restart step done');

  const second = harness(first.vars);
  t.equal(await second.go(items, saved), 'success');
  t.same(ran(second.rec), ['c', 'd'], 'resumes inside the group, after the restart step');
});

t.test('R-29 a step interrupted by a crash runs again on the next start; an entered group is not re-evaluated', async (t) => {
  const vars = new Variables([{ name: 'Go', value: 'yes', secret: false }]);
  const items = [group('g', [step('a', 'Set', { name: 'Go', value: 'no' }), step('b', 'Ok'), step('c', 'Ok')], { condition: equals('Go', 'yes') })];
  const first = harness(vars, 'b');
  await first.go(items);
  // What the disk holds when the process died inside b: the checkpoint taken before b ran.
  const atCrash = structuredClone(first.rec.checkpoints.find((p) => p.current === 'b')!);
  t.same(atCrash, { done: ['a'], entered: ['g'], current: 'b', failed: false, failure: null });

  const second = harness(vars);
  t.equal(await second.go(items, atCrash), 'success');
  t.same(ran(second.rec), ['b', 'c'], 'b again, then c; the group condition (now false) is not asked again');
  t.ok(second.rec.events.includes('start b (resumed)'));
});

t.test('R-24 built-in variables are read-only to steps; names are case-insensitive; hidden values are masked', async (t) => {
  const vars = Variables.merged({ Media: 'm', Shared: 'media' }, [{ name: 'Shared', value: 'site', hidden: false }, { name: 'Secret', value: 'S3cr3t!', hidden: true }], { _SMSTSAdvertID: 'PS120001' });
  t.equal(vars.get('shared'), 'site', 'site variables win over media variables');
  t.equal(vars.get('_smstsadvertid'), 'PS120001');
  t.throws(() => vars.set('_SMSTSAdvertID', 'x'), /read-only/);
  vars.set('secret', 'N3wS3cret');
  t.same(vars.secretValues(), ['N3wS3cret'], 'overwriting a hidden variable keeps it hidden');
  t.equal(vars.expand('%Media%-%SHARED%-%nope%'), 'm-site-%nope%', 'unknown names are left as written');
});
