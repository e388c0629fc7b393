/**
 * A Restart Computer into the deployed OS with steps still to run: the run moves onto the target
 * disk, into the folder the full-OS engine keeps its state in (<root>/var/lib/osdeploy-engine,
 * options.ts DEFAULT_STATE_DIR), so `osdeploy-engine --agent` started in the deployed OS with the
 * same token resumes it as the same run (engine.ts resumeIfSaved). The status messages the site
 * has not taken yet go along in its outbox. In the boot environment the run is archived: a
 * later start there (another PXE boot) must not run it a second time.
 *
 * In the deployed OS the target is `/`: OSDTargetSystemDrive says so, and _SMSTSInWinPE is false.
 */
import path from 'node:path';
import { DEFAULT_STATE_DIR } from './options.js';
import type { SessionDeps } from './session.js';
import type { RunState, Vault } from './state.js';
import type { VariableEntry } from './variables.js';

/** The variables as the deployed OS's engine should see them. */
export function variablesForTarget(entries: readonly VariableEntry[]): VariableEntry[] {
  const set: Record<string, string> = { osdtargetsystemdrive: '/', _smstsinwinpe: 'false' };
  return entries.map((e) => (set[e.name.toLowerCase()] !== undefined ? { ...e, value: set[e.name.toLowerCase()]! } : e));
}

/** Saves the run onto the target; returns the folder it went to. */
export async function handOff(deps: SessionDeps, state: RunState, vault: Vault): Promise<string> {
  const dir = path.join(deps.root, DEFAULT_STATE_DIR);
  state.status = 'restarting';
  deps.store.at(dir).save(state, { ...vault, variables: variablesForTarget(vault.variables) });
  // What can reach the site now goes now; the rest waits in the deployed OS's outbox.
  const left = deps.drain ? await deps.drain() : deps.outbox.pending().length;
  const moved = left > 0 ? deps.outbox.moveTo(path.join(dir, 'outbox')) : 0;
  deps.store.archive(state);
  deps.log.line(`restart into the deployed OS: run ${state.runId} saved in ${dir}${moved ? ` with ${moved} unsent status message(s)` : ''}; osdeploy-engine --agent there (same token) resumes it with the next step`);
  return dir;
}
