/**
 * Set Task Sequence Variable, Set Dynamic Variables, Restart Computer and Join Domain or
 * Workgroup. The join is not performed on Linux: the engine writes the configuration it would
 * apply to `<root>/osdeploy/join.json` for the installed OS to act on, and never the password
 * (R-03, R-31): only whether one was given.
 */
import path from 'node:path';
import { atomicWrite } from '../state.js';
import { ReadOnlyVariableError } from '../variables.js';
import { fail, flag, list, ok, text, type StepHandler } from './types.js';

export const setTaskSequenceVariable: StepHandler = async (step, env) => {
  const name = text(step, env, 'variable');
  if (!name) return fail('no variable name');
  const raw = step.properties.value;
  const value = typeof raw === 'string' ? env.vars.expand(raw) : '';
  const hidden = flag(step, 'hideValue', false);
  try {
    env.vars.set(name, value, hidden);
  } catch (e) {
    if (e instanceof ReadOnlyVariableError) return fail(e.message);
    throw e;
  }
  return ok(hidden ? `${name} set (value hidden)` : `${name} = ${value}`);
};

/** Rules are plain assignments here: each sets a variable, values expanded in order. */
export const setDynamicVariables: StepHandler = async (step, env) => {
  const rules = list<{ name: string; value: string }>(step, 'rules');
  const set: string[] = [];
  for (const r of rules) {
    try {
      env.vars.set(r.name, env.vars.expand(r.value));
    } catch (e) {
      if (e instanceof ReadOnlyVariableError) return fail(e.message);
      throw e;
    }
    set.push(r.name);
  }
  return ok(set.length ? `set ${set.join(', ')}` : 'no rules');
};

/** Saved as done, then the engine exits with its restart code; the next start goes on after this step. */
export const restartComputer: StepHandler = async (step, env) => {
  const to = text(step, env, 'restartTo') ?? 'currentOs';
  return { ...ok(`restart requested (continue in ${to === 'bootImage' ? 'the boot image' : 'the current operating system'})`, { restart: true }), restartTo: to === 'bootImage' ? 'bootImage' : 'currentOs' };
};

export const joinDomainOrWorkgroup: StepHandler = async (step, env) => {
  const mode = text(step, env, 'mode');
  const file = path.join(env.root, 'osdeploy', 'join.json');
  let config: Record<string, unknown>;
  let summary: string;
  if (mode === 'workgroup') {
    const workgroup = text(step, env, 'workgroup');
    if (!workgroup) return fail('joining a workgroup needs its name');
    config = { mode, workgroup };
    summary = `would join workgroup ${workgroup}`;
  } else if (mode === 'domain') {
    const domain = text(step, env, 'domain');
    if (!domain) return fail('joining a domain needs the domain name');
    const account = text(step, env, 'account') ?? null;
    const ou = text(step, env, 'ou') ?? null;
    const pw = step.properties.password;
    config = { mode, domain, ou, account, passwordProvided: typeof pw === 'string' && pw !== '' };
    summary = `would join domain ${domain}${ou ? ` in ${ou}` : ''}${account ? ` as ${account}` : ''}`;
  } else {
    return fail(`mode must be domain or workgroup, not ${String(mode)}`);
  }
  atomicWrite(file, `${JSON.stringify({ ...config, computerName: env.vars.get('OSDComputerName') ?? null }, null, 2)}\n`);
  return ok(`${summary}; configuration written to ${file}`, { output: JSON.stringify(config) });
};
