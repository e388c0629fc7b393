/**
 * Task sequence editing: `ts edit ID --ops FILE.json` applies a list of operations
 * atomically; the shortcut verbs (add-step, add-group, remove, move-up, …) send one each.
 * `--prop K=V` values are typed from the step catalog, so `timeoutMinutes=5` is a number.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ApiClient } from '../api-client.js';
import { formatTaskSequence, type TaskSequenceView } from '../ts-tree.js';
import { CliError, enc, int, many, show, splitPair, verb, type Opts, type Run } from '../runtime.js';
import type { StepTypeDef, StepTypes } from './task-sequences.js';

type Operation = Record<string, unknown>;

async function applyOps(run: Run, ops: readonly Operation[]): Promise<TaskSequenceView> {
  return run.api.post<TaskSequenceView>(`/task-sequences/${enc(run.args[0])}/edits`, { operations: ops });
}

function readOps(file: string): Operation[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(`cannot read operations from ${file}: ${(e as Error).message}`);
  }
  const ops = Array.isArray(parsed) ? parsed : (parsed as { operations?: unknown } | null)?.operations;
  if (!Array.isArray(ops)) throw new CliError(`${file} must hold a JSON list of operations (or {"operations": [...]})`);
  return ops as Operation[];
}

const LIST_KINDS = new Set(['string-list', 'integer-list', 'ref-list', 'assignments']);

/** One `--prop` value as the catalog types it; unknown names pass through for the API to name. */
function typed(kind: string | undefined, raw: string): unknown {
  if (raw.startsWith('[') || raw.startsWith('{')) {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      /* not JSON: keep the text */
    }
  }
  switch (kind) {
    case 'boolean':
      return /^(true|yes|on|1)$/i.test(raw) ? true : /^(false|no|off|0)$/i.test(raw) ? false : raw;
    case 'integer':
      return /^-?\d+$/.test(raw) ? Number(raw) : raw;
    case 'integer-list':
      return raw.split(',').map((s) => (/^-?\d+$/.test(s.trim()) ? Number(s.trim()) : s.trim()));
    case 'ref-list':
      return raw.split(',').map((s) => s.trim());
    case 'assignments': {
      const [name, value] = splitPair(raw);
      return [{ name, value }];
    }
    case 'string-list':
      return [raw];
    default:
      return raw;
  }
}

export async function stepProperties(api: ApiClient, type: string, props: readonly string[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  if (props.length === 0) return out;
  const catalog = await api.get<StepTypes>('/step-types');
  const def: StepTypeDef | undefined = catalog.categories.flatMap((c) => c.steps).find((s) => s.type === type);
  for (const p of props) {
    const [key, raw] = splitPair(p);
    const kind = def?.properties.find((x) => x.name === key)?.kind;
    const value = typed(kind, raw);
    const prev = out[key];
    out[key] = kind && LIST_KINDS.has(kind) && Array.isArray(prev) && Array.isArray(value) ? [...(prev as unknown[]), ...value] : value;
  }
  return out;
}

function itemOptions(o: Opts): Operation {
  const op: Operation = {};
  if (o.name !== undefined) op.name = o.name;
  if (o.description !== undefined) op.description = o.description;
  if (o.disabled) op.enabled = false;
  if (o.continueOnError) op.continueOnError = true;
  if (o.condition !== undefined) {
    try {
      op.condition = JSON.parse(o.condition as string);
    } catch (e) {
      throw new CliError(`--condition must be JSON: ${(e as Error).message}`);
    }
  }
  if (o.parent !== undefined || o.index !== undefined) op.position = { parentId: (o.parent as string | undefined) ?? null, ...(o.index !== undefined ? { index: o.index } : {}) };
  return op;
}

const withItemFlags = (cmd: Command): Command =>
  cmd
    .option('--parent <groupId>', 'add inside this group (default: the top level)')
    .option('--index <n>', 'position among its siblings, 0 first (default: last)', int(0))
    .option('--description <text>', 'description')
    .option('--disabled', 'add it disabled')
    .option('--continue-on-error', 'continue when it fails')
    .option('--condition <json>', 'condition, e.g. {"kind":"variable","name":"X","operator":"equals","value":"1"}');

/** The item the last add created: item ids count up (`i1`, `i2`…) and are never reused. */
const lastAdded = (t: TaskSequenceView): string => `i${t.nextItemId - 1}`;

export function registerTsEdits(ts: Command): void {
  verb(ts, 'edit <id>', 'apply a JSON list of edit operations atomically (R-02)', async (run) => {
    const ops = readOps(run.opts.ops as string);
    const t = await applyOps(run, ops);
    show(run, t, (x) => `applied ${ops.length} operation(s) to ${x.id}\n${formatTaskSequence(x)}`);
  }).requiredOption('--ops <file>', 'JSON file: [{"op": "addStep", …}, …]');

  withItemFlags(
    verb(ts, 'add-step <id>', 'add a step of a catalog type (see ts step-types)', async (run) => {
      const o = run.opts;
      const properties = await stepProperties(run.api, o.type as string, (o.prop as string[] | undefined) ?? []);
      const t = await applyOps(run, [{ op: 'addStep', type: o.type, ...itemOptions(o), properties }]);
      show(run, t, (x) => `added step ${lastAdded(x)} to ${x.id}`);
    })
      .requiredOption('--type <type>', 'step type, e.g. RunCommandLine')
      .option('--name <name>', 'step name (default: the type display name)')
      .option('--prop <K=V>', 'step property (repeat; lists: repeat or comma-separate; JSON accepted)', many),
  );

  withItemFlags(
    verb(ts, 'add-group <id>', 'add a group', async (run) => {
      const t = await applyOps(run, [{ op: 'addGroup', ...itemOptions(run.opts) }]);
      show(run, t, (x) => `added group ${lastAdded(x)} to ${x.id}`);
    }).requiredOption('--name <name>', 'group name'),
  );

  const simple: readonly [string, string, string, (args: readonly string[]) => Operation][] = [
    ['remove <id> <item>', 'remove a step or a group with everything in it', 'removed', (a) => ({ op: 'remove', itemId: a[1] })],
    ['move-up <id> <item>', 'move an item up (into a group above it, or out of its group)', 'moved up', (a) => ({ op: 'moveUp', itemId: a[1] })],
    ['move-down <id> <item>', 'move an item down', 'moved down', (a) => ({ op: 'moveDown', itemId: a[1] })],
    ['rename <id> <item> <name>', 'rename an item', 'renamed', (a) => ({ op: 'rename', itemId: a[1], name: a[2] })],
    ['disable-step <id> <item>', 'disable a step or group', 'disabled', (a) => ({ op: 'setEnabled', itemId: a[1], enabled: false })],
    ['enable-step <id> <item>', 'enable a step or group', 'enabled', (a) => ({ op: 'setEnabled', itemId: a[1], enabled: true })],
  ];
  for (const [spec, description, done, build] of simple) {
    verb(ts, spec, description, async (run) => {
      const t = await applyOps(run, [build(run.args)]);
      show(run, t, (x) => `${done} ${run.args[1]} in ${x.id}`);
    });
  }
}
