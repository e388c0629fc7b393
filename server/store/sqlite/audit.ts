/** The audit log on SQLite (`audit`, seq the rowid). */
import type { AuditEntry, AuditFilter, AuditRecord, AuditRepo } from '../../site/repos/audit.js';
import type { Page, PageRequest } from '../../site/repos/common.js';
import { checkPage, jsonText, sqlitePlaceholder, whereOf } from '../rows.js';
import type { SqliteExec } from './statements.js';

interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  message: string;
  details: string;
}

export const auditOf = (r: AuditRow): AuditRecord => ({
  seq: r.seq,
  at: r.at,
  actor: r.actor,
  action: r.action,
  target: r.target,
  message: r.message,
  details: JSON.parse(r.details) as Record<string, unknown>,
});

export class SqliteAuditRepo implements AuditRepo {
  constructor(private readonly exec: SqliteExec) {}

  async append(e: AuditEntry): Promise<number> {
    const details = jsonText(e.details, 'audit details');
    return this.exec(
      (q) =>
        (q.get<{ seq: number }>('INSERT INTO audit (at, actor, action, target, message, details) VALUES (?, ?, ?, ?, ?, ?) RETURNING seq', e.at, e.actor, e.action, e.target, e.message, details) as { seq: number })
          .seq,
    );
  }

  async page(filter: AuditFilter, page: PageRequest): Promise<Page<AuditRecord>> {
    checkPage(page);
    const { clause, args } = whereOf([['target', filter.target], ['action', filter.action], ['actor', filter.actor]], sqlitePlaceholder);
    return this.exec((q) => {
      const total = (q.get<{ n: number }>(`SELECT COUNT(*) AS n FROM audit ${clause}`, ...args) as { n: number }).n;
      const rows = q.all<AuditRow>(`SELECT seq, at, actor, action, target, message, details FROM audit ${clause} ORDER BY seq DESC LIMIT ? OFFSET ?`, ...args, page.limit, page.offset);
      return { items: rows.map(auditOf), total, offset: page.offset, limit: page.limit };
    });
  }
}
