/**
 * One run of one deployment on this machine (R-29, R-30): the runner over the task sequence's
 * tree with the real step implementations, every step reported through the outbox, and the
 * state (progress, variables) saved after each item. Boot mode and agent mode both end here.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { secretPropertyNames, stepType } from '../../policy/steps/catalog.js';
import type { StatusKind } from '../../policy/status.js';
import { walk } from '../../policy/task-sequences/tree.js';
import type { Item, StepItem } from '../../policy/task-sequences/model.js';
import type { ContentFetcher } from './content/fetcher.js';
import type { ContentPolicy } from './content/policy.js';
import { handOff } from './handoff.js';
import type { EngineLog } from './log.js';
import { Mounts } from './mounts.js';
import type { Outbox } from './outbox.js';
import { lastLines, ProgressReporter } from './progress.js';
import { runItems, stepsAhead, type RunnerEvents, type RunResult, type StepOutcome, type StepRunner } from './runner.js';
import type { RunState, StateStore, Vault } from './state.js';
import { executeStep } from './steps/index.js';
import { Tail } from './steps/process.js';
import { remountTarget } from './steps/target-mount.js';
import type { StepEnv } from './steps/types.js';
import { newDiskBook, volumeKey } from './steps/volumes.js';
import { Variables } from './variables.js';

export interface SessionDeps {
  readonly store: StateStore;
  readonly outbox: Outbox;
  readonly log: EngineLog;
  readonly now: () => number;
  readonly root: string;
  readonly disks: ReadonlyMap<number, string>;
  readonly searchPath: string;
  readonly fetcherFor: (content: ContentPolicy | null) => ContentFetcher | null;
  /** Tests replace the real steps with a fake executor. */
  readonly execute?: (step: StepItem, env: StepEnv) => Promise<StepOutcome>;
  /** What the engine mounts on the target (the engine releases them before it exits). */
  readonly mounts?: Mounts;
  readonly uefi?: boolean;
  readonly arch?: string;
  /** Progress lines for the boot environment's controller (progress.ts). */
  readonly progress?: ProgressReporter;
  /**
   * Running in a boot image (not the full-OS agent): a Restart Computer into the current OS then
   * means the deployed OS, and the run either ends here or moves onto the target (handoff.ts).
   */
  readonly bootImage?: boolean;
  /** Sends the outbox for up to the flush time-out; returns how many messages are left. */
  readonly drain?: () => Promise<number>;
}

/** Step secrets (passwords…) anywhere in the tree: masked like hidden variables. */
function stepSecrets(items: readonly Item[]): string[] {
  const out: string[] = [];
  for (const { item } of walk(items)) {
    if (item.kind !== 'step' || !stepType(item.type)) continue;
    for (const name of secretPropertyNames(item.type)) {
      const v = item.properties[name];
      if (typeof v === 'string' && v.length >= 3) out.push(v);
    }
  }
  return out;
}

/** A run from standalone media has no computer id yet: the outbox adds it once the site registered the machine. */
export const computerOf = (state: Pick<RunState, 'computerId'>): { computerId?: string } => (state.computerId === null ? {} : { computerId: state.computerId });

const countSteps = (items: readonly Item[]): number => [...walk(items)].filter((x) => x.item.kind === 'step').length;

/** Masks, then trims to the status limit (masking can lengthen the text). */
function tailOf(text: string | undefined, clean: (s: string) => string): string | undefined {
  if (!text) return undefined;
  const tail = new Tail();
  tail.push(Buffer.from(clean(text)));
  return tail.text();
}

