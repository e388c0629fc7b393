/**
 * A run in the boot environment that deployed an OS onto a real disk (R-29, R-30, R-37), with a
 * fake step executor: a Restart Computer into the deployed OS that is the last step ends the run
 * successfully before the engine exits with its restart code; one with steps after it moves the
 * run onto the target, where the full-OS engine resumes it as the same run. And the controller's
 * progress lines: their shapes, and no hidden variable's value in them.
 */
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { EngineLog } from '../../../media/engine/log.js';
import { DEFAULT_STATE_DIR } from '../../../media/engine/options.js';
import { Outbox } from '../../../media/engine/outbox.js';
import { lastLines, progressLine, ProgressReporter } from '../../../media/engine/progress.js';
import { newProgress } from '../../../media/engine/runner.js';
import { runSession, type SessionDeps } from '../../../media/engine/session.js';
import { StateStore, type RunState } from '../../../media/engine/state.js';
import type { StepEnv } from '../../../media/engine/steps/types.js';
import { Variables } from '../../../media/engine/variables.js';
import { equals, step } from './items.js';
import { tempDir, type Teardowns } from './step-env.js';

const TOKEN = 'client-token-for-the-vault';
const HIDDEN = 'Hidden-Var-Value-9';

/** What Format and Apply leave in the disk book on a block device (no disk touched here). */
function fakeDeploy(env: StepEnv): void {
  env.disk.volumes.push({ disk: 0, partition: 1, diskPath: '/dev/vdz', device: '/dev/vdz1', table: 'mbr', fs: 'ext4', type: 'primary', label: 'OS', uuid: 'u-1', variable: null });
  env.disk.applied.push('disk0p1');
  env.vars.set('OSDTargetSystemDrive', env.root);
}

function session(t: Teardowns, opts: { bootImage: boolean; stateDir?: string; root?: string; progressFile?: string }) {
  const dir = tempDir(t);
  const stateDir = opts.stateDir ?? path.join(dir, 'state');
  const store = new StateStore(stateDir, TOKEN);
  const log = new EngineLog(null, Date.now, () => {});
  const outbox = new Outbox(path.join(stateDir, 'outbox'), null, log.line); // offline: every message stays to be read
  const fd = opts.progressFile ? openSync(opts.progressFile, 'a') : null;
  if (fd !== null) t.teardown(() => closeSync(fd));
  const ran: string[] = [];
  const deps: SessionDeps = {
    store, outbox, log, now: Date.now, root: opts.root ?? path.join(dir, 'root'), disks: new Map(), searchPath: '', fetcherFor: () => null,
    bootImage: opts.bootImage,
    progress: new ProgressReporter(fd, (x) => log.clean(x)),
    execute: async (s, env) => {
      ran.push(s.id);
      if (s.type === 'ApplyOperatingSystemImage') fakeDeploy(env);
      if (s.type === 'RestartComputer') return { ok: true, message: 'restart requested', restart: true, restartTo: s.properties.restartTo === 'bootImage' ? 'bootImage' : 'currentOs' };
      return { ok: true, exitCode: 0, message: 'done', output: `line\nsecret ${HIDDEN}\n` };
    },
  };
  const kinds = () => outbox.pending().map((f) => JSON.parse(readFileSync(path.join(outbox.dir, f), 'utf8')) as { kind: string; outcome?: string; step?: { name: string } });
  return { deps, store, outbox, ran, kinds, root: deps.root };
}

const newState = (): RunState => ({ version: 1, runId: 'run-7', deploymentId: 'PS120007', computerId: '16777221', source: 'pxe', status: 'running', outcome: null, startedAt: 0, progress: newProgress() });
const vault = (items: ReturnType<typeof step>[]) => ({ taskSequence: { id: 'PS100007', name: 'Deploy Debian', items }, variables: Variables.merged({}, [{ name: 'Secret', value: HIDDEN, hidden: true }], { _SMSTSInWinPE: 'true' }).entries(), content: null });

t.test('R-29/R-30 Restart Computer into the deployed OS as the last step: the run finishes successfully, then the engine restarts', async (t) => {
  const s = session(t, { bootImage: true });
  const items = [step('a', 'ApplyOperatingSystemImage', {}, { name: 'Apply' }), step('r', 'RestartComputer', { restartTo: 'currentOs' }, { name: 'Restart' }), step('x', 'RunCommandLine', {}, { name: 'Never', condition: equals('Stage', 'later') })];
  const state = newState();
  t.equal(await runSession(s.deps, state, vault(items)), 'restart', 'exit code 3: the machine restarts');
  t.same(s.ran, ['a', 'r']);
  const kinds = s.kinds();
  t.same(kinds.map((m) => `${m.kind}${m.step ? ` ${m.step.name}` : ''}`), ['stepStarted Apply', 'stepSucceeded Apply', 'stepStarted Restart', 'stepSucceeded Restart', 'stepSkipped Never', 'runFinished']);
  t.match(kinds.at(-1), { kind: 'runFinished', outcome: 'success' });
  t.notOk(existsSync(s.store.file), 'nothing is left to resume');
  t.match(s.deps.progress!.outcome, { result: 'success', message: /restarting into the deployed operating system/ });
});

