/** open-store.ts: a URL picks PostgreSQL, a path (or file: URL) picks SQLite, anything else is refused. */
import path from 'node:path';
import type { Test } from 'tap';
import { openStore, redact, storeTargetOf } from '../../../../server/store/open-store.js';
import type { TestPostgres } from '../../../fixtures/postgres.js';

export function targetTests(t: Test): void {
  t.test('the database location picks the implementation', async (t) => {
    t.same(storeTargetOf('postgres://osd@db.example:5432/site'), { kind: 'postgres', url: 'postgres://osd@db.example:5432/site' });
    t.same(storeTargetOf('postgresql://osd:pw@db/site?sslmode=require'), { kind: 'postgres', url: 'postgresql://osd:pw@db/site?sslmode=require' });
    t.same(storeTargetOf('POSTGRES://db/site'), { kind: 'postgres', url: 'POSTGRES://db/site' }, 'the scheme is case-insensitive');
    t.same(storeTargetOf('/var/lib/osdeploy/site.db'), { kind: 'sqlite', file: '/var/lib/osdeploy/site.db' });
    t.same(storeTargetOf('data/site.db'), { kind: 'sqlite', file: path.resolve('data/site.db') }, 'a relative path is resolved');
    t.same(storeTargetOf('file:///srv/site.db'), { kind: 'sqlite', file: '/srv/site.db' });
    t.same(storeTargetOf(':memory:'), { kind: 'sqlite', file: ':memory:' });
    t.throws(() => storeTargetOf('postgress://db/site'), /unsupported database URL scheme postgress/, 'a typo is not a file name');
    t.throws(() => storeTargetOf('mysql://db/site'), /unsupported database URL scheme mysql/);
    t.throws(() => storeTargetOf('postgres:db'), /not a PostgreSQL URL/);
    t.throws(() => storeTargetOf('  '), /empty/);
    t.equal(redact('postgres://osd:s3cret@db:5432/site'), 'postgres://osd:***@db:5432/site', 'a logged URL hides its password');
  });
}

export function openSqliteTests(t: Test, root: string): void {
  t.test('openStore opens and migrates a SQLite file', async (t) => {
    const store = await openStore(path.join(root, 'open-store', 'site.db'));
    t.teardown(() => store.close());
    t.equal(store.kind, 'sqlite');
    t.equal(await store.ids.claim('token', (n) => `t${n}`), 't1', 'the schema is there');
  });
}

export function openPgTests(t: Test, server: TestPostgres): void {
  t.test('openStore connects to a postgres:// URL and migrates', async (t) => {
    const store = await openStore(await server.createDatabase());
    t.teardown(() => store.close());
    t.equal(store.kind, 'postgres');
    t.equal(await store.ids.claim('token', (n) => `t${n}`), 't1', 'the schema is there');
    await t.rejects(openStore('postgres://postgres@127.0.0.1:1/none'), /ECONNREFUSED|connect/, 'an unreachable server is an error at open, not later');
  });
}
