/**
 * Distribution points, groups, holdings and jobs on SQLite: the existing tables of migration 2
 * (`distribution_points`, `distribution_point_groups`, `point_content`, `distribution_jobs`),
 * documents written with the site's own helpers (docs.ts), so either reads what the other wrote.
 * A point's tokens are sealed with the key bound to the connection.
 */
import type { DistributionJob } from '../../../content/distribution-job.js';
import type { DistributionPoint, Holding, PointGroup } from '../../../content/distribution.js';
import type { Page, PageRequest } from '../../site/repos/common.js';
import { PointNameTaken } from '../../site/repos/points.js';
import type { DistributionJobRepo, HoldingFilter, HoldingRepo, PointGroupRepo, PointRepo, PointSecret } from '../../site/repos/points.js';
import type { Db } from '../db.js';
import { allDocs, deleteRow, putDoc, readDoc } from '../docs.js';
import { holdingArgs, holdingOf, holdingsQuery, JOBS_PAGE_SQL, openPointSecret, pointColumns, PUT_HOLDING_SQL, sealPointSecret, UNFINISHED_JOBS_SQL, type HoldingRow } from '../point-rows.js';
import { checkPage, sqlitePlaceholder } from '../rows.js';
import type { SqliteExec, Statements } from './statements.js';

/* Synchronous reads on a connection: the repositories below use them, and tests read rows with them. */
export const sqlitePoints = (db: Db): DistributionPoint[] => allDocs<DistributionPoint>(db, 'distribution_points', 'id');

/** The point's tokens; null when it has none, or when they cannot be decrypted (logged by the opener). */
export function sqlitePointSecret(db: Db, id: string): PointSecret | null {
  const row = db.prepare('SELECT secret FROM distribution_points WHERE id = ?').get(id) as { secret: string | null } | undefined;
  return openPointSecret(db, id, row?.secret);
}

export function sqliteHoldings(db: Db, filter: HoldingFilter = {}): Holding[] {
  const args: unknown[] = [];
  const param = (v: unknown): string => (args.push(v), '?');
  // Any number of ids in one statement: the list goes in as a JSON array.
  const sql = holdingsQuery(filter, param, (column, ids) => `${column} IN (SELECT value FROM json_each(${param(JSON.stringify(ids))}))`);
  return sql === null ? [] : (db.prepare(sql).all(...args) as HoldingRow[]).map(holdingOf);
}

const POINTS = 'distribution_points';
const GROUPS = 'distribution_point_groups';
const JOBS = 'distribution_jobs';

/** Read side shared by the document tables here: one by id, all in an order. */
const docOf = <T>(q: Statements, table: string, id: string): T | null => {
  const row = q.get<{ doc: string }>(`SELECT doc FROM ${table} WHERE id = ?`, id);
  return row ? readDoc<T>(q.db, table, row.doc) : null;
};
const docsOf = <T>(q: Statements, table: string, sql: string, ...args: unknown[]): T[] => q.all<{ doc: string }>(sql, ...args).map((r) => readDoc<T>(q.db, table, r.doc));

/** Refuses a name another row of `table` has (checked first, so a refused put writes nothing). */
function checkName(q: Statements, table: string, what: PointNameTaken['what'], id: string, name: string): void {
  const holder = q.get<{ id: string }>(`SELECT id FROM ${table} WHERE name = ? AND id <> ?`, name, id);
  if (holder) throw new PointNameTaken(what, name, holder.id);
}

export class SqlitePointRepo implements PointRepo {
  constructor(private readonly exec: SqliteExec) {}

  async put(p: DistributionPoint, secret?: PointSecret | null): Promise<void> {
    return this.exec((q) => {
      checkName(q, POINTS, 'distribution point', p.id, p.name);
      const stored = secret === undefined ? undefined : sealPointSecret(q.db, p.id, secret);
      // A savepoint (better-sqlite3 nests), so the row and its tokens land together inside a caller's transaction too.
      q.db.transaction(() => {
        putDoc(q.db, POINTS, p.id, pointColumns(p), p);
        if (stored !== undefined) q.run('UPDATE distribution_points SET secret = ? WHERE id = ?', stored, p.id);
      })();
    });
  }

  async get(id: string): Promise<DistributionPoint | null> {
    return this.exec((q) => docOf<DistributionPoint>(q, POINTS, id));
  }

  async list(): Promise<DistributionPoint[]> {
    return this.exec((q) => sqlitePoints(q.db));
  }

  async secret(id: string): Promise<PointSecret | null> {
    return this.exec((q) => sqlitePointSecret(q.db, id));
  }

  async delete(id: string): Promise<boolean> {
    return this.exec((q) =>
      q.db.transaction(() => {
        // The foreign key cascades too; this does not depend on the connection's foreign_keys pragma.
        q.run('DELETE FROM point_content WHERE point_id = ?', id);
        return deleteRow(q.db, POINTS, id);
      })(),
    );
  }
}

export class SqlitePointGroupRepo implements PointGroupRepo {
  constructor(private readonly exec: SqliteExec) {}

  async put(g: PointGroup): Promise<void> {
    return this.exec((q) => {
      checkName(q, GROUPS, 'distribution point group', g.id, g.name);
      putDoc(q.db, GROUPS, g.id, { name: g.name }, g);
    });
  }

  async get(id: string): Promise<PointGroup | null> {
    return this.exec((q) => docOf<PointGroup>(q, GROUPS, id));
  }

  async list(): Promise<PointGroup[]> {
    return this.exec((q) => docsOf<PointGroup>(q, GROUPS, 'SELECT doc FROM distribution_point_groups ORDER BY id'));
  }

  async delete(id: string): Promise<boolean> {
    return this.exec((q) => deleteRow(q.db, GROUPS, id));
  }
}

export class SqliteHoldingRepo implements HoldingRepo {
  constructor(private readonly exec: SqliteExec) {}

  async list(filter: HoldingFilter = {}): Promise<Holding[]> {
    return this.exec((q) => sqliteHoldings(q.db, filter));
  }

  async put(h: Holding): Promise<boolean> {
    return this.exec((q) => q.run(PUT_HOLDING_SQL(sqlitePlaceholder), ...holdingArgs(h)).changes > 0);
  }

  async deleteOfContent(contentId: string): Promise<number> {
    return this.exec((q) => q.run('DELETE FROM point_content WHERE content_id = ?', contentId).changes);
  }
}

export class SqliteDistributionJobRepo implements DistributionJobRepo {
  constructor(private readonly exec: SqliteExec) {}

  async put(j: DistributionJob): Promise<void> {
    return this.exec((q) => putDoc(q.db, JOBS, j.id, { state: j.state, created_at: j.createdAt }, j));
  }

  async get(id: string): Promise<DistributionJob | null> {
    return this.exec((q) => docOf<DistributionJob>(q, JOBS, id));
  }

  async page(page: PageRequest): Promise<Page<DistributionJob>> {
    checkPage(page);
    return this.exec((q) => {
      const total = (q.get<{ n: number }>('SELECT COUNT(*) AS n FROM distribution_jobs') as { n: number }).n;
      const items = docsOf<DistributionJob>(q, JOBS, JOBS_PAGE_SQL(sqlitePlaceholder), page.limit, page.offset);
      return { items, total, offset: page.offset, limit: page.limit };
    });
  }

  async unfinished(): Promise<DistributionJob[]> {
    return this.exec((q) => docsOf<DistributionJob>(q, JOBS, UNFINISHED_JOBS_SQL));
  }
}
