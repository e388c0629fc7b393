/** The site's id space on SQLite: one row of `counters`, advanced in the caller's transaction. */
import { checkIdKind, type IdKind, type IdRepo } from '../../site/repos/ids.js';
import { NEXT_ID_ARGS, NEXT_ID_SQL, sqlitePlaceholder } from '../rows.js';
import type { SqliteExec } from './statements.js';

const SQL = NEXT_ID_SQL(sqlitePlaceholder);

export class SqliteIdRepo implements IdRepo {
  constructor(private readonly exec: SqliteExec) {}

  async next(kind: IdKind): Promise<number> {
    checkIdKind(kind);
    return this.exec((q) => (q.get<{ value: number }>(SQL, ...NEXT_ID_ARGS) as { value: number }).value);
  }
}
