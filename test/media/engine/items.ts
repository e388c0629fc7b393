/** Task sequence items for engine tests, written as plain data (what the site's policy sends). */
import type { Condition } from '../../../policy/task-sequences/conditions.js';
import type { GroupItem, Item, StepItem } from '../../../policy/task-sequences/model.js';

interface Opts {
  readonly name?: string;
  readonly enabled?: boolean;
  readonly continueOnError?: boolean;
  readonly condition?: Condition | null;
}

export const step = (id: string, type: string, properties: StepItem['properties'] = {}, o: Opts = {}): StepItem => ({
  kind: 'step', id, type, properties, name: o.name ?? id, description: '', enabled: o.enabled ?? true, continueOnError: o.continueOnError ?? false, condition: o.condition ?? null,
});

export const group = (id: string, children: readonly Item[], o: Opts = {}): GroupItem => ({
  kind: 'group', id, children, name: o.name ?? id, description: '', enabled: o.enabled ?? true, continueOnError: o.continueOnError ?? false, condition: o.condition ?? null,
});

export const equals = (name: string, value: string): Condition => ({ kind: 'variable', name, operator: 'equals', value });
