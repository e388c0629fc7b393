/** The audit log on PostgreSQL (`audit`, seq an identity column). */
import type { AuditEntry, AuditFilter, AuditRecord, AuditRepo } from '../../site/repos/audit.js';
import type { Page, PageRequest } from '../../site/repos/common.js';
import { checkPage, jsonText, pgPlaceholder, whereOf } from '../rows.js';
import { oneRow, type PgQuery } from './query.js';

interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  message: string;
  details: string;
}

const auditOf = (r: AuditRow): AuditRecord => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> });

export class PgAuditRepo implements AuditRepo {
  constructor(private readonly q: PgQuery) {}

  async append(e: AuditEntry): Promise<number> {
    const details = jsonText(e.details, 'audit details');
    const sql = 'INSERT INTO audit (at, actor, action, target, message, details) VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq';
    return (await oneRow<{ seq: number }>(this.q, sql, [e.at, e.actor, e.action, e.target, e.message, details])).seq;
  }

  async page(filter: AuditFilter, page: PageRequest): Promise<Page<AuditRecord>> {
    checkPage(page);
    const { clause, args } = whereOf([['target', filter.target], ['action', filter.action], ['actor', filter.actor]], pgPlaceholder);
    // COUNT(*) is BIGINT: the int8 parser (pool.ts) makes it a number.
    const total = (await oneRow<{ n: number }>(this.q, `SELECT COUNT(*) AS n FROM audit ${clause}`, args)).n;
    const n = args.length;
    const rows = await this.q<AuditRow>(`SELECT seq, at, actor, action, target, message, details FROM audit ${clause} ORDER BY seq DESC LIMIT $${n + 1} OFFSET $${n + 2}`, [...args, page.limit, page.offset]);
    return { items: rows.rows.map(auditOf), total, offset: page.offset, limit: page.limit };
  }
}
