/**
 * The site store contract (server/site/repos): every repository, run against both
 * implementations — SQLite (a file in a temp dir) and PostgreSQL (test/fixtures/postgres.ts:
 * OSD_TEST_DATABASE_URL, or a server this file starts). The same tests, the same answers.
 * Without PostgreSQL the PostgreSQL half is skipped with the reason, except under CI, where the
 * fixture fails the run instead.
 */
import t from 'tap';
import { postgresSkipReason, testPostgres } from '../../fixtures/postgres.js';
import { contentContract, contentSqliteOnly } from './contract/content-records.js';
import { deploymentContract, deploymentSqliteOnly, taskSequenceContract } from './contract/deployment-records.js';
import { postgresImpl, sqliteImpl, tempRoot, type Impl } from './contract/harness.js';
import { idContract, twoPools } from './contract/ids.js';
import { importLinkContract, mediaContract } from './contract/media-records.js';
import { openPgTests, openSqliteTests, targetTests } from './contract/open-store.js';
import { pgMigrations } from './contract/pg-migrations.js';
import { pointContract, pointRecordsSqliteOnly } from './contract/point-records.js';
import { collectionContract, computerContract, policyRecordsSqliteOnly } from './contract/policy-records.js';
import { auditContract, settingsContract, tokenContract } from './contract/records.js';
import { sqliteOnly, twoProcesses } from './contract/sqlite-only.js';
import { statusContract } from './contract/status.js';
import { transactionContract } from './contract/transactions.js';

function contract(t: Parameters<typeof idContract>[0], impl: Impl, concurrent: Parameters<typeof idContract>[2]): void {
  idContract(t, impl, concurrent);
  transactionContract(t, impl);
  settingsContract(t, impl);
  tokenContract(t, impl);
  auditContract(t, impl);
  statusContract(t, impl);
  computerContract(t, impl);
  collectionContract(t, impl);
  deploymentContract(t, impl);
  taskSequenceContract(t, impl);
  mediaContract(t, impl);
  importLinkContract(t, impl);
  pointContract(t, impl);
  contentContract(t, impl);
}

targetTests(t);

t.test('sqlite', async (t) => {
  const root = tempRoot(t);
  const impl = sqliteImpl(root);
  contract(t, impl, twoProcesses(impl));
  sqliteOnly(t, impl);
  policyRecordsSqliteOnly(t, impl);
  deploymentSqliteOnly(t, impl);
  pointRecordsSqliteOnly(t, impl);
  contentSqliteOnly(t, impl);
  openSqliteTests(t, root);
});

const skip = postgresSkipReason();
t.test('postgresql', skip === null ? {} : { skip }, async (t) => {
  const server = await testPostgres(t);
  t.comment(`PostgreSQL: ${server.source === 'env' ? 'the server in OSD_TEST_DATABASE_URL' : 'a server this test started'}`);
  const impl = postgresImpl(server);
  contract(t, impl, twoPools(impl));
  pgMigrations(t, server);
  openPgTests(t, server);
});
