/** Status messages and R-19 records on SQLite (`status_messages`, `required_pxe_starts`). */
import type { StatusMessage } from '../../../policy/status.js';
import type { Page, PageRequest } from '../../site/repos/common.js';
import type { RequiredPxeStart, StatusFilter, StatusRepo } from '../../site/repos/status.js';
import { checkPage, jsonText, sqlitePlaceholder, whereOf } from '../rows.js';
import type { SqliteExec } from './statements.js';

const parse = (rows: { doc: string }[]): StatusMessage[] => rows.map((r) => JSON.parse(r.doc) as StatusMessage);
const START_COLUMNS = 'computer_id AS "computerId", deployment_id AS "deploymentId", started_at AS "startedAt"';

export class SqliteStatusRepo implements StatusRepo {
  constructor(private readonly exec: SqliteExec) {}

  async insert(m: StatusMessage): Promise<boolean> {
    const doc = jsonText(m, `status message ${m.id}`);
    return this.exec(
      (q) =>
        q.run('INSERT INTO status_messages (id, at, computer_id, deployment_id, kind, doc) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING', m.id, m.at, m.computerId, m.deploymentId, m.kind, doc)
          .changes > 0,
    );
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

  async recordRequiredPxeStart(s: RequiredPxeStart): Promise<boolean> {
    return this.exec(
      (q) =>
        q.run('INSERT INTO required_pxe_starts (computer_id, deployment_id, started_at) VALUES (?, ?, ?) ON CONFLICT (computer_id, deployment_id) DO NOTHING', s.computerId, s.deploymentId, s.startedAt)
          .changes > 0,
    );
  }

  async requiredPxeStarts(): Promise<RequiredPxeStart[]> {
    return this.exec((q) => q.all<RequiredPxeStart>(`SELECT ${START_COLUMNS} FROM required_pxe_starts ORDER BY computer_id, deployment_id`));
  }

  async requiredPxeStartsOf(computerId: string): Promise<RequiredPxeStart[]> {
    return this.exec((q) => q.all<RequiredPxeStart>(`SELECT ${START_COLUMNS} FROM required_pxe_starts WHERE computer_id = ? ORDER BY started_at, deployment_id`, computerId));
  }

  async clearRequiredPxeStarts(target: { readonly computerId: string } | { readonly deploymentId: string }): Promise<number> {
    const [column, value] = 'computerId' in target ? ['computer_id', target.computerId] : ['deployment_id', target.deploymentId];
    return this.exec((q) => q.run(`DELETE FROM required_pxe_starts WHERE ${column} = ?`, value).changes);
  }
}
