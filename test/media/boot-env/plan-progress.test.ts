/**
 * R-37 runtime/plan.ts, the controller's decisions while and after the engine runs: the console
 * lines for the engine's progress (media/engine/progress.ts line kinds), what each engine exit
 * code leads to, and the failure screen a technician sees.
 */
import t from 'tap';
import { ENGINE_EXIT, ProgressView, afterEngine, failureCountdown, failureScreen, parseCmdline, parseProgress, type Action, type Progress } from '../../../media/boot-env/runtime/plan.js';
import { EXIT } from '../../../media/engine/engine.js';

const step = (index: number, name: string, total = 5): Progress => ({ kind: 'step', index, total, name, type: 'RunCommandLine' });
const pct = (percent: number): Progress => ({ kind: 'percent', percent });

t.test('R-37 ProgressView: run, step, stepDone and end lines', async (t) => {
  const v = new ProgressView();
  t.equal(v.render({ kind: 'run', deploymentId: 'PS120001', taskSequenceName: 'Deploy Debian', steps: 4 }), 'osdeploy: running Deploy Debian (PS120001), 4 steps');
  t.equal(v.render({ kind: 'run' }), 'osdeploy: running task sequence', 'a run line without details');
  t.equal(v.render(step(1, 'Partition disk', 4)), 'osdeploy: step 1 of 4: Partition disk');
  t.equal(v.render({ kind: 'stepDone', index: 1, name: 'Partition disk', ok: true, exitCode: 0 }), 'osdeploy: step 1 of 4: Partition disk done');
  t.equal(v.failed, null, 'a step that went well is no failure');
  t.equal(v.render(step(2, 'Apply OS', 4)), 'osdeploy: step 2 of 4: Apply OS');
  t.equal(
    v.render({ kind: 'stepDone', index: 2, name: 'Apply OS', ok: false, exitCode: 3, message: 'wimlib-imagex failed', outputTail: 'ERROR: bad WIM\n' }),
    'osdeploy: step 2 of 4: Apply OS FAILED (exit 3): wimlib-imagex failed',
  );
  t.same(v.failed, { step: 'Apply OS', message: 'wimlib-imagex failed', output: 'ERROR: bad WIM\n', exitCode: 3 }, 'the failure is kept for the failure screen');
  t.equal(v.render({ kind: 'end', result: 'failed', failedStep: 'Apply OS' }), 'osdeploy: task sequence failed at "Apply OS"');
  t.equal(v.result, 'failed');
  const fresh = new ProgressView();
  t.equal(fresh.render({ kind: 'stepDone', index: 3, name: 'Orphan', ok: false, message: 'no exit code' }), 'osdeploy: step 3: Orphan FAILED: no exit code', 'a stepDone before any step line');
  t.same(fresh.failed, { step: 'Orphan', message: 'no exit code', output: '' }, 'no exitCode key when the engine gave none');
});

t.test('R-37 ProgressView: end lines for each result', async (t) => {
  const end = (result: string, failedStep?: string | null) => new ProgressView().render({ kind: 'end', result, ...(failedStep === undefined ? {} : { failedStep }) });
  t.equal(end('success'), 'osdeploy: task sequence finished successfully');
  t.equal(end('restart'), 'osdeploy: task sequence asks for a restart');
  t.equal(end('nothing'), 'osdeploy: task sequence not run: nothing to run for this machine');
  t.equal(end('failed', null), 'osdeploy: task sequence failed', 'failed with no step named');
  t.equal(new ProgressView().render({ kind: 'whatever' } as unknown as Progress), null, 'an unknown kind makes no line');
});

t.test('R-37 ProgressView: percent lines at least 10 points apart, reset by each step, none after the step ended', async (t) => {
  const v = new ProgressView();
  t.equal(v.render(pct(50)), null, 'no percent line before a step started');
  v.render(step(1, 'Apply OS'));
  const shown: number[] = [];
  for (let p = 0; p <= 100; p += 0.5) {
    const line = v.render(pct(p));
    if (line) {
      t.match(line, /^osdeploy: step 1 of 5: Apply OS \d+%$/, `line for ${p}`);
      shown.push(Number(/(\d+)%$/.exec(line)![1]));
    }
  }
  t.ok(shown.length >= 9 && shown.length <= 11, `about ten lines for 0…100 % (${shown.join(', ')})`);
  t.same(shown.filter((s, i) => i > 0 && s - shown[i - 1]! < 10), [], 'each at least 10 points above the last shown');
  t.same(shown, [...shown].sort((a, b) => a - b), 'increasing');
  t.equal(v.render(pct(100)), null, 'the same or a smaller percent again: no line');
  v.render(step(2, 'Install GRUB'));
  t.equal(v.render(pct(30)), 'osdeploy: step 2 of 5: Install GRUB 30%', 'a new step starts from zero again');
  t.equal(v.render(pct(35)), null, 'throttled within the new step');
  t.equal(v.render(pct(250)), 'osdeploy: step 2 of 5: Install GRUB 100%', 'clamped to 100');
  v.render(step(3, 'Wait'));
  t.equal(v.render(pct(-20)), null, 'a negative percent counts as 0: below the first 10-point mark');
  v.render({ kind: 'stepDone', index: 3, name: 'Wait', ok: true });
  t.equal(v.render(pct(100)), null, 'no percent line after the step ended');
});

