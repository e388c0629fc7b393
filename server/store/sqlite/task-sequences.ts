/**
 * Task sequences and folders on SQLite: the existing `task_sequences` and `folders` tables
 * (migration 1). Documents go through the site's own helpers (docs.ts: step secrets sealed,
 * change journal), so either reads what the other wrote; folders are plain rows, as the site
 * keeps them.
 */
import type { Folder } from '../../../policy/folders.js';
import type { TaskSequence } from '../../../policy/task-sequences/model.js';
import type { FolderRepo, TaskSequenceRepo } from '../../site/repos/task-sequences.js';
import { deleteRow, putDoc, readDoc } from '../docs.js';
import type { SqliteExec } from './statements.js';

const TABLE = 'task_sequences';
const FOLDER_COLUMNS = 'id, name, parent_id AS "parentId"';

export class SqliteTaskSequenceRepo implements TaskSequenceRepo {
  constructor(private readonly exec: SqliteExec) {}

  async put(ts: TaskSequence, updatedAt: number): Promise<void> {
    return this.exec((q) => putDoc(q.db, TABLE, ts.id, { name: ts.name, folder_id: ts.folderId, updated_at: updatedAt }, ts));
  }

  async get(id: string): Promise<TaskSequence | null> {
    return this.exec((q) => {
      const row = q.get<{ doc: string }>('SELECT doc FROM task_sequences WHERE id = ?', id);
      return row ? readDoc<TaskSequence>(q.db, TABLE, row.doc) : null;
    });
  }

  async delete(id: string): Promise<boolean> {
    return this.exec((q) => deleteRow(q.db, TABLE, id));
  }

  private async where(sql: string, ...args: string[]): Promise<TaskSequence[]> {
    return this.exec((q) => q.all<{ doc: string }>(sql, ...args).map((r) => readDoc<TaskSequence>(q.db, TABLE, r.doc)));
  }

  list(): Promise<TaskSequence[]> {
    return this.where('SELECT doc FROM task_sequences ORDER BY name, id');
  }

  byName(name: string): Promise<TaskSequence[]> {
    return this.where('SELECT doc FROM task_sequences WHERE name = ? ORDER BY id', name);
  }

  inFolder(folderId: string | null): Promise<TaskSequence[]> {
    return folderId === null
      ? this.where('SELECT doc FROM task_sequences WHERE folder_id IS NULL ORDER BY name, id')
      : this.where('SELECT doc FROM task_sequences WHERE folder_id = ? ORDER BY name, id', folderId);
  }
}

export class SqliteFolderRepo implements FolderRepo {
  constructor(private readonly exec: SqliteExec) {}

  async insert(f: Folder): Promise<void> {
    return this.exec((q) => void q.run('INSERT INTO folders (id, name, parent_id) VALUES (?, ?, ?)', f.id, f.name, f.parentId));
  }

  async get(id: string): Promise<Folder | null> {
    return this.exec((q) => q.get<Folder>(`SELECT ${FOLDER_COLUMNS} FROM folders WHERE id = ?`, id) ?? null);
  }

  async list(): Promise<Folder[]> {
    return this.exec((q) => q.all<Folder>(`SELECT ${FOLDER_COLUMNS} FROM folders ORDER BY id`));
  }

  async update(f: Folder): Promise<boolean> {
    return this.exec((q) => q.run('UPDATE folders SET name = ?, parent_id = ? WHERE id = ?', f.name, f.parentId, f.id).changes > 0);
  }

  async delete(id: string): Promise<boolean> {
    return this.exec((q) => q.run('DELETE FROM folders WHERE id = ?', id).changes > 0);
  }
}
