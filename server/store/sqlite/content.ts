/**
 * Content records on SQLite: the existing `content` table (migrations 1 and 2), written as the
 * library has always written it, so databases of earlier versions read the same. A write tells
 * the change journal, so
 * the policy state's content index (what boots read) follows it.
 */
import type { ContentObject } from '../../../content/model.js';
import type { ContentInfo } from '../../../policy/content-refs.js';
import type { ContentRepo } from '../../site/repos/content.js';
import { CONTENT_COLUMNS, CONTENT_UPDATE, contentOf, contentValues, INFO_COLUMNS, infoOf } from '../content-rows.js';
import { recordChange } from '../change-journal.js';
import type { SqliteExec, Statements } from './statements.js';

const PUT_SQL = `INSERT INTO content (${CONTENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET ${CONTENT_UPDATE}`;

/** The statements of the repository, one piece of synchronous work each. */
export const contentRows = {
  get: (q: Statements, id: string): ContentObject | null => {
    const row = q.get<{ doc: string }>('SELECT doc FROM content WHERE id = ?', id);
    return row ? contentOf(row) : null;
  },
  put: (q: Statements, record: ContentObject, updatedAt: number): void => {
    q.run(PUT_SQL, ...contentValues(record, updatedAt));
    recordChange(q.db, { kind: 'doc', table: 'content', id: record.id, doc: record });
  },
  delete: (q: Statements, id: string): boolean => {
    const gone = q.run('DELETE FROM content WHERE id = ?', id).changes > 0;
    if (gone) recordChange(q.db, { kind: 'doc', table: 'content', id, doc: null });
    return gone;
  },
  list: (q: Statements): ContentObject[] => q.all<{ doc: string }>('SELECT doc FROM content ORDER BY id').map(contentOf),
  info: (q: Statements, id: string): ContentInfo | null => {
    const row = q.get<{ info: string | null; doc: string | null }>(`SELECT ${INFO_COLUMNS} FROM content WHERE id = ?`, id);
    return row ? infoOf(row) : null;
  },
  infos: (q: Statements, kind?: string): ContentInfo[] =>
    (kind === undefined
      ? q.all<{ info: string | null; doc: string | null }>(`SELECT ${INFO_COLUMNS} FROM content ORDER BY id`)
      : q.all<{ info: string | null; doc: string | null }>(`SELECT ${INFO_COLUMNS} FROM content WHERE kind = ? ORDER BY id`, kind)
    ).map(infoOf),
};

export class SqliteContentRepo implements ContentRepo {
  constructor(private readonly exec: SqliteExec) {}

  async get(id: string): Promise<ContentObject | null> {
    return this.exec((q) => contentRows.get(q, id));
  }

  async put(record: ContentObject, updatedAt: number): Promise<void> {
    return this.exec((q) => contentRows.put(q, record, updatedAt));
  }

  async delete(id: string): Promise<boolean> {
    return this.exec((q) => contentRows.delete(q, id));
  }

  async list(): Promise<ContentObject[]> {
    return this.exec((q) => contentRows.list(q));
  }

  async info(id: string): Promise<ContentInfo | null> {
    return this.exec((q) => contentRows.info(q, id));
  }

  async infos(): Promise<ContentInfo[]> {
    return this.exec((q) => contentRows.infos(q));
  }

  async bootImageInfos(): Promise<ContentInfo[]> {
    return this.exec((q) => contentRows.infos(q, 'bootImage'));
  }
}