export async function runSession(deps: SessionDeps, state: RunState, vault: Vault): Promise<RunResult> {
  const vars = new Variables(vault.variables);
  const fixedSecrets = stepSecrets(vault.taskSequence.items);
  const refreshMask = () => deps.log.mask([...fixedSecrets, ...vars.secretValues()]);
  refreshMask();
  const total = Math.max(1, countSteps(vault.taskSequence.items));
  const stateDir = deps.store.dir;

  const report = async (kind: StatusKind, extra: Record<string, unknown> = {}): Promise<void> => {
    deps.outbox.add({ id: randomUUID(), at: deps.now(), ...computerOf(state), deploymentId: state.deploymentId, runId: state.runId, kind, ...extra });
    await deps.outbox.flush();
  };
  const ref = (item: Item) => ({ itemId: item.id, name: item.name, type: item.kind === 'group' ? 'group' : item.type });
  // Called before the item counts as done: this item included.
  const percent = () => Math.min(100, Math.round(((state.progress.done.length + 1) / total) * 1000) / 10);
  const save = () => deps.store.save(state, { ...vault, variables: vars.entries() });

  state.disk ??= newDiskBook();
  const progress = deps.progress ?? new ProgressReporter(null, (x) => x);
  const env: StepEnv = {
    vars,
    root: deps.root,
    stateDir,
    cacheDir: path.join(stateDir, 'cache'),
    content: vault.content,
    fetcher: deps.fetcherFor(vault.content),
    disks: deps.disks,
    disk: state.disk,
    mounts: deps.mounts ?? new Mounts(deps.searchPath, deps.log.line),
    uefi: deps.uefi ?? false,
    arch: deps.arch ?? 'x64',
    log: deps.log.line,
    searchPath: deps.searchPath,
  };
  const execute = deps.execute ?? executeStep;
  // The built-ins Configuration Manager keeps about the steps, which conditions often test.
  let lastOutcome: StepOutcome | undefined;
  const runStep: StepRunner = async (step) => {
    vars.setBuiltIn('_SMSTSCurrentActionName', step.name);
    let outcome: StepOutcome | undefined;
    try {
      outcome = await execute(step, env);
      lastOutcome = outcome;
      return outcome;
    } finally {
      vars.setBuiltIn('_SMSTSLastActionName', step.name);
      vars.setBuiltIn('_SMSTSLastActionSucceeded', String(outcome?.ok === true));
      vars.setBuiltIn('_SMSTSLastActionRetCode', String(outcome?.exitCode ?? (outcome?.ok ? 0 : 1)));
      refreshMask(); // the step may have set a hidden variable
    }
  };

  // R-16 "download all content before starting": every package is fetched and verified into the
  // cache before the first step, so a network loss later cannot stop the run halfway; the steps
  // then find their files present (the fetcher skips files already there with the right hash).
  if (vault.content?.option === 'downloadAllFirst' && env.fetcher && state.progress.done.length === 0) {
    for (const item of vault.content.items) {
      try {
        const r = await env.fetcher.fetch(item, path.join(env.cacheDir, item.id));
        deps.log.line(`download all first: ${item.id} v${item.version}: ${r.files} file(s), ${r.bytes} byte(s)`);
      } catch (e) {
        const message = deps.log.clean(`content ${item.id} could not be downloaded before starting: ${(e as Error).message}`).slice(0, 2048);
        state.status = 'finished';
        state.outcome = 'failed';
        await report('runFinished', { outcome: 'failed', message });
        deps.log.line(`run ${state.runId} of ${state.deploymentId} finished: failed (${message})`);
        deps.store.save(state, null);
        deps.store.archive(state);
        return 'failed';
      }
    }
  }

  // After a restart into the boot image (or a crash) the target goes back where the steps left it.
  if (deps.bootImage && state.disk.applied.length > 0 && state.progress.done.length > 0) {
    try {
      const where = await remountTarget(env);
      if (where) deps.log.line(`target mounted again: ${where}`);
    } catch (e) {
      deps.log.line(`the target could not be mounted again: ${(e as Error).message}`);
    }
  }

  const ahead = () => stepsAhead(vault.taskSequence.items, vars.lookup, state.progress);
  progress.emit({ kind: 'run', deploymentId: state.deploymentId, taskSequenceName: vault.taskSequence.name, steps: (state.stepsRun ?? 0) + ahead() });
  let index = state.stepsRun ?? 0;
  let failedStep: string | null = null;
  const events: RunnerEvents = {
    stepStarted: async (step, resumed) => {
      deps.log.line(`step ${step.id} "${step.name}" (${step.type}) started${resumed ? ' again: the engine stopped while it ran' : ''}`);
      // Saved at the checkpoint after the step: a step run again after a crash gets the same number.
      state.stepsRun = index = index + 1;
      progress.emit({ kind: 'step', index, total: index - 1 + ahead(), name: step.name, type: step.type });
      await report('stepStarted', { step: ref(step), ...(resumed ? { resumed: true } : {}) });
    },
    stepFinished: async (step, outcome, durationMs, continuedOnError) => {
      const message = deps.log.clean(outcome.message ?? '').slice(0, 2048);
      deps.log.line(`step ${step.id} "${step.name}" ${outcome.ok ? 'succeeded' : continuedOnError ? 'failed (continue on error)' : 'failed'}: ${message}`);
      const common = {
        step: ref(step),
        durationMs,
        percent: percent(),
        message,
        ...(outcome.exitCode !== undefined ? { exitCode: outcome.exitCode } : {}),
        ...(outcome.output ? { outputTail: tailOf(outcome.output, deps.log.clean.bind(deps.log)) } : {}),
      };
      if (!outcome.ok && !continuedOnError) failedStep = step.name;
      progress.emit({ kind: 'stepDone', index, name: step.name, ok: outcome.ok, exitCode: outcome.exitCode ?? null, message, outputTail: lastLines(outcome.output) });
      progress.emit({ kind: 'percent', percent: common.percent });
      await report(outcome.ok ? 'stepSucceeded' : 'stepFailed', { ...common, ...(continuedOnError ? { continuedOnError: true } : {}) });
    },
    skipped: async (item, reason) => {
      deps.log.line(`${item.kind} ${item.id} "${item.name}" skipped: ${reason}`);
      await report('stepSkipped', { step: ref(item), message: reason, percent: percent() });
    },
    checkpoint: async () => save(),
  };
  let result = await runItems(vault.taskSequence.items, vars.lookup, state.progress, runStep, events, deps.now);

  // Restart Computer into the deployed OS from the boot image (the Linux engine's WinPE), once
  // this run has put an OS on a real disk; with a plain folder as --root there is no such OS
  // and the next start of this engine goes on, as after any restart.
  let restartAfter = false;
  const deployed = state.disk.applied.some((k) => state.disk!.volumes.some((v) => volumeKey(v) === k && v.device !== null));
  if (result === 'restart' && deps.bootImage && deployed && lastOutcome?.ok && lastOutcome.restartTo === 'currentOs') {
    if (ahead() > 0) {
      await report('progress', { message: 'restarting into the deployed operating system; the run goes on there' });
      await handOff(deps, state, { ...vault, variables: vars.entries() });
      progress.outcome = { result: 'restart', failedStep: null, message: 'restarting into the deployed operating system; the run goes on there' };
      return 'restart';
    }
    // The restart is the last thing the run does: it ends here, so the site records its outcome,
    // and the machine restarts into what it deployed. What is left is only skipped items.
    deps.log.line('restart into the deployed OS is the last step: the run finishes now');
    result = await runItems(vault.taskSequence.items, vars.lookup, state.progress, runStep, events, deps.now);
    restartAfter = true;
  }

  if (result === 'restart') {
    state.status = 'restarting';
    save();
    deps.log.line('restart requested: state saved; the next start continues with the next step');
    progress.outcome = { result: 'restart', failedStep: null, message: 'restart requested; the next start continues with the next step' };
    return result;
  }
  state.status = 'finished';
  state.outcome = result === 'success' ? 'success' : 'failed';
  await report('runFinished', { outcome: state.outcome, ...(state.progress.failure ? { message: deps.log.clean(state.progress.failure).slice(0, 2048) } : {}) });
  deps.log.line(`run ${state.runId} of ${state.deploymentId} finished: ${state.outcome}${state.progress.failure ? ` (${deps.log.clean(state.progress.failure)})` : ''}`);
  deps.store.save(state, null);
  deps.store.archive(state);
  const said = state.outcome === 'success' ? 'the task sequence succeeded' : `the task sequence failed${state.progress.failure ? `: ${deps.log.clean(state.progress.failure)}` : ''}`;
  progress.outcome = { result: state.outcome, failedStep, message: restartAfter ? `${said}; restarting into the deployed operating system` : said };
  return restartAfter ? 'restart' : result;
}
