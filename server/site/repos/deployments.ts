/**
 * Deployments (R-09…R-16) as documents: the policy `Deployment` whole, with its task sequence,
 * collection and creation time also kept beside it for the lookups. And R-19's record that a
 * computer started a Required deployment from PXE (one row per computer and deployment), which
 * the deployment's own actions (delete, "Clear Required PXE Deployments") change.
 *
 * Documents come back as stored: options added after a deployment was written are the site's to
 * default (deployments.ts `withDefaults`), as they always were.
 */
import type { Deployment } from '../../../policy/deployments/model.js';
import type { RequiredPxeStart } from './status.js';

export interface DeploymentRepo {
  /** Inserts or replaces the deployment. Its task sequence must be stored (on SQLite its collection too). */
  put(deployment: Deployment): Promise<void>;
  get(id: string): Promise<Deployment | null>;
  /** Removes the deployment and its R-19 starts together; false when there was none. */
  delete(id: string): Promise<boolean>;
  /** Every deployment, oldest first (created_at, then id), as the site lists them. */
  list(): Promise<Deployment[]>;
  /** The task sequence's deployments, oldest first (deleting a task sequence checks this). */
  ofTaskSequence(taskSequenceId: string): Promise<Deployment[]>;
  /** The collection's deployments, oldest first (deleting a collection checks this). */
  ofCollection(collectionId: string): Promise<Deployment[]>;

  /** remembers the start; false when that computer's start of that deployment is remembered already (the first `startedAt` stays). */
  addPxeStart(start: RequiredPxeStart): Promise<boolean>;
  /**
   * "Clear Required PXE Deployments" for a computer, or only its start of `deploymentId`.
   * Returns the starts that went, by deployment, so the caller can say (and apply) what changed.
   */
  deletePxeStarts(computerId: string, deploymentId?: string): Promise<RequiredPxeStart[]>;
  /** One computer's starts, oldest first (started_at, then deployment). */
  pxeStartsOf(computerId: string): Promise<RequiredPxeStart[]>;
  /** Every start (the policy snapshot), by computer then deployment. */
  pxeStarts(): Promise<RequiredPxeStart[]>;
}
