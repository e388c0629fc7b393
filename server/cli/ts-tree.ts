/**
 * A task sequence as people read it in the editor: its properties, then the step tree indented,
 * one item a line with its id, flags, condition and the names of the secrets that are set
 * (never their values: the API does not send them).
 */
import { formatFields } from './table.js';

export type Condition =
  | { readonly kind: 'and' | 'or'; readonly conditions: readonly Condition[] }
  | { readonly kind: 'not'; readonly condition: Condition }
  | { readonly kind: 'variable'; readonly name: string; readonly operator: string; readonly value?: string };

interface ItemBase {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly enabled: boolean;
  readonly continueOnError: boolean;
  readonly condition: Condition | null;
}

export type ItemView =
  | (ItemBase & { readonly kind: 'step'; readonly type: string; readonly properties: Record<string, unknown>; readonly secretsSet?: readonly string[] })
  | (ItemBase & { readonly kind: 'group'; readonly children: readonly ItemView[] });

export interface TaskSequenceView {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly type: string;
  readonly enabled: boolean;
  readonly folderId: string | null;
  readonly folderPath: string;
  readonly bootImageId: string | null;
  readonly items: readonly ItemView[];
  readonly nextItemId: number;
  readonly strippedSecrets: readonly string[];
  readonly needsPasswords: boolean;
  readonly deploysOs: boolean;
}

export function formatCondition(c: Condition): string {
  switch (c.kind) {
    case 'and':
    case 'or':
      return c.conditions.length === 1 ? formatCondition(c.conditions[0]!) : `(${c.conditions.map(formatCondition).join(` ${c.kind} `)})`;
    case 'not': {
      const inner = formatCondition(c.condition);
      return inner.startsWith('(') ? `not ${inner}` : `not (${inner})`;
    }
    case 'variable':
      return c.value === undefined ? `${c.name} ${c.operator}` : `${c.name} ${c.operator} ${JSON.stringify(c.value)}`;
  }
}

function itemLine(item: ItemView, depth: number): string {
  const parts = [`${'  '.repeat(depth)}${item.id}  ${item.name}`, item.kind === 'group' ? '[group]' : `(${item.type})`];
  if (!item.enabled) parts.push('[disabled]');
  if (item.continueOnError) parts.push('[continue on error]');
  if (item.condition) parts.push(`if ${formatCondition(item.condition)}`);
  if (item.kind === 'step' && item.secretsSet?.length) parts.push(`secrets set: ${item.secretsSet.join(', ')}`);
  return parts.join('  ');
}

export function stepTree(items: readonly ItemView[], depth = 1): string[] {
  return items.flatMap((item) => [itemLine(item, depth), ...(item.kind === 'group' ? stepTree(item.children, depth + 1) : [])]);
}

export const countItems = (items: readonly ItemView[]): number =>
  items.reduce((n, item) => n + 1 + (item.kind === 'group' ? countItems(item.children) : 0), 0);

export function formatTaskSequence(ts: TaskSequenceView): string {
  const fields = formatFields([
    ['id', ts.id],
    ['name', ts.name],
    ['type', ts.type],
    ['enabled', ts.enabled],
    ['folder', ts.folderPath || '/'],
    ['boot image', ts.bootImageId],
    ['deploys OS', ts.deploysOs],
    ['needs passwords', ts.needsPasswords ? ts.strippedSecrets : false],
    ['description', ts.description],
  ]);
  const steps = ts.items.length ? stepTree(ts.items) : ['  (no steps)'];
  return [fields, 'steps:', ...steps].join('\n');
}
