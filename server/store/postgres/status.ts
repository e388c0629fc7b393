/** Status messages and R-19 records on PostgreSQL (`status_messages`, `required_pxe_starts`). */
import type { StatusMessage } from '../../../policy/status.js';
import type { Page, PageRequest } from '../../site/repos/common.js';
import type { StatusFilter, StatusRepo } from '../../site/repos/status.js';
import { checkPage, jsonText, pgPlaceholder, whereOf } from '../rows.js';
import { oneRow, type PgQuery } from './query.js';

const parse = (rows: { doc: string }[]): StatusMessage[] => rows.map((r) => JSON.parse(r.doc) as StatusMessage);

export class PgStatusRepo implements StatusRepo {
  constructor(private readonly q: PgQuery) {}

  async insert(m: StatusMessage): Promise<boolean> {
    const doc = jsonText(m, `status message ${m.id}`);
    const sql = 'INSERT INTO status_messages (id, at, computer_id, deployment_id, kind, doc) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING';
    return ((await this.q(sql, [m.id, m.at, m.computerId, m.deploymentId, m.kind, doc])).rowCount ?? 0) > 0;
  }

  /** One statement for the batch: the rows in array order (so `seq` follows it), duplicates skipped. */
  async insertMany(messages: readonly StatusMessage[]): Promise<boolean[]> {
    if (messages.length === 0) return [];
    const cols: [string[], number[], string[], string[], string[], string[]] = [[], [], [], [], [], []];
    for (const m of messages) {
      cols[0].push(m.id);
      cols[1].push(m.at);
      cols[2].push(m.computerId);
      cols[3].push(m.deploymentId);
      cols[4].push(m.kind);
      cols[5].push(jsonText(m, `status message ${m.id}`));
    }
    const sql =
      'INSERT INTO status_messages (id, at, computer_id, deployment_id, kind, doc) ' +
      'SELECT id, at, computer_id, deployment_id, kind, doc FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS u(id, at, computer_id, deployment_id, kind, doc, n) ORDER BY n ' +
      'ON CONFLICT (id) DO NOTHING RETURNING id';
    const stored = new Set((await this.q<{ id: string }>(sql, cols)).rows.map((r) => r.id));
    // A message sent twice in one batch is stored once: the first is new, the second a duplicate.
    return messages.map((m) => stored.delete(m.id));
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

}
