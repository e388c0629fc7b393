/**
 * The site store contract (test/server/store/contract/all.ts) against PostgreSQL
 * (test/fixtures/postgres.ts: OSD_TEST_DATABASE_URL, or a server this file starts); the same
 * tests as contract-sqlite.test.ts, the same answers. Without PostgreSQL they are skipped with
 * the reason, except under CI, where the fixture fails the run instead.
 */
import t from 'tap';
import { postgresSkipReason, testPostgres } from '../../fixtures/postgres.js';
import { postgresContract } from './contract/all.js';

const skip = postgresSkipReason();
t.test('postgresql', skip === null ? {} : { skip }, async (t) => {
  const server = await testPostgres(t);
  t.comment(`PostgreSQL: ${server.source === 'env' ? 'the server in OSD_TEST_DATABASE_URL' : 'a server this test started'}`);
  postgresContract(t, server);
});
