/**
 * The site's id space on PostgreSQL: one row of `counters`, advanced in the caller's
 * transaction. A counter row rather than a sequence: a sequence never gives a number back, and
 * the site wants a refused deployment to leave no gap. The upsert's row lock orders concurrent
 * transactions under READ COMMITTED: the second waits for the first to commit and adds one to it.
 */
import { checkIdKind, type IdKind, type IdRepo } from '../../site/repos/ids.js';
import { NEXT_ID_ARGS, NEXT_ID_SQL, pgPlaceholder } from '../rows.js';
import { oneRow, type PgQuery } from './query.js';

const SQL = NEXT_ID_SQL(pgPlaceholder);

export class PgIdRepo implements IdRepo {
  constructor(private readonly q: PgQuery) {}

  async next(kind: IdKind): Promise<number> {
    checkIdKind(kind);
    return (await oneRow<{ value: number }>(this.q, SQL, NEXT_ID_ARGS)).value;
  }
}
