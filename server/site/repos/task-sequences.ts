/**
 * Task sequences (R-01…R-05) as documents — the policy `TaskSequence` whole, step secrets sealed
 * at rest and opened on read — and the folders they are filed in. Folder rules (unique
 * sibling names, depth, no cycles, only empty folders go) are policy/folders.ts's, checked by the
 * site before it calls in; the database only refuses a folder or task sequence naming a parent
 * folder that is not stored, and deleting a folder that still holds folders or task sequences.
 */
import type { Folder } from '../../../policy/folders.js';
import type { TaskSequence } from '../../../policy/task-sequences/model.js';

export interface TaskSequenceRepo {
  /**
   * Inserts or replaces the task sequence; `updatedAt` (epoch ms) is kept beside it. Its folder
   * must be stored. A secret that cannot be sealed (no key bound to the store) refuses the put.
   */
  put(taskSequence: TaskSequence, updatedAt: number): Promise<void>;
  get(id: string): Promise<TaskSequence | null>;
  /** False when there was none; refused while a deployment names it (delete those first). */
  delete(id: string): Promise<boolean>;
  /** Every task sequence, by name then id (bytewise), as the site lists them. */
  list(): Promise<TaskSequence[]>;
  /** The task sequences named exactly `name` (names need not be unique), by id. */
  byName(name: string): Promise<TaskSequence[]>;
  /** The task sequences filed in the folder, or at the top level for null; by name then id. */
  inFolder(folderId: string | null): Promise<TaskSequence[]>;
}

export interface FolderRepo {
  /** Stores a new folder; its parent must be stored, and an id already stored is refused. */
  insert(folder: Folder): Promise<void>;
  get(id: string): Promise<Folder | null>;
  /** Every folder, by id (bytewise); the site sorts them by path. */
  list(): Promise<Folder[]>;
  /** Renames and moves: sets the stored folder's name and parent; false when there is no folder `folder.id`. */
  update(folder: Folder): Promise<boolean>;
  /** False when there was none; refused while folders or task sequences are filed in it. */
  delete(id: string): Promise<boolean>;
}
