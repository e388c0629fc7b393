/**
 * Distribution points, groups, holdings and jobs on PostgreSQL (migration 6): the same rows as
 * SQLite's. A point's tokens are sealed with the binding on the store's holder (its pool). Puts
 * are single statements that check the name in the statement that writes, so a refusal raises no
 * SQL error (which would abort the caller's transaction) and writes nothing.
 */
import type { DatabaseError } from 'pg';
import type { DistributionJob } from '../../../content/distribution-job.js';
import type { DistributionPoint, Holding, PointGroup } from '../../../content/distribution.js';
import type { Page, PageRequest } from '../../site/repos/common.js';
import { PointNameTaken } from '../../site/repos/points.js';
import type { DistributionJobRepo, HoldingFilter, HoldingRepo, PointGroupRepo, PointRepo, PointSecret } from '../../site/repos/points.js';
import { holdingArgs, holdingOf, holdingsQuery, JOBS_PAGE_SQL, openPointSecret, PUT_HOLDING_SQL, sealPointSecret, UNFINISHED_JOBS_SQL, type HoldingRow } from '../point-rows.js';
import { checkPage, jsonText, pgPlaceholder } from '../rows.js';
import type { SecretHolder } from '../secrets/binding.js';
import { oneRow, type PgQuery } from './query.js';

/**
 * An upsert of `columns` ($1 id, $2 name, then the others in order) that writes only when no
 * other row has the name, and returns the row that has it. `updates`: the SET list of a replace.
 */
const putNamedSql = (table: string, columns: readonly string[], updates: readonly string[]): string => `
WITH taken AS (SELECT id FROM ${table} WHERE name = $2 AND id <> $1),
up AS (
  INSERT INTO ${table} (${columns.join(', ')}) SELECT ${columns.map((_, i) => `$${i + 1}`).join(', ')} WHERE NOT EXISTS (SELECT 1 FROM taken)
  ON CONFLICT (id) DO UPDATE SET ${updates.join(', ')}
)
SELECT id FROM taken`;
const replaced = (...columns: string[]): string[] => columns.map((c) => `${c} = excluded.${c}`);

/** $1 id, $2 name, $3 kind, $4 url, $5 sealed tokens, $6 doc, $7 whether to set the tokens (else the stored ones stay). */
const PUT_POINT_SQL = putNamedSql('distribution_points', ['id', 'name', 'kind', 'url', 'secret', 'doc'], [
  ...replaced('name', 'kind', 'url', 'doc'),
  'secret = CASE WHEN $7::boolean THEN excluded.secret ELSE distribution_points.secret END',
]);
const PUT_GROUP_SQL = putNamedSql('distribution_point_groups', ['id', 'name', 'doc'], replaced('name', 'doc'));

/** Runs a named put; a concurrent put that took the name after the check meets the unique key instead. */
async function putNamed(q: PgQuery, sql: string, args: unknown[], what: PointNameTaken['what'], name: string, constraint: string): Promise<void> {
  let holder: { id: string } | undefined;
  try {
    holder = (await q<{ id: string }>(sql, args)).rows[0];
  } catch (e) {
    const err = e as Partial<DatabaseError>;
    if (err.code === '23505' && err.constraint === constraint) throw new PointNameTaken(what, name, null);
    throw e;
  }
  if (holder) throw new PointNameTaken(what, name, holder.id);
}

/** Documents here hold no secret: they are stored as plain JSON text. */
const docsOf = async <T>(q: PgQuery, sql: string, args: readonly unknown[] = []): Promise<T[]> => (await q<{ doc: string }>(sql, args)).rows.map((r) => JSON.parse(r.doc) as T);

const docOf = async <T>(q: PgQuery, table: string, id: string): Promise<T | null> => (await docsOf<T>(q, `SELECT doc FROM ${table} WHERE id = $1`, [id]))[0] ?? null;

const deleted = async (q: PgQuery, table: string, id: string): Promise<boolean> => ((await q(`DELETE FROM ${table} WHERE id = $1`, [id])).rowCount ?? 0) > 0;

export class PgPointRepo implements PointRepo {
  constructor(
    private readonly q: PgQuery,
    private readonly secrets: SecretHolder,
  ) {}

