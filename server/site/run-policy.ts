/**
 * The part of a policy the engine runs: the task sequence's item tree. The client role
 * gets step secrets (a Join Domain password must reach the machine that joins), people get the
 * tree with secrets removed, like every other view of a task sequence.
 */
import { redactSecrets, stepType } from '../../policy/steps/catalog.js';
import type { Item, TaskSequence } from '../../policy/task-sequences/model.js';

export interface TaskSequencePolicy {
  readonly id: string;
  readonly name: string;
  readonly items: readonly Item[];
}

function redacted(item: Item): Item {
  if (item.kind === 'group') return { ...item, children: item.children.map(redacted) };
  if (!stepType(item.type)) return { ...item, properties: {} };
  return { ...item, properties: redactSecrets(item.type, item.properties).properties };
}

export function taskSequencePolicy(ts: TaskSequence, revealSecrets: boolean): TaskSequencePolicy {
  return { id: ts.id, name: ts.name, items: revealSecrets ? ts.items : ts.items.map(redacted) };
}
