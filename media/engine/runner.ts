/**
 * Runs a task sequence's item tree in order: groups, conditions on the variables as they
 * are at that moment (earlier steps may have set them), disabled items skipped, continue on
 * error, and a failure that nothing continues past fails the run.
 *
 * Progress is checkpointed after every item so a restart resumes where it left off:
 * - a Restart Computer step (or exit code 3010) is recorded as done before the engine exits,
 *   so the next start continues with the next step;
 * - a step that was running when the engine died (crash, power loss) is run again: it may not
 *   have finished, and steps are written to be re-runnable (downloads verify hashes, archives
 *   are re-extracted). Its stepStarted says `resumed`.
 * A group entered before the interruption is not re-evaluated: its condition held then, and
 * its own steps may since have changed the variables it tested.
 */
import { evaluateCondition, type VariableLookup } from '../../policy/task-sequences/conditions.js';
import type { GroupItem, Item, StepItem } from '../../policy/task-sequences/model.js';

export interface RunProgress {
  /** Items finished: steps run, failed or skipped, groups completed or skipped. */
  readonly done: string[];
  /** Groups whose condition passed and whose children are under way. */
  readonly entered: string[];
  /** The step running now; still set after a crash. */
  current: string | null;
  failed: boolean;
  failure: string | null;
}

export const newProgress = (): RunProgress => ({ done: [], entered: [], current: null, failed: false, failure: null });

export type StepOutcome =
  | {
      readonly ok: true;
      readonly exitCode?: number;
      readonly output?: string;
      readonly message?: string;
      readonly restart?: boolean;
      /** Restart Computer's choice; a restart without one comes back to where the engine runs now. */
      readonly restartTo?: 'currentOs' | 'bootImage';
    }
  | { readonly ok: false; readonly exitCode?: number; readonly output?: string; readonly message: string };

export type StepRunner = (step: StepItem) => Promise<StepOutcome>;

export interface RunnerEvents {
  stepStarted(step: StepItem, resumed: boolean): Promise<void>;
  stepFinished(step: StepItem, outcome: StepOutcome, durationMs: number, continuedOnError: boolean): Promise<void>;
  skipped(item: Item, reason: string): Promise<void>;
  /** Persist the progress (and whatever state goes with it) before going on. */
  checkpoint(progress: RunProgress): Promise<void>;
}

export type RunResult = 'success' | 'failed' | 'restart';

/**
 * How many steps the rest of the run would run if the variables stayed as they are now: the
 * runner's own skip rules (disabled, condition, an entered group or the interrupted step always
 * goes on). An estimate for progress, and the test of "is this restart the last thing it does".
 */
export function stepsAhead(items: readonly Item[], lookup: VariableLookup, progress: RunProgress): number {
  const done = new Set(progress.done);
  const entered = new Set(progress.entered);
  const count = (list: readonly Item[]): number => {
    let n = 0;
    for (const item of list) {
      if (done.has(item.id)) continue;
      const goesOn = item.id === progress.current || entered.has(item.id) || (item.enabled && (!item.condition || evaluateCondition(item.condition, lookup)));
      if (goesOn) n += item.kind === 'group' ? count(item.children) : 1;
    }
    return n;
  };
  return count(items);
}
type Flow = 'ok' | 'failed' | 'restart';

export async function runItems(
  items: readonly Item[],
  lookup: VariableLookup,
  progress: RunProgress,
  runStep: StepRunner,
  events: RunnerEvents,
  now: () => number = Date.now,
): Promise<RunResult> {
  const done = new Set(progress.done);
  const entered = new Set(progress.entered);

  const finish = async (item: Item): Promise<void> => {
    done.add(item.id);
    progress.done.push(item.id);
    if (progress.current === item.id) progress.current = null;
    await events.checkpoint(progress);
  };

  /** Disabled and condition checks; an interrupted step or entered group already passed them. */
  const skipReason = (item: Item): string | null => {
    if (item.id === progress.current || entered.has(item.id)) return null;
    if (!item.enabled) return 'disabled';
    if (item.condition && !evaluateCondition(item.condition, lookup)) return 'condition not met';
    return null;
  };

  const runGroup = async (group: GroupItem): Promise<Flow> => {
    if (!entered.has(group.id)) {
      entered.add(group.id);
      progress.entered.push(group.id);
      await events.checkpoint(progress);
    }
    const flow = await runList(group.children);
    if (flow === 'restart') return flow;
    await finish(group);
    if (flow !== 'failed') return 'ok';
    // A failure inside a group that continues on error ends the group, not the run.
    if (!group.continueOnError) return 'failed';
    progress.failure = null;
    return 'ok';
  };

  const runOne = async (step: StepItem): Promise<Flow> => {
    const resumed = progress.current === step.id;
    progress.current = step.id;
    await events.checkpoint(progress);
    await events.stepStarted(step, resumed);
    const started = now();
    let outcome: StepOutcome;
    try {
      outcome = await runStep(step);
    } catch (e) {
      outcome = { ok: false, message: (e as Error).message ?? String(e) };
    }
    const continued = !outcome.ok && step.continueOnError;
    await events.stepFinished(step, outcome, Math.max(0, now() - started), continued);
    if (!outcome.ok && !continued) progress.failure = `${step.name}: ${outcome.message}`;
    await finish(step);
    if (!outcome.ok) return continued ? 'ok' : 'failed';
    return outcome.restart ? 'restart' : 'ok';
  };

  const runList = async (list: readonly Item[]): Promise<Flow> => {
    for (const item of list) {
      if (done.has(item.id)) continue;
      const reason = skipReason(item);
      if (reason) {
        await events.skipped(item, reason);
        await finish(item);
        continue;
      }
      const flow = item.kind === 'group' ? await runGroup(item) : await runOne(item);
      if (flow !== 'ok') return flow;
    }
    return 'ok';
  };

  const flow = await runList(items);
  if (flow === 'restart') return 'restart';
  if (flow === 'failed') {
    progress.failed = true;
    await events.checkpoint(progress);
    return 'failed';
  }
  return 'success';
}
