/**
 * End to end with the real service (in-process, port 0, UDP roles off) and the engine as a
 * child process: an unknown machine PXE-boots, registers (R-17), runs a Required deployment
 * whose steps write files and set variables, a failing step continues on error, a Restart
 * Computer step ends the first start and the second start resumes after it (R-29); the status
 * API shows every step (R-30); later PXE boots ignore the deployment until the Required PXE
 * deployment is cleared (R-19); the Join Domain password is in no file, log or status (R-31).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { runEngine } from './engine-process.js';
import { engineSite } from './site.js';
import { tempDir } from './step-env.js';

const MAC = '02:aa:bb:00:00:01';
const UUID = '4c4c4544-0031-3510-8052-b4c04f4d4e01';
const PASSWORD = 'Dom4in-J0in-Pa55';
const stage = (value: string) => ({ kind: 'variable', name: 'Stage', operator: 'equals', value });

/** Every file under `dir`, for "the secret is nowhere" checks. */
function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

t.test('R-17/R-19/R-29/R-30 an unknown machine registers, runs a Required deployment across a restart, and reports every step', async (t) => {
  const s = await engineSite(t);
  const ts = await s.taskSequence('Bare metal', [
    { name: 'Write marker', type: 'RunCommandLine', properties: { commandLine: 'echo one > step1.txt' } },
    { name: 'Set stage', type: 'SetTaskSequenceVariable', properties: { variable: 'Stage', value: 'imaging' } },
    {
      name: 'Configure', condition: stage('imaging'), children: [
        { name: 'Use stage', type: 'RunCommandLine', properties: { commandLine: 'echo %Stage% > stage.txt' } },
        { name: 'Flaky tool', type: 'RunCommandLine', properties: { commandLine: 'echo flaky; exit 4' }, continueOnError: true },
        { name: 'Never', type: 'RunCommandLine', properties: { commandLine: 'touch disabled.txt' }, enabled: false },
      ],
    },
    { name: 'Reboot', type: 'RestartComputer' },
    { name: 'After restart', type: 'RunCommandLine', properties: { commandLine: 'echo %Stage% > after.txt' } },
    { name: 'Join', type: 'JoinDomainOrWorkgroup', properties: { mode: 'domain', domain: 'corp.example', account: 'CORP\\joiner', password: PASSWORD } },
    { name: 'Other stage only', type: 'RunCommandLine', properties: { commandLine: 'touch other.txt' }, condition: stage('other') },
    { name: 'Who am I', type: 'RunCommandLine', properties: { commandLine: 'echo %_SMSTSClientGUID% %_SMSTSMediaType% %_SMSTSAdvertID% > whoami.txt' } },
  ]);
  // A registered computer leaves All Unknown Computers (R-17). The deployment targets a
  // collection that includes All Unknown Computers, where the administrator then keeps the new
  // computer: that is the reimaging loop R-19 stops.
  const imaging = (await s.api<{ id: string }>('POST', '/collections', { name: 'Imaging', includeCollectionIds: ['SMS000US'] })).id;
  const dep = await s.deploy({ taskSequenceId: ts.id, collectionId: imaging, purpose: 'required', availability: 'mediaPxe', assignments: [{ kind: 'asap' }] });

  const root = tempDir(t);
  const state = tempDir(t);
  const args = ['--site', s.url, '--token', s.clientToken, '--mac', MAC, '--uuid', UUID, '--arch', 'x64', '--root', root, '--state', state, '--source', 'pxe', '--flush-timeout', '10'];

  const first = await runEngine(t, args);
  if (first.code !== 3) t.comment(first.stderr);
  t.equal(first.code, 3, 'the first start ends at the restart step');
  t.equal(readFileSync(path.join(root, 'stage.txt'), 'utf8'), 'imaging\n', 'a step used a variable an earlier step set');
  t.notOk(readdirSync(root).includes('after.txt'), 'nothing after the restart ran yet');

  const second = await runEngine(t, args);
  if (second.code !== 0) t.comment(second.stderr);
  t.equal(second.code, 0, 'the second start finishes the run');
  t.match(second.stderr, /resuming run .* after a restart/);
  t.equal(readFileSync(path.join(root, 'after.txt'), 'utf8'), 'imaging\n', 'variables survived the restart');
  t.same(readdirSync(root).sort(), ['after.txt', 'osdeploy', 'stage.txt', 'step1.txt', 'whoami.txt'], 'disabled and condition-false steps made nothing');

  // R-17: registered under its own id, found by MAC and UUID.
  const computers = await s.api<{ items: { id: string; name: string; smbiosUuid: string }[] }>('GET', `/computers?mac=${MAC}`);
  t.equal(computers.items.length, 1);
  const pc = computers.items[0]!;
  t.match(pc, { smbiosUuid: UUID, name: /^MININT-/ });
  t.equal(readFileSync(path.join(root, 'whoami.txt'), 'utf8'), `${pc.id} PXE ${dep}\n`, 'built-ins: the new computer id, the boot, the deployment (R-24)');

  // R-30: every step, in order, with its outcome.
  const history = await s.api<{ runs: { state: string; source: string }[]; messages: { items: { kind: string; step?: { itemId: string; name: string }; exitCode?: number; continuedOnError?: boolean; message?: string }[] } }>('GET', `/computers/${pc.id}/status?limit=1000`);
  t.match(history.runs, [{ state: 'success', source: 'pxe' }]);
  const lines = history.messages.items.slice().reverse().map((m) => `${m.kind}${m.step ? ` ${m.step.name}` : ''}${m.kind === 'stepSkipped' ? ` (${m.message})` : ''}`);
  t.same(lines.filter((l) => !l.startsWith('progress')), [
    'runStarted',
    'stepStarted Write marker', 'stepSucceeded Write marker',
    'stepStarted Set stage', 'stepSucceeded Set stage',
    'stepStarted Use stage', 'stepSucceeded Use stage',
    'stepStarted Flaky tool', 'stepFailed Flaky tool',
    'stepSkipped Never (disabled)',
    'stepStarted Reboot', 'stepSucceeded Reboot',
    'stepStarted After restart', 'stepSucceeded After restart',
    'stepStarted Join', 'stepSucceeded Join',
    'stepSkipped Other stage only (condition not met)',
    'stepStarted Who am I', 'stepSucceeded Who am I',
    'runFinished',
  ]);
  t.ok(lines.includes('progress'), 'the resume is reported');
  const flaky = history.messages.items.find((m) => m.kind === 'stepFailed')!;
  t.match(flaky, { exitCode: 4, continuedOnError: true, step: { itemId: ts.items['Flaky tool'] }, outputTail: 'flaky\n' });

  const summary = await s.api<{ counts: Record<string, number>; computers: { computerId: string; state: string }[] }>('GET', `/deployments/${dep}/status`);
  t.same(summary.counts, { success: 1, inProgress: 0, error: 0, unknown: 0, total: 1 });
  t.match(summary.computers, [{ computerId: pc.id, state: 'success' }]);
  const watch = await s.site.cli(['deployments', 'watch', dep, '--once']);
  t.equal(watch.code, 0, watch.stderr);
  t.match(watch.stdout, new RegExp(`deployment ${dep} to ${imaging}: success 1, in progress 0, error 0, unknown 0 \\(of 1\\)[\\s\\S]*${pc.id}\\s+MININT-\\S+\\s+success\\s+\\S+\\s+runFinished \\(success\\)`));

  // R-19: the start from PXE was recorded for the new computer, not the Unknown Computer object.
  t.match((await s.api<{ requiredPxeStarts: unknown[] }>('GET', `/computers/${pc.id}/status`)).requiredPxeStarts, [{ deploymentId: dep }]);
  t.same((await s.api<{ requiredPxeStarts: unknown[] }>('GET', '/computers/unknown-x64/status')).requiredPxeStarts, []);
  await s.api('PATCH', `/collections/${imaging}`, { directMemberIds: [pc.id] });
  const pxe = () => s.api<{ kind: string; reason?: string; deploymentId?: string }>('GET', `/boot-policy?mac=${MAC}&uuid=${UUID}&source=pxe`);
  t.match(await pxe(), { kind: 'nothing', reason: /Required deployment already started from PXE \(R-19\)/ }, 'a second PXE boot is offered nothing');
  t.match(await s.api('POST', `/computers/${pc.id}/clear-required-pxe`), { cleared: 1 });
  t.match(await pxe(), { kind: 'run', deploymentId: dep }, 'after the clear it runs again');

  // R-31: the password reached the step (join.json says one was given) and nothing else.
  t.match(JSON.parse(readFileSync(path.join(root, 'osdeploy', 'join.json'), 'utf8')), { domain: 'corp.example', passwordProvided: true });
  const everywhere = [
    ...allFiles(root).map((f) => readFileSync(f, 'latin1')),
    ...allFiles(state).map((f) => readFileSync(f, 'latin1')),
    first.stdout, first.stderr, second.stdout, second.stderr,
    JSON.stringify(await s.api('GET', `/status-messages?computerId=${pc.id}&limit=1000`)),
  ];
  t.notOk(everywhere.some((x) => x.includes(PASSWORD)), 'the Join Domain password is in no file, log or status message');
});
