/**
 * Collections on SQLite: the existing `collections` table (migration 1), written with the site's
 * own helpers (docs.ts: sealed document, change journal), so either reads what the other wrote.
 */
import type { Collection } from '../../../policy/collections.js';
import { CollectionNameTaken, type CollectionRepo } from '../../site/repos/collections.js';
import { deleteRow, putDoc, readDoc } from '../docs.js';
import type { SqliteExec } from './statements.js';

const TABLE = 'collections';

export class SqliteCollectionRepo implements CollectionRepo {
  constructor(private readonly exec: SqliteExec) {}

  async put(c: Collection): Promise<void> {
    return this.exec((q) => {
      // Checked first, so a refused put writes nothing (and says who has the name).
      const holder = q.get<{ id: string }>('SELECT id FROM collections WHERE name = ? AND id <> ?', c.name, c.id);
      if (holder) throw new CollectionNameTaken(c.name, holder.id);
      putDoc(q.db, TABLE, c.id, { name: c.name }, c);
    });
  }

  private async one(sql: string, arg: string): Promise<Collection | null> {
    return this.exec((q) => {
      const row = q.get<{ doc: string }>(sql, arg);
      return row ? readDoc<Collection>(q.db, TABLE, row.doc) : null;
    });
  }

  get(id: string): Promise<Collection | null> {
    return this.one('SELECT doc FROM collections WHERE id = ?', id);
  }

  byName(name: string): Promise<Collection | null> {
    return this.one('SELECT doc FROM collections WHERE name = ?', name);
  }

  async delete(id: string): Promise<boolean> {
    return this.exec((q) => deleteRow(q.db, TABLE, id));
  }

  async list(): Promise<Collection[]> {
    return this.exec((q) => q.all<{ doc: string }>('SELECT doc FROM collections ORDER BY id').map((r) => readDoc<Collection>(q.db, TABLE, r.doc)));
  }
}
