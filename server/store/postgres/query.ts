/** How the PostgreSQL repositories reach the database: the pool, or the client of one transaction. */
import type { QueryResult, QueryResultRow } from 'pg';

export type PgQuery = <R extends QueryResultRow = QueryResultRow>(sql: string, args?: readonly unknown[]) => Promise<QueryResult<R>>;

/** The first row, which the statement always returns (COUNT, RETURNING). */
export async function oneRow<R extends QueryResultRow>(q: PgQuery, sql: string, args: readonly unknown[] = []): Promise<R> {
  const row = (await q<R>(sql, args)).rows[0];
  if (row === undefined) throw new Error(`expected a row from: ${sql}`);
  return row;
}
