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
import type { EngineLog } from './log.js';
import type { Outbox } from './outbox.js';
import { runItems, type RunResult, type StepOutcome, type StepRunner } from './runner.js';
import type { RunState, StateStore, Vault } from './state.js';
import { executeStep } from './steps/index.js';
import { Tail } from './steps/process.js';
import type { StepEnv } from './steps/types.js';
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

  const env: StepEnv = {
    vars,
    root: deps.root,
    stateDir,
    cacheDir: path.join(stateDir, 'cache'),
    content: vault.content,
    fetcher: deps.fetcherFor(vault.content),
    disks: deps.disks,
    log: deps.log.line,
    searchPath: deps.searchPath,
  };
  const execute = deps.execute ?? executeStep;
  // The built-ins Configuration Manager keeps about the steps, which conditions often test.
  const runStep: StepRunner = async (step) => {
    vars.setBuiltIn('_SMSTSCurrentActionName', step.name);
    let outcome: StepOutcome | undefined;
    try {
      outcome = await execute(step, env);
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

  const result = await runItems(
    vault.taskSequence.items,
    vars.lookup,
    state.progress,
    runStep,
    {
      stepStarted: async (step, resumed) => {
        deps.log.line(`step ${step.id} "${step.name}" (${step.type}) started${resumed ? ' again: the engine stopped while it ran' : ''}`);
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
        await report(outcome.ok ? 'stepSucceeded' : 'stepFailed', { ...common, ...(continuedOnError ? { continuedOnError: true } : {}) });
      },
      skipped: async (item, reason) => {
        deps.log.line(`${item.kind} ${item.id} "${item.name}" skipped: ${reason}`);
        await report('stepSkipped', { step: ref(item), message: reason, percent: percent() });
      },
      checkpoint: async () => save(),
    },
    deps.now,
  );

  if (result === 'restart') {
    state.status = 'restarting';
    save();
    deps.log.line('restart requested: state saved; the next start continues with the next step');
    return result;
  }
  state.status = 'finished';
  state.outcome = result === 'success' ? 'success' : 'failed';
  await report('runFinished', { outcome: state.outcome, ...(state.progress.failure ? { message: deps.log.clean(state.progress.failure).slice(0, 2048) } : {}) });
  deps.log.line(`run ${state.runId} of ${state.deploymentId} finished: ${state.outcome}${state.progress.failure ? ` (${deps.log.clean(state.progress.failure)})` : ''}`);
  deps.store.save(state, null);
  deps.store.archive(state);
  return result;
}
