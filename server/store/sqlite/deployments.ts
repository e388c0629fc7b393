/**
 * Deployments and R-19 starts on SQLite: the existing `deployments` and `required_pxe_starts`
 * tables (migration 1), written with the site's own helpers (docs.ts, policy-rows.ts: sealed
 * document, change journal), so either reads what the other wrote and the policy state hears of
 * every change.
 */
import type { Deployment } from '../../../policy/deployments/model.js';
import type { DeploymentRepo } from '../../site/repos/deployments.js';
import type { RequiredPxeStart } from '../../site/repos/status.js';
import { recordChange } from '../change-journal.js';
import { deleteRow, putDoc, readDoc } from '../docs.js';
import { addPxeStart, deletePxeStarts } from '../policy-rows.js';
import type { SqliteExec } from './statements.js';

const TABLE = 'deployments';
const START_COLUMNS = 'computer_id AS "computerId", deployment_id AS "deploymentId", started_at AS "startedAt"';

export class SqliteDeploymentRepo implements DeploymentRepo {
  constructor(private readonly exec: SqliteExec) {}

  async put(d: Deployment): Promise<void> {
    return this.exec((q) => putDoc(q.db, TABLE, d.id, { task_sequence_id: d.taskSequenceId, collection_id: d.collectionId, created_at: d.createdAt }, d));
  }

  async get(id: string): Promise<Deployment | null> {
    return this.exec((q) => {
      const row = q.get<{ doc: string }>('SELECT doc FROM deployments WHERE id = ?', id);
      return row ? readDoc<Deployment>(q.db, TABLE, row.doc) : null;
    });
  }

  async delete(id: string): Promise<boolean> {
    // exec runs in one transaction: the starts go only with the deployment.
    return this.exec((q) => {
      deletePxeStarts(q.db, { deploymentId: id });
      return deleteRow(q.db, TABLE, id);
    });
  }

  private async where(clause: string, ...args: string[]): Promise<Deployment[]> {
    return this.exec((q) => q.all<{ doc: string }>(`SELECT doc FROM deployments ${clause} ORDER BY created_at, id`, ...args).map((r) => readDoc<Deployment>(q.db, TABLE, r.doc)));
  }

  list(): Promise<Deployment[]> {
    return this.where('');
  }

  ofTaskSequence(taskSequenceId: string): Promise<Deployment[]> {
    return this.where('WHERE task_sequence_id = ?', taskSequenceId);
  }

  ofCollection(collectionId: string): Promise<Deployment[]> {
    return this.where('WHERE collection_id = ?', collectionId);
  }

  async addPxeStart(s: RequiredPxeStart): Promise<boolean> {
    return this.exec((q) => addPxeStart(q.db, s.computerId, s.deploymentId, s.startedAt));
  }

  async deletePxeStarts(computerId: string, deploymentId?: string): Promise<RequiredPxeStart[]> {
    const [clause, args] = deploymentId === undefined ? ['computer_id = ?', [computerId]] : ['computer_id = ? AND deployment_id = ?', [computerId, deploymentId]];
    return this.exec((q) => {
      // Read then delete in the same transaction: RETURNING has no order, the answer does.
      const gone = q.all<RequiredPxeStart>(`SELECT ${START_COLUMNS} FROM required_pxe_starts WHERE ${clause} ORDER BY deployment_id`, ...args);
      q.run(`DELETE FROM required_pxe_starts WHERE ${clause}`, ...args);
      for (const s of gone) recordChange(q.db, { kind: 'pxeStart', computerId: s.computerId, deploymentId: s.deploymentId, present: false });
      return gone;
    });
  }

  async pxeStartsOf(computerId: string): Promise<RequiredPxeStart[]> {
    return this.exec((q) => q.all<RequiredPxeStart>(`SELECT ${START_COLUMNS} FROM required_pxe_starts WHERE computer_id = ? ORDER BY started_at, deployment_id`, computerId));
  }

  async pxeStarts(): Promise<RequiredPxeStart[]> {
    return this.exec((q) => q.all<RequiredPxeStart>(`SELECT ${START_COLUMNS} FROM required_pxe_starts ORDER BY computer_id, deployment_id`));
  }
}
