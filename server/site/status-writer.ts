/**
 * The status writer of a store without a thread of its own (PostgreSQL): each batch is one store
 * transaction, messages and the R-19 records they start together. The driver is asynchronous,
 * so the event loop never waits on the write; the store reports the R-19 records at commit.
 */
import type { StatusMessage } from '../../policy/status.js';
import type { StatusRow, StatusWriteResult, StatusWriter } from './repos/status.js';
import type { SiteStore } from './repos/store.js';

export class StoreStatusWriter implements StatusWriter {
  constructor(private readonly store: SiteStore) {}

  write(rows: readonly StatusRow[], now: number): Promise<StatusWriteResult> {
    return this.store.transaction(async (tx) => {
      // One statement for the messages, then the few R-19 records they start.
      const inserted = await tx.status.insertMany(rows.map((r) => JSON.parse(r.doc) as StatusMessage));
      const pxeStartsAdded: { computerId: string; deploymentId: string }[] = [];
      for (const [i, r] of rows.entries()) {
        if (inserted[i] && r.requiredPxeStart && (await tx.deployments.addPxeStart({ computerId: r.computerId, deploymentId: r.deploymentId, startedAt: now })))
          pxeStartsAdded.push({ computerId: r.computerId, deploymentId: r.deploymentId });
      }
      return { inserted, pxeStartsAdded, thread: 0 };
    });
  }

  async close(): Promise<void> {}
}
