/** Status messages and R-19 records on PostgreSQL (`status_messages`, `required_pxe_starts`). */
import type { StatusMessage } from '../../../policy/status.js';
import type { Page, PageRequest } from '../../site/repos/common.js';
import type { RequiredPxeStart, StatusFilter, StatusRepo } from '../../site/repos/status.js';
import { checkPage, jsonText, pgPlaceholder, whereOf } from '../rows.js';
import { oneRow, type PgQuery } from './query.js';

const parse = (rows: { doc: string }[]): StatusMessage[] => rows.map((r) => JSON.parse(r.doc) as StatusMessage);
const START_COLUMNS = 'computer_id AS "computerId", deployment_id AS "deploymentId", started_at AS "startedAt"';

export class PgStatusRepo implements StatusRepo {
  constructor(private readonly q: PgQuery) {}

  async insert(m: StatusMessage): Promise<boolean> {
    const doc = jsonText(m, `status message ${m.id}`);
    const sql = 'INSERT INTO status_messages (id, at, computer_id, deployment_id, kind, doc) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING';
    return ((await this.q(sql, [m.id, m.at, m.computerId, m.deploymentId, m.kind, doc])).rowCount ?? 0) > 0;
  }

  async ofDeployment(deploymentId: string): Promise<StatusMessage[]> {
    return parse((await this.q<{ doc: string }>('SELECT doc FROM status_messages WHERE deployment_id = $1 ORDER BY seq', [deploymentId])).rows);
  }

  async ofComputer(computerId: string): Promise<StatusMessage[]> {
    return parse((await this.q<{ doc: string }>('SELECT doc FROM status_messages WHERE computer_id = $1 ORDER BY seq', [computerId])).rows);
  }

  async page(filter: StatusFilter, page: PageRequest): Promise<Page<StatusMessage>> {
    checkPage(page);
    const { clause, args } = whereOf([['computer_id', filter.computerId], ['deployment_id', filter.deploymentId]], pgPlaceholder);
    const total = (await oneRow<{ n: number }>(this.q, `SELECT COUNT(*) AS n FROM status_messages ${clause}`, args)).n;
    const n = args.length;
    const rows = await this.q<{ doc: string }>(`SELECT doc FROM status_messages ${clause} ORDER BY seq DESC LIMIT $${n + 1} OFFSET $${n + 2}`, [...args, page.limit, page.offset]);
    return { items: parse(rows.rows), total, offset: page.offset, limit: page.limit };
  }

  async recordRequiredPxeStart(s: RequiredPxeStart): Promise<boolean> {
    const sql = 'INSERT INTO required_pxe_starts (computer_id, deployment_id, started_at) VALUES ($1, $2, $3) ON CONFLICT (computer_id, deployment_id) DO NOTHING';
    return ((await this.q(sql, [s.computerId, s.deploymentId, s.startedAt])).rowCount ?? 0) > 0;
  }

  async requiredPxeStarts(): Promise<RequiredPxeStart[]> {
    return (await this.q<RequiredPxeStart>(`SELECT ${START_COLUMNS} FROM required_pxe_starts ORDER BY computer_id, deployment_id`)).rows;
  }

  async requiredPxeStartsOf(computerId: string): Promise<RequiredPxeStart[]> {
    return (await this.q<RequiredPxeStart>(`SELECT ${START_COLUMNS} FROM required_pxe_starts WHERE computer_id = $1 ORDER BY started_at, deployment_id`, [computerId])).rows;
  }

  async clearRequiredPxeStarts(target: { readonly computerId: string } | { readonly deploymentId: string }): Promise<number> {
    const [column, value] = 'computerId' in target ? ['computer_id', target.computerId] : ['deployment_id', target.deploymentId];
    return (await this.q(`DELETE FROM required_pxe_starts WHERE ${column} = $1`, [value])).rowCount ?? 0;
  }
}
