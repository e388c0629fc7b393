/**
 * Folders for task sequences: they nest, and one tree is shared by every site.
 * Names are unique among siblings (case-insensitively), and a folder never moves into itself.
 */
import { conflict, invalid, notFound } from './errors.js';
import { normalizeName } from './normalize.js';

export interface Folder {
  readonly id: string;
  readonly name: string;
  /** Null for a top-level folder. */
  readonly parentId: string | null;
}

export const MAX_FOLDER_DEPTH = 16;

export function checkFolder(folder: Folder, all: ReadonlyMap<string, Folder>): Folder {
  const name = normalizeName(folder.name);
  if (/[\\/]/.test(name)) throw invalid('a folder name cannot contain / or \\', 'name');
  if (folder.parentId !== null) {
    if (!all.has(folder.parentId)) throw notFound(`no folder ${folder.parentId}`, 'parentId');
    let depth = 1;
    for (let p: string | null = folder.parentId; p !== null; p = all.get(p)?.parentId ?? null) {
      if (p === folder.id) throw conflict('a folder cannot move into itself or one of its subfolders', 'parentId');
      if (++depth > MAX_FOLDER_DEPTH) throw invalid(`folders nest at most ${MAX_FOLDER_DEPTH} deep`, 'parentId');
    }
    // A moved folder takes its subfolders along: the deepest of them must fit too.
    if (depth + levelsBelow(folder.id, all) > MAX_FOLDER_DEPTH) throw invalid(`folders nest at most ${MAX_FOLDER_DEPTH} deep`, 'parentId');
  }
  for (const other of all.values())
    if (other.id !== folder.id && other.parentId === folder.parentId && other.name.toLowerCase() === name.toLowerCase())
      throw conflict(`a folder named ${name} already exists there`, 'name');
  return { ...folder, name };
}

/** Levels of subfolders below `id` (0 for a folder without subfolders). */
function levelsBelow(id: string, all: ReadonlyMap<string, Folder>): number {
  const seen = new Set([id]);
  let current: ReadonlySet<string> = new Set([id]);
  for (let level = 0; ; level++) {
    const next = new Set<string>();
    for (const f of all.values()) if (f.parentId !== null && current.has(f.parentId) && !seen.has(f.id)) next.add(f.id);
    if (next.size === 0) return level;
    for (const n of next) seen.add(n);
    current = next;
  }
}

/** `Servers/Windows/2025` for display. */
export function folderPath(id: string | null, all: ReadonlyMap<string, Folder>): string {
  const names: string[] = [];
  for (let p = id; p !== null; p = all.get(p)?.parentId ?? null) {
    const f = all.get(p);
    if (!f) break;
    names.unshift(f.name);
  }
  return '/' + names.join('/');
}

/** A folder can be deleted only when nothing is inside it. */
export function checkFolderEmpty(id: string, all: ReadonlyMap<string, Folder>, taskSequenceFolders: Iterable<string | null>): void {
  for (const f of all.values()) if (f.parentId === id) throw conflict(`folder ${id} has subfolders`, 'id');
  for (const t of taskSequenceFolders) if (t === id) throw conflict(`folder ${id} holds task sequences`, 'id');
}
