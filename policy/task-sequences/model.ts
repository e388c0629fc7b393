/**
 * Task sequences as plain data: an ordered tree of steps and groups.
 * Item ids are unique within one task sequence and never reused (`nextItemId`), so an
 * edit names its target unambiguously even after moves.
 */
import type { StepProperties } from '../steps/types.js';
import type { Condition } from './conditions.js';

export const TASK_SEQUENCE_TYPES = ['installOs', 'upgradeOs', 'buildCaptureOs', 'userState', 'vhd', 'custom'] as const;
export type TaskSequenceType = (typeof TASK_SEQUENCE_TYPES)[number];

interface ItemBase {
  readonly id: string;
  /** Free text; need not be the step's type (seed: "Partition disk 0" is a Format and Partition Disk step). */
  readonly name: string;
  readonly description: string;
  readonly enabled: boolean;
  readonly continueOnError: boolean;
  readonly condition: Condition | null;
}

export interface StepItem extends ItemBase {
  readonly kind: 'step';
  /** A catalog type, e.g. `RunCommandLine`. */
  readonly type: string;
  readonly properties: StepProperties;
}

export interface GroupItem extends ItemBase {
  readonly kind: 'group';
  readonly children: readonly Item[];
}

export type Item = StepItem | GroupItem;

export interface TaskSequence {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly type: TaskSequenceType;
  /** Disabled task sequences can be deployed but no computer runs them. */
  readonly enabled: boolean;
  readonly folderId: string | null;
  readonly bootImageId: string | null;
  readonly items: readonly Item[];
  /** Counter for item ids (`i1`, `i2`…). */
  readonly nextItemId: number;
  /**
   * Secrets an import stripped (`itemId.property`), not yet given again. While any remain the
   * task sequence "needs passwords" and cannot be deployed.
   */
  readonly strippedSecrets: readonly string[];
}
