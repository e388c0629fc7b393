/**
 * The other task sequence actions: copy, enable, disable, move to a folder, and
 * properties (name, description, boot image — never the steps).
 */
import { invalid } from '../errors.js';
import { normalizeName } from '../normalize.js';
import type { TaskSequence } from './model.js';

const COPY_SUFFIX = ' - Copy';

/** A new object whose content equals the original; the copy lands in the root folder, as after a console refresh. */
export function copyTaskSequence(ts: TaskSequence, newId: string, name?: string): TaskSequence {
  // The default name must still fit the 256-character limit the original's name may already fill.
  const copyName = name ?? `${ts.name.slice(0, 256 - COPY_SUFFIX.length).trimEnd()}${COPY_SUFFIX}`;
  return { ...ts, id: newId, name: normalizeName(copyName), folderId: null };
}

/** Disabled task sequences stay deployable, but no computer runs them; enabling needs no redeploy. */
export const setTaskSequenceEnabled = (ts: TaskSequence, enabled: boolean): TaskSequence => ({ ...ts, enabled });

export const moveTaskSequence = (ts: TaskSequence, folderId: string | null): TaskSequence => ({ ...ts, folderId });

export interface TaskSequenceProperties {
  readonly name?: string;
  readonly description?: string;
  readonly bootImageId?: string | null;
}

const PROPERTY_KEYS = ['name', 'description', 'bootImageId'];

export function setTaskSequenceProperties(ts: TaskSequence, input: unknown): TaskSequence {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid('properties must be an object', 'body');
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!PROPERTY_KEYS.includes(k))
      throw invalid(k === 'items' || k === 'steps' ? 'steps are changed with edit operations, not properties (R-05)' : `${k} is not a task sequence property`, k);
  let next = ts;
  if (o.name !== undefined) next = { ...next, name: normalizeName(String(o.name)) };
  if (o.description !== undefined) {
    if (typeof o.description !== 'string' || o.description.length > 4096) throw invalid('description must be text of at most 4096 characters', 'description');
    next = { ...next, description: o.description };
  }
  if (o.bootImageId !== undefined) {
    if (o.bootImageId !== null && (typeof o.bootImageId !== 'string' || o.bootImageId.length === 0)) throw invalid('bootImageId must be an id or null', 'bootImageId');
    next = { ...next, bootImageId: o.bootImageId as string | null };
  }
  return next;
}
