/**
 * an import commit is all or nothing. When its last write fails, inside the transaction,
 * after content records, folders and task sequences went in, every one of them is rolled back,
 * with the audit record; the same plan then commits once the fault is gone.
 */
import { cpSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { SiteRepos, SiteStore } from '../../../server/site/repositories.js';
import { apiHarness, type ApiHarness } from '../../fixtures/api-harness.js';
import { counts, exportTo, must, planPath, richSite } from './fixture.js';

/** Makes every import link put of `h`'s store transactions fail until the returned function is called. */
function failLinkPuts(h: ApiHarness): () => void {
  const store = h.ctx.store as { transaction: SiteStore['transaction'] };
  const own = store.transaction;
  const real = own.bind(h.ctx.store);
  store.transaction = (fn) =>
    real((tx) => {
      const importLinks: SiteRepos['importLinks'] = { get: (s, id) => tx.importLinks.get(s, id), ofOrigins: (s, ids) => tx.importLinks.ofOrigins(s, ids), put: async () => Promise.reject(new Error('disk full')) };
      return fn({ ...tx, importLinks });
    });
  return () => {
    store.transaction = own;
  };
}

const imported = async (h: ApiHarness): Promise<number> => (await h.ctx.store.audit.page({ action: 'taskSequence.imported' }, { offset: 0, limit: 10 })).total;

t.test('R-28 a commit that fails at its last write leaves nothing behind, and commits when retried', async (t) => {
  const a = await apiHarness(t);
  const objs = await richSite(t, a);
  const b = await apiHarness(t);
  const out = await exportTo(a, 'build.zip', { taskSequenceIds: [objs.tsId] });
  cpSync(out.zip, path.join(b.dataDir, 'imports', 'build.zip'));
  cpSync(out.filesFolder, path.join(b.dataDir, 'imports', 'build_files'), { recursive: true });
  const plan = await planPath(b, 'build.zip');
  t.equal(plan.status, 201, plan.body);
  const before = counts(b);

  const restore = failLinkPuts(b);
  const failed = await b.call('POST', `/task-sequences/import/${plan.json.planId}/commit`, { body: {} });
  restore();
  t.equal(failed.status, 500, 'the fault is the server’s');
  t.same(counts(b), before, 'no task sequence, folder, content record or link was left');
  t.same(await b.ctx.library.records.list(), [], 'no content record either');
  t.equal(await imported(b), 0, 'and no audit record of an import');

  const done = await must(b, 'POST', `/task-sequences/import/${plan.json.planId}/commit`, {});
  t.equal(done.objects.length, 8, 'the same plan commits once the fault is gone');
  t.equal(counts(b).task_sequences, before.task_sequences! + 1);
  t.equal(counts(b).import_links, 8, 'with a link for every object');
  t.equal(await imported(b), 1);
});
