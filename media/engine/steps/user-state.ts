/**
 * Capture User State and Restore User State. The Linux engine has no USMT: it archives chosen
 * paths under the target root with tar into the state store and extracts them back. "All
 * profiles" means the profile folders that exist (`home`, `root`, `Users`); otherwise the step's
 * configuration file entries name the paths to keep. The store is the step's path, else
 * OSDStateStorePath, else `<state>/statestore`, outside the root so applying an image over the
 * root does not destroy it.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { StepItem } from '../../../policy/task-sequences/model.js';
import { runProcess } from './process.js';
import { fail, flag, list, ok, text, underRoot, which, type StepEnv, type StepHandler } from './types.js';

const ARCHIVE = 'userstate.tar';
const PROFILE_ROOTS = ['home', 'root', 'Users'];

function storeOf(step: StepItem, env: StepEnv): string {
  const p = text(step, env, 'storePath') ?? env.vars.get('OSDStateStorePath') ?? path.join(env.stateDir, 'statestore');
  return path.resolve(env.stateDir, p);
}

export const captureUserState: StepHandler = async (step, env) => {
  const tar = which('tar', env.searchPath);
  if (!tar) return fail('not supported here: tar not found');
  const wanted = flag(step, 'includeAllProfiles', true) ? PROFILE_ROOTS : list<string>(step, 'configFiles').map((p) => env.vars.expand(p));
  const paths: string[] = [];
  for (const p of wanted) {
    const abs = underRoot(env, p);
    if (existsSync(abs)) paths.push(path.relative(env.root, abs) || '.');
  }
  const store = storeOf(step, env);
  mkdirSync(store, { recursive: true, mode: 0o700 });
  env.vars.set('OSDStateStorePath', store);
  if (paths.length === 0) return ok(`nothing to capture: none of ${wanted.join(', ') || '(no paths)'} exists under ${env.root}`);
  const r = await runProcess(tar, ['-cf', path.join(store, ARCHIVE), '-C', env.root, '--', ...paths], { cwd: env.root });
  const continueOnLocked = flag(step, 'continueOnLockedFiles', true);
  // tar exits 1 when a file changed while it was read: the "locked files" case.
  if (r.spawnError || (r.exitCode !== 0 && !(r.exitCode === 1 && continueOnLocked)))
    return fail(`capturing user state failed (exit ${r.exitCode})`, { exitCode: r.exitCode, output: r.output });
  return ok(`captured ${paths.join(', ')} into ${path.join(store, ARCHIVE)}`, { exitCode: r.exitCode, output: r.output });
};

export const restoreUserState: StepHandler = async (step, env) => {
  const tar = which('tar', env.searchPath);
  if (!tar) return fail('not supported here: tar not found');
  const archive = path.join(storeOf(step, env), ARCHIVE);
  if (!existsSync(archive)) return fail(`no captured user state at ${archive}`);
  mkdirSync(env.root, { recursive: true });
  const r = await runProcess(tar, ['-xf', archive, '-C', env.root, '--no-same-owner'], { cwd: env.root });
  if (r.spawnError || (r.exitCode !== 0 && !flag(step, 'continueOnRestoreErrors', true)) || r.exitCode > 1)
    return fail(`restoring user state failed (exit ${r.exitCode})`, { exitCode: r.exitCode, output: r.output });
  return ok(`user state from ${archive} restored into ${env.root}`, { exitCode: r.exitCode, output: r.output });
};
