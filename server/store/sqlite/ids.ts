/** Ids on SQLite: per-kind rows of `counters` and the claims of `site_ids` (migration 7), in the caller's transaction. */
import { checkIdKind, type IdKind, type IdRepo } from '../../site/repos/ids.js';
import { ID_SQL, sqlitePlaceholder } from '../rows.js';
import type { SqliteExec } from './statements.js';

const SQL = ID_SQL(sqlitePlaceholder);

export class SqliteIdRepo implements IdRepo {
  constructor(private readonly exec: SqliteExec) {}

  async claim(kind: IdKind, format: (n: number) => string): Promise<string> {
    checkIdKind(kind);
    return this.exec((q) =>
      // One savepoint: the counter and the claim land together even outside a caller's transaction.
      q.db.transaction(() => {
        for (;;) {
          const id = format((q.get<{ value: number }>(SQL.advance, kind) as { value: number }).value);
          if (q.run(SQL.claim, id, kind).changes === 1) return id;
        }
      })(),
    );
  }

  async hold(id: string, kind: IdKind): Promise<void> {
    checkIdKind(kind);
    await this.exec((q) => q.run(SQL.claim, id, kind));
  }
}