t.test('R-29 Restart Computer into the deployed OS with steps left: the run moves onto the target and resumes there as the same run', async (t) => {
  const s = session(t, { bootImage: true });
  const items = [step('a', 'ApplyOperatingSystemImage', {}, { name: 'Apply' }), step('r', 'RestartComputer', {}, { name: 'Restart' }), step('after', 'RunCommandLine', {}, { name: 'In the OS' })];
  t.equal(await runSession(s.deps, newState(), vault(items)), 'restart');
  t.same(s.ran, ['a', 'r']);
  t.notOk(existsSync(s.store.file), 'the boot environment keeps no run to resume');
  const target = path.join(s.root, DEFAULT_STATE_DIR);
  const saved = new StateStore(target, TOKEN).load();
  t.match(saved?.state, { runId: 'run-7', status: 'restarting', disk: { applied: ['disk0p1'] } });
  const vars = new Variables(saved!.vault!.variables);
  t.same([vars.get('OSDTargetSystemDrive'), vars.get('_SMSTSInWinPE')], ['/', 'false'], 'in the deployed OS the target is /');
  t.same(s.outbox.pending(), [], 'unsent status went along');
  t.ok(readFileSync(path.join(target, 'outbox', new Outbox(path.join(target, 'outbox'), null, () => {}).pending()[0]!), 'utf8').includes('stepStarted'));

  // The full-OS engine, started in the deployed OS with its default state folder.
  const os = session(t, { bootImage: false, stateDir: target, root: '/' });
  const resumed = new StateStore(target, TOKEN).load()!;
  resumed.state.status = 'running';
  t.equal(await runSession(os.deps, resumed.state, resumed.vault!), 'success');
  t.same(os.ran, ['after'], 'only the step after the restart ran');
  t.match(os.kinds().at(-1), { kind: 'runFinished', outcome: 'success', runId: 'run-7' });
});

t.test('R-29 without an OS on a real disk, Restart Computer keeps today\'s behaviour: state kept here, the next start goes on', async (t) => {
  const s = session(t, { bootImage: true });
  const items = [step('r', 'RestartComputer', {}, { name: 'Restart' }), step('after', 'RunCommandLine', {}, { name: 'After' })];
  t.equal(await runSession(s.deps, newState(), vault(items)), 'restart');
  t.match(s.store.load()?.state, { status: 'restarting' });
  t.notOk(existsSync(path.join(s.root, DEFAULT_STATE_DIR)));
});

t.test('R-31 progress lines: the documented shapes, and a hidden variable\'s value never in them', async (t) => {
  const file = path.join(tempDir(t), 'progress.jsonl');
  const s = session(t, { bootImage: true, progressFile: file });
  const items = [
    step('a', 'RunCommandLine', {}, { name: `Echo ${HIDDEN}` }),
    step('b', 'RunCommandLine', {}, { name: 'Skipped', condition: equals('Stage', 'later') }),
    step('c', 'RunCommandLine', {}, { name: 'Last' }),
  ];
  const state = newState();
  await runSession(s.deps, state, vault(items));
  s.deps.progress!.end(0);
  const text = readFileSync(file, 'utf8');
  t.notOk(text.includes(HIDDEN), 'the hidden value is masked in every line');
  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.same(lines.map((l) => l.kind), ['run', 'step', 'stepDone', 'percent', 'step', 'stepDone', 'percent', 'end']);
  t.same(lines[0], { kind: 'run', deploymentId: 'PS120007', taskSequenceName: 'Deploy Debian', steps: 2 }, 'the skipped step is not counted');
  t.same(lines[1], { kind: 'step', index: 1, total: 2, name: 'Echo ********', type: 'RunCommandLine' });
  t.same(lines[2], { kind: 'stepDone', index: 1, name: 'Echo ********', ok: true, exitCode: 0, message: 'done', outputTail: 'line\nsecret ********' });
  t.same(lines[4], { kind: 'step', index: 2, total: 2, name: 'Last', type: 'RunCommandLine' });
  t.same(lines.at(-1), { kind: 'end', result: 'success', failedStep: null, message: 'the task sequence succeeded' });
});

t.test('progress: a failed run names its step; the tail keeps the last 20 lines; masking is per string', async (t) => {
  const r = new ProgressReporter(null, (x) => x);
  r.outcome = { result: 'failed', failedStep: 'Apply', message: 'Apply: no kernel' };
  t.equal(lastLines(Array.from({ length: 30 }, (_, i) => `l${i}`).join('\n')), Array.from({ length: 20 }, (_, i) => `l${i + 10}`).join('\n'));
  const quoted = 'pa"ss\\word';
  const line = progressLine({ kind: 'end', result: 'failed', failedStep: 'Apply', message: `bad ${quoted}` }, (x) => x.split(quoted).join('********'));
  t.same(JSON.parse(line), { kind: 'end', result: 'failed', failedStep: 'Apply', message: 'bad ********' }, 'a secret with quotes is masked before JSON escapes it');
  t.ok(line.endsWith('\n'));
});
