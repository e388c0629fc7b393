/** Status messages and R-19 records on SQLite (`status_messages`, `required_pxe_starts`). */
import type { StatusMessage } from '../../../policy/status.js';
import type { Page, PageRequest } from '../../site/repos/common.js';
import type { StatusFilter, StatusRepo } from '../../site/repos/status.js';
import { checkPage, jsonText, sqlitePlaceholder, whereOf } from '../rows.js';
import type { SqliteExec } from './statements.js';

const parse = (rows: { doc: string }[]): StatusMessage[] => rows.map((r) => JSON.parse(r.doc) as StatusMessage);

const INSERT_SQL = 'INSERT INTO status_messages (id, at, computer_id, deployment_id, kind, doc) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING';

export class SqliteStatusRepo implements StatusRepo {
  constructor(private readonly exec: SqliteExec) {}

  async insert(m: StatusMessage): Promise<boolean> {
    const doc = jsonText(m, `status message ${m.id}`);
    return this.exec(
      (q) =>
        q.run(INSERT_SQL, m.id, m.at, m.computerId, m.deploymentId, m.kind, doc)
          .changes > 0,
    );
  }

  async insertMany(messages: readonly StatusMessage[]): Promise<boolean[]> {
    const rows = messages.map((m) => [m.id, m.at, m.computerId, m.deploymentId, m.kind, jsonText(m, `status message ${m.id}`)] as const);
    return this.exec((q) => q.db.transaction(() => rows.map((r) => q.run(INSERT_SQL, ...r).changes > 0))());
  }

  async ofDeployment(deploymentId: string): Promise<StatusMessage[]> {
    return this.exec((q) => parse(q.all<{ doc: string }>('SELECT doc FROM status_messages WHERE deployment_id = ? ORDER BY seq', deploymentId)));
  }

  async ofComputer(computerId: string): Promise<StatusMessage[]> {
    return this.exec((q) => parse(q.all<{ doc: string }>('SELECT doc FROM status_messages WHERE computer_id = ? ORDER BY seq', computerId)));
  }

  async page(filter: StatusFilter, page: PageRequest): Promise<Page<StatusMessage>> {
    checkPage(page);
    const { clause, args } = whereOf([['computer_id', filter.computerId], ['deployment_id', filter.deploymentId]], sqlitePlaceholder);
    return this.exec((q) => {
      const total = (q.get<{ n: number }>(`SELECT COUNT(*) AS n FROM status_messages ${clause}`, ...args) as { n: number }).n;
      const rows = q.all<{ doc: string }>(`SELECT doc FROM status_messages ${clause} ORDER BY seq DESC LIMIT ? OFFSET ?`, ...args, page.limit, page.offset);
      return { items: parse(rows), total, offset: page.offset, limit: page.limit };
    });
  }

}
