/**
 * Ids on PostgreSQL: per-kind rows of `counters` and the claims of `site_ids`. Counter rows
 * rather than sequences: a sequence never gives a number back, and the site wants a refused
 * deployment to leave no gap. The upsert's row lock orders concurrent transactions under READ
 * COMMITTED: the second waits for the first to commit and adds one to it.
 */
import { checkIdKind, type IdKind, type IdRepo } from '../../site/repos/ids.js';
import { ID_SQL, pgPlaceholder } from '../rows.js';
import { oneRow, type PgQuery } from './query.js';

const SQL = ID_SQL(pgPlaceholder);

export class PgIdRepo implements IdRepo {
  constructor(
    private readonly q: PgQuery,
    /** Runs `fn` in one transaction (the caller's, or one of its own). */
    private readonly atomic: <T>(fn: (q: PgQuery) => Promise<T>) => Promise<T>,
  ) {}

  async claim(kind: IdKind, format: (n: number) => string): Promise<string> {
    checkIdKind(kind);
    return this.atomic(async (q) => {
      for (;;) {
        const id = format((await oneRow<{ value: number }>(q, SQL.advance, [kind])).value);
        if (((await q(SQL.claim, [id, kind])).rowCount ?? 0) === 1) return id;
      }
    });
  }

  async hold(id: string, kind: IdKind): Promise<void> {
    checkIdKind(kind);
    await this.q(SQL.claim, [id, kind]);
  }
}
