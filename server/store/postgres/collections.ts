/**
 * Collections on PostgreSQL (`collections`, migration 4): the same sealed JSON text as on SQLite.
 * A put checks the name in the same statement that writes, so a refused put raises no SQL error
 * (which would abort the caller's transaction) and writes nothing.
 */
import type { NoteChange } from '../../site/repos/changes.js';
import type { DatabaseError } from 'pg';
import type { Collection } from '../../../policy/collections.js';
import { CollectionNameTaken, type CollectionRepo } from '../../site/repos/collections.js';
import { jsonText } from '../rows.js';
import { openDoc, sealDoc, type SecretHolder } from '../secrets/binding.js';
import type { PgQuery } from './query.js';

const TABLE = 'collections';

const PUT_SQL = `
WITH taken AS (
  SELECT id FROM collections WHERE name = $2 AND id <> $1
), up AS (
  INSERT INTO collections (id, name, doc) SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM taken)
  ON CONFLICT (id) DO UPDATE SET name = excluded.name, doc = excluded.doc
)
SELECT id FROM taken`;

export class PgCollectionRepo implements CollectionRepo {
  constructor(
    private readonly q: PgQuery,
    private readonly secrets: SecretHolder,
    private readonly note: NoteChange,
  ) {}

  private open = (row: { doc: string }): Collection => openDoc<Collection>(this.secrets, TABLE, row.doc);

  async put(c: Collection): Promise<void> {
    const doc = jsonText(sealDoc(this.secrets, TABLE, c), `collection ${c.id}`);
    let holder: { id: string } | undefined;
    try {
      holder = (await this.q<{ id: string }>(PUT_SQL, [c.id, c.name, doc])).rows[0];
    } catch (e) {
      // A concurrent put took the name after the check: the unique key refuses it instead.
      const err = e as Partial<DatabaseError>;
      if (err.code === '23505' && err.constraint === 'collections_name_key') throw new CollectionNameTaken(c.name, null);
      throw e;
    }
    if (holder) throw new CollectionNameTaken(c.name, holder.id);
    this.note({ kind: 'doc', table: TABLE, id: c.id, doc: c });
  }

  private async one(sql: string, arg: string): Promise<Collection | null> {
    const row = (await this.q<{ doc: string }>(sql, [arg])).rows[0];
    return row ? this.open(row) : null;
  }

  get(id: string): Promise<Collection | null> {
    return this.one('SELECT doc FROM collections WHERE id = $1', id);
  }

  byName(name: string): Promise<Collection | null> {
    return this.one('SELECT doc FROM collections WHERE name = $1', name);
  }

  async delete(id: string): Promise<boolean> {
    const gone = ((await this.q('DELETE FROM collections WHERE id = $1', [id])).rowCount ?? 0) > 0;
    if (gone) this.note({ kind: 'doc', table: TABLE, id, doc: null });
    return gone;
  }

  async list(): Promise<Collection[]> {
    return (await this.q<{ doc: string }>('SELECT doc FROM collections ORDER BY id')).rows.map(this.open);
  }
}
