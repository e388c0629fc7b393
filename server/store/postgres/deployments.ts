/**
 * Deployments and R-19 starts on PostgreSQL (`deployments`, migration 5; `required_pxe_starts`,
 * migration 3). Documents are stored as SQLite keeps them (sealed, as JSON text), through the
 * secret binding of the store's pool.
 */
import type { NoteChange } from '../../site/repos/changes.js';
import type { Deployment } from '../../../policy/deployments/model.js';
import type { DeploymentRepo } from '../../site/repos/deployments.js';
import type { RequiredPxeStart } from '../../site/repos/status.js';
import { jsonText } from '../rows.js';
import { openDoc, sealDoc, type SecretHolder } from '../secrets/binding.js';
import type { PgQuery } from './query.js';

const TABLE = 'deployments';
const START_COLUMNS = 'computer_id AS "computerId", deployment_id AS "deploymentId", started_at AS "startedAt"';

export class PgDeploymentRepo implements DeploymentRepo {
  constructor(
    private readonly q: PgQuery,
    /** The handle the store's secret binding is keyed by (its pool). */
    private readonly secrets: SecretHolder,
    private readonly note: NoteChange,
  ) {}

  async put(d: Deployment): Promise<void> {
    const doc = jsonText(sealDoc(this.secrets, TABLE, d), `deployment ${d.id}`);
    await this.q(
      'INSERT INTO deployments (id, task_sequence_id, collection_id, created_at, doc) VALUES ($1, $2, $3, $4, $5) ' +
        'ON CONFLICT (id) DO UPDATE SET task_sequence_id = excluded.task_sequence_id, collection_id = excluded.collection_id, created_at = excluded.created_at, doc = excluded.doc',
      [d.id, d.taskSequenceId, d.collectionId, d.createdAt, doc],
    );
    this.note({ kind: 'doc', table: TABLE, id: d.id, doc: d });
  }

  private read(rows: { doc: string }[]): Deployment[] {
    return rows.map((r) => openDoc<Deployment>(this.secrets, TABLE, r.doc));
  }

  async get(id: string): Promise<Deployment | null> {
    return this.read((await this.q<{ doc: string }>('SELECT doc FROM deployments WHERE id = $1', [id])).rows)[0] ?? null;
  }

  async delete(id: string): Promise<boolean> {
    // One statement, so the starts go only with the deployment even outside a transaction.
    const sql = 'WITH starts AS (DELETE FROM required_pxe_starts WHERE deployment_id = $1) DELETE FROM deployments WHERE id = $1';
    const gone = ((await this.q(sql, [id])).rowCount ?? 0) > 0;
    // The policy state drops the deployment's R-19 records with it.
    if (gone) this.note({ kind: 'doc', table: TABLE, id, doc: null });
    return gone;
  }

  private async where(clause: string, args: string[] = []): Promise<Deployment[]> {
    return this.read((await this.q<{ doc: string }>(`SELECT doc FROM deployments ${clause} ORDER BY created_at, id`, args)).rows);
  }

  list(): Promise<Deployment[]> {
    return this.where('');
  }

  ofTaskSequence(taskSequenceId: string): Promise<Deployment[]> {
    return this.where('WHERE task_sequence_id = $1', [taskSequenceId]);
  }

  ofCollection(collectionId: string): Promise<Deployment[]> {
    return this.where('WHERE collection_id = $1', [collectionId]);
  }

  async addPxeStart(s: RequiredPxeStart): Promise<boolean> {
    const sql = 'INSERT INTO required_pxe_starts (computer_id, deployment_id, started_at) VALUES ($1, $2, $3) ON CONFLICT (computer_id, deployment_id) DO NOTHING';
    const added = ((await this.q(sql, [s.computerId, s.deploymentId, s.startedAt])).rowCount ?? 0) > 0;
    if (added) this.note({ kind: 'pxeStart', computerId: s.computerId, deploymentId: s.deploymentId, present: true });
    return added;
  }

  async deletePxeStarts(computerId: string, deploymentId?: string): Promise<RequiredPxeStart[]> {
    const [clause, args] = deploymentId === undefined ? ['computer_id = $1', [computerId]] : ['computer_id = $1 AND deployment_id = $2', [computerId, deploymentId]];
    const sql = `WITH gone AS (DELETE FROM required_pxe_starts WHERE ${clause} RETURNING computer_id, deployment_id, started_at) SELECT ${START_COLUMNS} FROM gone ORDER BY deployment_id`;
    const gone = (await this.q<RequiredPxeStart>(sql, args)).rows;
    for (const s of gone) this.note({ kind: 'pxeStart', computerId: s.computerId, deploymentId: s.deploymentId, present: false });
    return gone;
  }

  async pxeStartsOf(computerId: string): Promise<RequiredPxeStart[]> {
    return (await this.q<RequiredPxeStart>(`SELECT ${START_COLUMNS} FROM required_pxe_starts WHERE computer_id = $1 ORDER BY started_at, deployment_id`, [computerId])).rows;
  }

  async pxeStarts(): Promise<RequiredPxeStart[]> {
    return (await this.q<RequiredPxeStart>(`SELECT ${START_COLUMNS} FROM required_pxe_starts ORDER BY computer_id, deployment_id`)).rows;
  }
}
