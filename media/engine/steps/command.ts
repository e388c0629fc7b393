/**
 * Run Command Line and Run PowerShell Script. A command line runs through /bin/sh (the Linux
 * engine's cmd.exe); its exit code is judged against the step's success codes, and 3010 among
 * them asks the engine to restart and continue (step catalog). PowerShell runs only where
 * `pwsh` exists; elsewhere the step fails and says why.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { StepItem } from '../../../policy/task-sequences/model.js';
import type { StepOutcome } from '../runner.js';
import { fetchContent } from './packages.js';
import { runProcess } from './process.js';
import { fail, flag, int, list, ok, text, underRoot, which, type StepEnv, type StepHandler } from './types.js';

const DEFAULT_SUCCESS = [0, 3010];
const RESTART_CODE = 3010;
/**
 * A Linux exit status keeps 8 bits, so a program that exits 3010 (Windows' "restart required")
 * is seen as 194 (3010 & 0xFF): read back as 3010, it matches success codes and restarts.
 */
const RESTART_CODE_8BIT = RESTART_CODE & 0xff;

/** Package folder first (downloaded as needed), then the working directory relative to it or to the root. */
async function workingDirectory(step: StepItem, env: StepEnv): Promise<{ cwd: string; note: string | null }> {
  const pkg = text(step, env, 'packageId');
  let base = env.root;
  let note: string | null = null;
  if (pkg) {
    const fetched = await fetchContent(env, pkg);
    base = fetched.dir;
    note = fetched.note;
  }
  const wd = text(step, env, 'workingDirectory');
  if (!wd) return { cwd: base, note };
  return { cwd: path.isAbsolute(wd) ? wd : pkg ? path.resolve(base, wd) : underRoot(env, wd), note };
}

async function runJudged(step: StepItem, env: StepEnv, file: string, args: readonly string[], what: string): Promise<StepOutcome> {
  if (flag(step, 'runAsUser', false)) return fail('running a step as another account is not supported by this engine');
  const { cwd, note } = await workingDirectory(step, env);
  mkdirSync(cwd, { recursive: true });
  const minutes = int(step, 'timeoutMinutes');
  const r = await runProcess(file, args, { cwd, env: { ...process.env, OSDEPLOY_ROOT: env.root, OSDEPLOY_STATE: env.stateDir }, ...(minutes ? { timeoutMs: minutes * 60_000 } : {}) });
  const output = note ? `${note}\n${r.output}` : r.output;
  if (r.spawnError) return fail(`could not start ${file}: ${r.spawnError}`, { output });
  const outputVariable = text(step, env, 'outputVariable');
  // "Keeps the last 1000 characters of output" (step catalog).
  if (outputVariable) env.vars.set(outputVariable, r.output.slice(-1000));
  if (r.timedOut) return fail(`${what} timed out after ${minutes} minute(s) and was ended`, { exitCode: r.exitCode, output });
  const exitCode = r.exitCode === RESTART_CODE_8BIT ? RESTART_CODE : r.exitCode;
  const success = list<number>(step, 'successCodes');
  const codes = success.length ? success : DEFAULT_SUCCESS;
  if (!codes.includes(exitCode)) return fail(`${what} exited with ${exitCode} (success codes: ${codes.join(', ')})`, { exitCode, output });
  if (exitCode === RESTART_CODE) return ok(`${what} exited with 3010: restart requested`, { exitCode, output, restart: true });
  return ok(`${what} exited with ${exitCode}`, { exitCode, output });
}

export const runCommandLine: StepHandler = async (step, env) => {
  const commandLine = text(step, env, 'commandLine');
  if (!commandLine) return fail('the command line is empty');
  return runJudged(step, env, '/bin/sh', ['-c', commandLine], 'the command line');
};

export const runPowerShellScript: StepHandler = async (step, env) => {
  const pwsh = which('pwsh', env.searchPath);
  if (!pwsh) return fail('not supported here: pwsh not found (install PowerShell to run this step on Linux)');
  let script: string;
  const source = step.properties.scriptSource;
  if (typeof source === 'string' && source.trim() !== '') {
    // The entered script is kept verbatim: PowerShell's own %-syntax must survive.
    const dir = path.join(env.cacheDir, 'scripts');
    mkdirSync(dir, { recursive: true });
    script = path.join(dir, `${step.id}.ps1`);
    writeFileSync(script, source, { mode: 0o600 });
  } else {
    const pkg = text(step, env, 'packageId');
    const name = text(step, env, 'scriptName');
    if (!pkg || !name) return fail('give either a script or a package and a script name');
    script = path.join((await fetchContent(env, pkg)).dir, name);
  }
  const args = ['-NoProfile', '-NonInteractive'];
  const policy = step.properties.executionPolicy;
  if (typeof policy === 'string' && policy !== 'Undefined') args.push('-ExecutionPolicy', policy);
  args.push('-File', script);
  const parameters = text(step, env, 'parameters');
  // Parameters are for the script; split like a shell would on spaces, keeping quoted runs.
  if (parameters) args.push(...(parameters.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map((p) => p.replace(/^(["'])(.*)\1$/, '$2')));
  return runJudged(step, env, pwsh, args, 'the PowerShell script');
};