t.test('R-37 ProgressView: a smooth 0…100 % shows 10 %, 20 % … 100 %, in each step', async (t) => {
  const v = new ProgressView();
  const smooth = () => {
    const shown = [];
    for (let p = 0; p <= 100; p++) shown.push(/(\d+)%$/.exec(v.render(pct(p)) ?? '')?.[1]);
    return shown.filter(Boolean).map(Number);
  };
  v.render(step(1, 'Apply OS'));
  t.same(smooth(), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 'round steps and the final 100 %');
  v.render(step(2, 'Install GRUB'));
  t.same(smooth(), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 'the next step starts again from 0 %');
});

t.test('R-37 ProgressView: a percent that is no number makes no line and leaves the throttle working', async (t) => {
  const w = new ProgressView();
  w.render(step(1, 'Apply OS'));
  t.equal(w.render(pct(50)), 'osdeploy: step 1 of 5: Apply OS 50%');
  for (const bad of ['abc', NaN, null, undefined, '70', true, {}]) {
    t.equal(w.render({ kind: 'percent', percent: bad } as unknown as Progress), null, `percent ${String(bad)}: no line`);
  }
  t.equal(w.render(pct(55)), null, 'still throttled: 55 is less than 10 above the 50 shown');
  t.equal(w.render(pct(60)), 'osdeploy: step 1 of 5: Apply OS 60%', 'and 60 is shown');
  t.equal(w.render(pct(61)), null, 'then throttled again');
  for (const line of ['{"kind":"percent","percent":"abc"}', '{"kind":"percent","percent":null}', '{"kind":"percent"}', '{"kind":"percent","percent":"70"}']) {
    t.equal(parseProgress(line), null, `parseProgress drops ${line}`);
  }
});

t.test('R-37 parseProgress: JSON objects with a string kind only', async (t) => {
  t.same(parseProgress('{"kind":"percent","percent":37.5}'), { kind: 'percent', percent: 37.5 });
  for (const bad of ['', 'not json', '42', 'null', '"step"', '[]', '{}', '{"kind":7}', '{"kind":null}']) t.equal(parseProgress(bad), null, JSON.stringify(bad));
});

t.test('R-37 ENGINE_EXIT agrees with the engine\'s own exit codes', async (t) => {
  t.same(ENGINE_EXIT, EXIT);
});

const actionFor = (code: number | null, cmdline = ''): Action => afterEngine(code, parseCmdline(cmdline));

t.test('R-37 afterEngine: every exit code, with the command line\'s done= and onfail=', async (t) => {
  t.same(actionFor(0), { kind: 'reboot', why: 'the task sequence is done (or there was nothing to run)', failure: false }, '0: done → reboot by default');
  t.same(actionFor(0, 'osdeploy.done=poweroff').kind, 'poweroff', '0 with done=poweroff');
  t.same(actionFor(0, 'osdeploy.done=shell'), { kind: 'shell', why: 'the task sequence is done (or there was nothing to run)', failure: false }, '0 with done=shell is still no failure');
  t.same(actionFor(3, 'osdeploy.done=shell osdeploy.onfail=poweroff'), { kind: 'reboot', why: 'the task sequence restarts the computer', failure: false }, '3: restart always reboots');
  t.same(actionFor(1), { kind: 'shell', why: 'the task sequence failed', failure: true }, '1: failed → shell by default');
  t.same(actionFor(1, 'osdeploy.onfail=reboot').kind, 'reboot', '1 with onfail=reboot');
  t.same(actionFor(4, 'osdeploy.onfail=poweroff'), { kind: 'poweroff', why: 'the site could not be reached', failure: true }, '4: unreachable follows onfail=');
  const pick = actionFor(5, 'osdeploy.onfail=reboot');
  t.same([pick.kind, pick.failure], ['shell', true], '5: a choice is needed → shell whatever onfail= says');
  t.match(pick.why, /--pick DEPLOYMENT/, 'and says how to choose');
  t.same(actionFor(2, 'osdeploy.onfail=reboot'), { kind: 'shell', why: 'the engine could not start (usage or media refused)', failure: true }, '2: usage → shell');
  t.same(actionFor(null, 'osdeploy.onfail=reboot'), { kind: 'shell', why: 'the engine stopped unexpectedly (killed)', failure: true }, 'null (a signal) → shell');
  for (const code of [6, 127, 137, 255, -1]) t.same(actionFor(code, 'osdeploy.onfail=poweroff'), { kind: 'shell', why: `the engine stopped unexpectedly (exit ${code})`, failure: true }, `${code} → shell`);
});

