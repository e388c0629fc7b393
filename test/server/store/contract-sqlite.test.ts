/**
 * The site store contract (test/server/store/contract/all.ts) against SQLite: a file in a temp
 * dir. contract-postgres.test.ts runs the same tests against PostgreSQL.
 */
import t from 'tap';
import { sqliteContract } from './contract/all.js';
import { targetTests } from './contract/open-store.js';

targetTests(t);

t.test('sqlite', async (t) => {
  sqliteContract(t);
});
