/**
 * Steps the Linux engine runs: Run Command Line (working directory, success codes,
 * time-out, output variable, 3010), Run PowerShell Script only with pwsh, variables, Join
 * Domain or Workgroup without its password, and a clear failure for types it cannot run.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { runProcess } from '../../../media/engine/steps/process.js';
import { executeStep } from '../../../media/engine/steps/index.js';
import { Variables } from '../../../media/engine/variables.js';
import { step } from './items.js';
import { FakeContent, stepEnv, tempDir } from './step-env.js';

t.test('R-29 Run Command Line: /bin/sh in the working directory, %variables% expanded, exit code judged', async (t) => {
  const env = stepEnv(t, { vars: new Variables([{ name: 'Greeting', value: 'hello', secret: false }]) });
  mkdirSync(path.join(env.root, 'work'));
  const r = await executeStep(step('s', 'RunCommandLine', { commandLine: 'echo %Greeting% > out.txt; pwd', workingDirectory: 'work', outputVariable: 'Where' }), env);
  t.match(r, { ok: true, exitCode: 0 });
  t.equal(readFileSync(path.join(env.root, 'work', 'out.txt'), 'utf8'), 'hello\n');
  t.equal(env.vars.get('Where')?.trim(), path.join(env.root, 'work'), 'output variable keeps the output');

  t.match(await executeStep(step('s', 'RunCommandLine', { commandLine: 'echo oops >&2; exit 7' }), env), { ok: false, exitCode: 7, message: /exited with 7 \(success codes: 0, 3010\)/, output: /oops/ });
  t.match(await executeStep(step('s', 'RunCommandLine', { commandLine: 'exit 7', successCodes: [0, 7] }), env), { ok: true, exitCode: 7 });
  t.match(await executeStep(step('s', 'RunCommandLine', { commandLine: 'exit 3010' }), env), { ok: true, exitCode: 3010, restart: true }, '3010 asks for a restart');
  t.match(await executeStep(step('s', 'RunCommandLine', { commandLine: 'true', runAsUser: true, runAsAccount: 'CORP\\svc' }), env), { ok: false, message: /another account is not supported/ });
  t.match(await executeStep(step('s', 'RunCommandLine', { commandLine: 'true', workingDirectory: '../../etc' }), env), { ok: false, message: /leaves the target root/ });
});

t.test('R-29 a time-out ends the command and everything it started', async (t) => {
  const dir = tempDir(t);
  // The shell starts a child that would write a file later: the whole group must die.
  const r = await runProcess('/bin/sh', ['-c', `(sleep 20; touch ${dir}/late) & sleep 20`], { cwd: dir, timeoutMs: 300 });
  t.match(r, { timedOut: true, spawnError: null });
  t.notOk(existsSync(path.join(dir, 'late')));
});

t.test('R-29 Run Command Line with a package runs in the downloaded package folder', async (t) => {
  const fake = new FakeContent(tempDir(t)).add('PS100020', { 'tool.sh': 'echo from-package > "$OSDEPLOY_ROOT/marker"\n' });
  const env = stepEnv(t, { fake });
  t.match(await executeStep(step('s', 'RunCommandLine', { commandLine: 'sh tool.sh', packageId: 'PS100020' }), env), { ok: true });
  t.equal(readFileSync(path.join(env.root, 'marker'), 'utf8'), 'from-package\n');
});

t.test('R-29 Run PowerShell Script runs only where pwsh exists', async (t) => {
  const env = stepEnv(t, { searchPath: tempDir(t) });
  t.match(await executeStep(step('s', 'RunPowerShellScript', { scriptSource: 'Write-Host hi' }), env), { ok: false, message: 'not supported here: pwsh not found (install PowerShell to run this step on Linux)' });

  const bin = tempDir(t);
  writeFileSync(path.join(bin, 'pwsh'), '#!/bin/sh\nprintf "%s|" "$@"\n');
  chmodSync(path.join(bin, 'pwsh'), 0o755);
  const withPwsh = stepEnv(t, { searchPath: bin });
  const r = await executeStep(step('ps', 'RunPowerShellScript', { scriptSource: 'Write-Host %NotExpanded%', parameters: '-Name "two words" -Count 3', executionPolicy: 'Bypass' }), withPwsh);
  const script = path.join(withPwsh.cacheDir, 'scripts', 'ps.ps1');
  t.match(r, { ok: true, output: `-NoProfile|-NonInteractive|-ExecutionPolicy|Bypass|-File|${script}|-Name|two words|-Count|3|` });
  t.equal(readFileSync(script, 'utf8'), 'Write-Host %NotExpanded%', 'the script is kept verbatim');
});

t.test('R-24 Set Task Sequence Variable and Set Dynamic Variables; built-ins are read-only', async (t) => {
  const env = stepEnv(t, { vars: Variables.merged({}, [{ name: 'Site', value: 'HQ', hidden: false }], { _SMSTSAdvertID: 'PS120001' }) });
  t.match(await executeStep(step('s', 'SetTaskSequenceVariable', { variable: 'OSDComputerName', value: '%Site%-PC' }), env), { ok: true, message: 'OSDComputerName = HQ-PC' });
  t.match(await executeStep(step('s', 'SetTaskSequenceVariable', { variable: 'Pin', value: '123456', hideValue: true }), env), { ok: true, message: 'Pin set (value hidden)' });
  t.same(env.vars.secretValues(), ['123456']);
  t.match(await executeStep(step('s', 'SetTaskSequenceVariable', { variable: '_SMSTSAdvertID', value: 'x' }), env), { ok: false, message: /read-only built-in/ });
  t.match(await executeStep(step('s', 'SetDynamicVariables', { rules: [{ name: 'A', value: '1' }, { name: 'B', value: '%A%2' }] }), env), { ok: true, message: 'set A, B' });
  t.equal(env.vars.get('b'), '12', 'rules apply in order');
});

t.test('R-03/R-31 Join Domain or Workgroup writes what it would apply, never the password', async (t) => {
  const env = stepEnv(t);
  const PASSWORD = 'J0in-Secret-77';
  const r = await executeStep(step('j', 'JoinDomainOrWorkgroup', { mode: 'domain', domain: 'corp.example', ou: 'OU=Lab,DC=corp,DC=example', account: 'CORP\\joiner', password: PASSWORD }), env);
  t.match(r, { ok: true, message: /would join domain corp.example in OU=Lab,DC=corp,DC=example as CORP\\joiner/ });
  const written = readFileSync(path.join(env.root, 'osdeploy', 'join.json'), 'utf8');
  t.match(JSON.parse(written), { mode: 'domain', domain: 'corp.example', account: 'CORP\\joiner', passwordProvided: true });
  t.notOk(`${written}${JSON.stringify(r)}`.includes(PASSWORD), 'not in the file, the message or the output');
  t.match(await executeStep(step('j', 'JoinDomainOrWorkgroup', { mode: 'workgroup', workgroup: 'LAB' }), env), { ok: true, message: /would join workgroup LAB/ });
  t.match(await executeStep(step('j', 'JoinDomainOrWorkgroup', { mode: 'domain' }), env), { ok: false, message: /needs the domain name/ });
});

t.test('R-29 a step type the engine cannot run fails and names the type', async (t) => {
  const env = stepEnv(t);
  for (const type of ['EnableBitLocker', 'InstallApplication', 'SetupWindowsAndConfigMgr', 'NoSuchStep'])
    t.same(await executeStep(step('x', type), env), { ok: false, message: `step type ${type} cannot run on this engine` });
});

t.test('R-16 a content step without content policy fails clearly', async (t) => {
  t.match(await executeStep(step('d', 'DownloadPackageContent', { packageIds: ['PS100030'] }), stepEnv(t)), { ok: false, message: /PS100030 cannot be downloaded: the policy has no content section/ });
  const fake = new FakeContent(tempDir(t)).add('PS100031', { a: 'a' });
  t.match(await executeStep(step('d', 'InstallPackage', { packageId: 'PS100030', programName: 'Install' }), stepEnv(t, { fake })), { ok: false, message: /PS100030 is not in this deployment's content policy/ });
});