  async put(p: DistributionPoint, secret?: PointSecret | null): Promise<void> {
    const stored = secret === undefined ? null : sealPointSecret(this.secrets, p.id, secret);
    const args = [p.id, p.name, p.kind, p.url, stored, jsonText(p, `distribution point ${p.id}`), secret !== undefined];
    await putNamed(this.q, PUT_POINT_SQL, args, 'distribution point', p.name, 'distribution_points_name_key');
  }

  get(id: string): Promise<DistributionPoint | null> {
    return docOf<DistributionPoint>(this.q, 'distribution_points', id);
  }

  list(): Promise<DistributionPoint[]> {
    return docsOf<DistributionPoint>(this.q, 'SELECT doc FROM distribution_points ORDER BY id');
  }

  async secret(id: string): Promise<PointSecret | null> {
    const row = (await this.q<{ secret: string | null }>('SELECT secret FROM distribution_points WHERE id = $1', [id])).rows[0];
    return openPointSecret(this.secrets, id, row?.secret);
  }

  delete(id: string): Promise<boolean> {
    // Its holdings go with it (ON DELETE CASCADE), in the same statement.
    return deleted(this.q, 'distribution_points', id);
  }
}

export class PgPointGroupRepo implements PointGroupRepo {
  constructor(private readonly q: PgQuery) {}

  async put(g: PointGroup): Promise<void> {
    await putNamed(this.q, PUT_GROUP_SQL, [g.id, g.name, jsonText(g, `distribution point group ${g.id}`)], 'distribution point group', g.name, 'distribution_point_groups_name_key');
  }

  get(id: string): Promise<PointGroup | null> {
    return docOf<PointGroup>(this.q, 'distribution_point_groups', id);
  }

  list(): Promise<PointGroup[]> {
    return docsOf<PointGroup>(this.q, 'SELECT doc FROM distribution_point_groups ORDER BY id');
  }

  delete(id: string): Promise<boolean> {
    return deleted(this.q, 'distribution_point_groups', id);
  }
}

export class PgHoldingRepo implements HoldingRepo {
  constructor(private readonly q: PgQuery) {}

  async list(filter: HoldingFilter = {}): Promise<Holding[]> {
    const args: unknown[] = [];
    const param = (v: unknown): string => `$${args.push(v)}`;
    const sql = holdingsQuery(filter, param, (column, ids) => `${column} = ANY(${param(ids)}::text[])`);
    if (sql === null) return [];
    return (await this.q<HoldingRow>(sql, args)).rows.map(holdingOf);
  }

  async put(h: Holding): Promise<boolean> {
    return ((await this.q(PUT_HOLDING_SQL(pgPlaceholder), holdingArgs(h))).rowCount ?? 0) > 0;
  }

  async deleteOfContent(contentId: string): Promise<number> {
    return (await this.q('DELETE FROM point_content WHERE content_id = $1', [contentId])).rowCount ?? 0;
  }
}

export class PgDistributionJobRepo implements DistributionJobRepo {
  constructor(private readonly q: PgQuery) {}

  async put(j: DistributionJob): Promise<void> {
    await this.q(
      `INSERT INTO distribution_jobs (id, state, created_at, doc) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, created_at = excluded.created_at, doc = excluded.doc`,
      [j.id, j.state, j.createdAt, jsonText(j, `distribution job ${j.id}`)],
    );
  }

  get(id: string): Promise<DistributionJob | null> {
    return docOf<DistributionJob>(this.q, 'distribution_jobs', id);
  }

  async page(page: PageRequest): Promise<Page<DistributionJob>> {
    checkPage(page);
    const total = (await oneRow<{ n: number }>(this.q, 'SELECT COUNT(*) AS n FROM distribution_jobs')).n;
    const items = await docsOf<DistributionJob>(this.q, JOBS_PAGE_SQL(pgPlaceholder), [page.limit, page.offset]);
    return { items, total, offset: page.offset, limit: page.limit };
  }

  unfinished(): Promise<DistributionJob[]> {
    return docsOf<DistributionJob>(this.q, UNFINISHED_JOBS_SQL);
  }
}
