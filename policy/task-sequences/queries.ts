/** Facts derived from a task sequence's steps. */
import { stepType } from '../steps/catalog.js';
import type { TaskSequence } from './model.js';
import { walk } from './tree.js';

/**
 * True when any step lays down or upgrades an operating system (Apply Operating System Image,
 * Apply Data Image, Upgrade Operating System). Disabled steps count too: enabling a step needs
 * no redeploy, so the risk is the task sequence's, not today's switch position.
 */
export function deploysOperatingSystem(ts: TaskSequence): boolean {
  for (const { item } of walk(ts.items)) if (item.kind === 'step' && stepType(item.type)?.deploysOs) return true;
  return false;
}