t.test('R-37 failureScreen: the step, its exit code and message, the last 15 output lines, the log, how to get a shell', async (t) => {
  const output = `${Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join('\n\n')}\n\n   \n`;
  const failed = { step: 'Apply OS', message: 'wimlib-imagex failed', output, exitCode: 3 };
  const shell = failureScreen(actionFor(1), failed, '/run/osdeploy/engine.log', 900);
  t.ok(shell.includes('why: the task sequence failed'), 'why');
  t.ok(shell.includes('failed step: Apply OS (exit code 3)'), 'the step and its exit code');
  t.ok(shell.includes('message: wimlib-imagex failed'), 'the message');
  const tail = shell.filter((l) => l.startsWith('  | '));
  t.same(tail, Array.from({ length: 15 }, (_, i) => `  | line ${i + 26}`), 'the last 15 non-blank lines, in order');
  t.equal(shell[shell.indexOf(tail[0]!) - 1], 'output (last lines):');
  t.ok(shell.includes('engine log: /run/osdeploy/engine.log'), 'where the whole log is');
  t.ok(shell.some((l) => /a shell follows.*type exit to restart/.test(l)), 'how the shell works');
  t.notOk(shell.some((l) => /will (reboot|poweroff)/.test(l)), 'no countdown when a shell follows');
  t.same([shell[0], shell.at(-1)], ['', ''], 'set apart by blank lines');

  const reboot = failureScreen(actionFor(4, 'osdeploy.onfail=reboot'), null, '/run/osdeploy/engine.log', 60);
  t.ok(reboot.includes('the machine will reboot in 60 s; press Enter for a shell instead (also on Alt+F2)'), 'countdown and how to get a shell');
  t.notOk(reboot.some((l) => l.startsWith('failed step:')), 'no step when none failed');
  const poweroff = failureScreen(actionFor(1, 'osdeploy.onfail=poweroff'), { step: 'X', message: '', output: '' }, 'log', 5);
  t.ok(poweroff.includes('failed step: X'), 'no exit code given, none shown');
  t.notOk(poweroff.includes('output (last lines):'), 'no output, no output header');
  t.ok(poweroff.some((l) => l.includes('will poweroff in 5 s')), 'poweroff countdown');
});

t.test('R-37 failureScreen and failureCountdown: failtimeout=0 waits for a technician, never reboots or powers off by itself', async (t) => {
  // BootArgs.failTimeout: "0: wait forever".
  for (const onfail of ['reboot', 'poweroff'] as const) {
    const args = parseCmdline(`osdeploy.onfail=${onfail} osdeploy.failtimeout=0`);
    const action = actionFor(1, `osdeploy.onfail=${onfail} osdeploy.failtimeout=0`);
    t.equal(action.kind, onfail);
    const forever = failureScreen(action, null, 'log', args.failTimeout);
    t.notOk(forever.some((l) => / in 0 s\b/.test(l)), `onfail=${onfail}: no "in 0 s" countdown`);
    t.notOk(forever.some((l) => /will (reboot|poweroff) in/.test(l)), `onfail=${onfail}: no countdown at all`);
    t.ok(forever.some((l) => /waits for a technician/.test(l) && /will not (reboot|power off) by itself/.test(l)), `onfail=${onfail}: says it waits for a technician`);
    t.ok(forever.some((l) => /a shell follows.*Alt\+F2.*type exit to restart/.test(l)), `onfail=${onfail}: how to get a shell and how to restart`);
    t.equal(failureCountdown(action, args.failTimeout), null, `onfail=${onfail}: the controller counts nothing down, a shell follows`);
  }
  t.equal(failureCountdown(actionFor(4, 'osdeploy.onfail=reboot'), 60), 60, 'a countdown otherwise');
  t.equal(failureCountdown(actionFor(1, 'osdeploy.onfail=poweroff'), 900), 900);
  t.equal(failureCountdown(actionFor(1), 60), null, 'onfail=shell: a shell at once, whatever the timeout');
  t.notOk(failureScreen(actionFor(1), null, 'log', 0).some((l) => /waits for a technician/.test(l)), 'onfail=shell needs no word about the timeout');
});
