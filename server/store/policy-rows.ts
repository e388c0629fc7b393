/**
 * R-19 records as rows (the SQLite deployments repository writes them through these).
 * Each write tells the change journal what it changed, so the policy state applies it.
 */
import { recordChange } from './change-journal.js';
import type { Db } from './db.js';

export interface PxeStartRow {
  readonly computerId: string;
  readonly deploymentId: string;
}

export function allPxeStarts(db: Db): PxeStartRow[] {
  return db.prepare('SELECT computer_id AS computerId, deployment_id AS deploymentId FROM required_pxe_starts').all() as PxeStartRow[];
}

/** records that a computer started a Required deployment from PXE; false if it already had. */
export function addPxeStart(db: Db, computerId: string, deploymentId: string, at: number): boolean {
  const added =
    db.prepare('INSERT INTO required_pxe_starts (computer_id, deployment_id, started_at) VALUES (?, ?, ?) ON CONFLICT (computer_id, deployment_id) DO NOTHING').run(computerId, deploymentId, at)
      .changes > 0;
  if (added) recordChange(db, { kind: 'pxeStart', computerId, deploymentId, present: true });
  return added;
}

/** Deletes the R-19 records of a computer or of a deployment; returns how many. */
export function deletePxeStarts(db: Db, of: { computerId: string } | { deploymentId: string }): number {
  const [column, value] = 'computerId' in of ? ['computer_id', of.computerId] : ['deployment_id', of.deploymentId];
  const rows = db.prepare(`DELETE FROM required_pxe_starts WHERE ${column} = ? RETURNING computer_id AS computerId, deployment_id AS deploymentId`).all(value) as PxeStartRow[];
  for (const r of rows) recordChange(db, { kind: 'pxeStart', computerId: r.computerId, deploymentId: r.deploymentId, present: false });
  return rows.length;
}
