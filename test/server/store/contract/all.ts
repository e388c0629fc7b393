/**
 * The site store contract (server/site/repos) as one whole: every repository's tests, run
 * against one implementation. test/server/store/contract-sqlite.test.ts runs it against SQLite
 * (a file in a temp dir), contract-postgres.test.ts against PostgreSQL (test/fixtures/postgres.ts:
 * OSD_TEST_DATABASE_URL, or a server that file starts): the same tests, the same answers. Two
 * files, so that each stays well within tap's per-file timeout (.taprc).
 */
import type { Test } from 'tap';
import type { TestPostgres } from '../../../fixtures/postgres.js';
import { contentContract, contentSqliteOnly } from './content-records.js';
import { deploymentContract, deploymentSqliteOnly, taskSequenceContract } from './deployment-records.js';
import { postgresImpl, sqliteImpl, tempRoot, type Impl } from './harness.js';
import { idContract, twoPools } from './ids.js';
import { importLinkContract, mediaContract } from './media-records.js';
import { openPgTests, openSqliteTests } from './open-store.js';
import { pgMigrations } from './pg-migrations.js';
import { pointContract, pointRecordsSqliteOnly } from './point-records.js';
import { collectionContract, computerContract, policyRecordsSqliteOnly } from './policy-records.js';
import { auditContract, settingsContract, tokenContract } from './records.js';
import { sqliteOnly, twoProcesses } from './sqlite-only.js';
import { statusContract } from './status.js';
import { transactionContract } from './transactions.js';

/** Every repository's contract against `impl`; `concurrent` is how two writers meet on it. */
export function contract(t: Parameters<typeof idContract>[0], impl: Impl, concurrent: Parameters<typeof idContract>[2]): void {
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

/** The contract on SQLite (two processes on one file), and what only SQLite has. */
export function sqliteContract(t: Test): void {
  const root = tempRoot(t);
  const impl = sqliteImpl(root);
  contract(t, impl, twoProcesses(impl));
  sqliteOnly(t, impl);
  policyRecordsSqliteOnly(t, impl);
  deploymentSqliteOnly(t, impl);
  pointRecordsSqliteOnly(t, impl);
  contentSqliteOnly(t, impl);
  openSqliteTests(t, root);
}

/** The contract on PostgreSQL (two pools on one database), its migrations and openStore on a URL. */
export function postgresContract(t: Test, server: TestPostgres): void {
  const impl = postgresImpl(server);
  contract(t, impl, twoPools(impl));
  pgMigrations(t, server);
  openPgTests(t, server);
}
