/**
 * Task sequences and folders on PostgreSQL (`task_sequences`, `folders`, migration 5). Step
 * secrets are sealed as on SQLite, through the secret binding of the store's pool, so a document
 * reads the same on either engine.
 */
import type { NoteChange } from '../../site/repos/changes.js';
import type { Folder } from '../../../policy/folders.js';
import type { TaskSequence } from '../../../policy/task-sequences/model.js';
import type { FolderRepo, TaskSequenceRepo } from '../../site/repos/task-sequences.js';
import { jsonText } from '../rows.js';
import { openDoc, sealDoc, type SecretHolder } from '../secrets/binding.js';
import type { PgQuery } from './query.js';

const TABLE = 'task_sequences';
const FOLDER_COLUMNS = 'id, name, parent_id AS "parentId"';

export class PgTaskSequenceRepo implements TaskSequenceRepo {
  constructor(
    private readonly q: PgQuery,
    /** The handle the store's secret binding is keyed by (its pool). */
    private readonly secrets: SecretHolder,
    private readonly note: NoteChange,
  ) {}

  async put(ts: TaskSequence, updatedAt: number): Promise<void> {
    const doc = jsonText(sealDoc(this.secrets, TABLE, ts), `task sequence ${ts.id}`);
    await this.q(
      'INSERT INTO task_sequences (id, name, folder_id, doc, updated_at) VALUES ($1, $2, $3, $4, $5) ' +
        'ON CONFLICT (id) DO UPDATE SET name = excluded.name, folder_id = excluded.folder_id, doc = excluded.doc, updated_at = excluded.updated_at',
      [ts.id, ts.name, ts.folderId, doc, updatedAt],
    );
    this.note({ kind: 'doc', table: TABLE, id: ts.id, doc: ts });
  }

  private async where(sql: string, args: readonly unknown[] = []): Promise<TaskSequence[]> {
    return (await this.q<{ doc: string }>(sql, args)).rows.map((r) => openDoc<TaskSequence>(this.secrets, TABLE, r.doc));
  }

  async get(id: string): Promise<TaskSequence | null> {
    return (await this.where('SELECT doc FROM task_sequences WHERE id = $1', [id]))[0] ?? null;
  }

  async delete(id: string): Promise<boolean> {
    const gone = ((await this.q('DELETE FROM task_sequences WHERE id = $1', [id])).rowCount ?? 0) > 0;
    if (gone) this.note({ kind: 'doc', table: TABLE, id, doc: null });
    return gone;
  }

  list(): Promise<TaskSequence[]> {
    return this.where('SELECT doc FROM task_sequences ORDER BY name, id');
  }

  byName(name: string): Promise<TaskSequence[]> {
    return this.where('SELECT doc FROM task_sequences WHERE name = $1 ORDER BY id', [name]);
  }

  inFolder(folderId: string | null): Promise<TaskSequence[]> {
    return folderId === null
      ? this.where('SELECT doc FROM task_sequences WHERE folder_id IS NULL ORDER BY name, id')
      : this.where('SELECT doc FROM task_sequences WHERE folder_id = $1 ORDER BY name, id', [folderId]);
  }
}

export class PgFolderRepo implements FolderRepo {
  constructor(private readonly q: PgQuery) {}

  async insert(f: Folder): Promise<void> {
    await this.q('INSERT INTO folders (id, name, parent_id) VALUES ($1, $2, $3)', [f.id, f.name, f.parentId]);
  }

  async get(id: string): Promise<Folder | null> {
    return (await this.q<Folder>(`SELECT ${FOLDER_COLUMNS} FROM folders WHERE id = $1`, [id])).rows[0] ?? null;
  }

  async list(): Promise<Folder[]> {
    return (await this.q<Folder>(`SELECT ${FOLDER_COLUMNS} FROM folders ORDER BY id`)).rows;
  }

  async update(f: Folder): Promise<boolean> {
    return ((await this.q('UPDATE folders SET name = $1, parent_id = $2 WHERE id = $3', [f.name, f.parentId, f.id])).rowCount ?? 0) > 0;
  }

  async delete(id: string): Promise<boolean> {
    return ((await this.q('DELETE FROM folders WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }
}
