/** The throwaway-PostgreSQL fixture itself: it finds Debian's binaries, fails under CI without them, and cleans up. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import t from 'tap';
import { findPostgresBin, postgresSkipReason, testPostgres, TEST_DATABASE_URL_ENV } from '../../fixtures/postgres.js';

/** Runs `fn` with the environment changed, then puts it back. */
function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) delete process.env[k];
      else process.env[k] = x;
    }
  };
  set(vars);
  try {
    return fn();
  } finally {
    set(saved);
  }
}

t.test('finds the newest installed version that has both initdb and pg_ctl', async (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'osdeploy-pgroot-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  t.equal(findPostgresBin(path.join(root, 'missing')), null, 'no tree, nothing found');
  const put = (version: string, tools: string[]) => {
    mkdirSync(path.join(root, version, 'bin'), { recursive: true });
    for (const tool of tools) {
      writeFileSync(path.join(root, version, 'bin', tool), '#!/bin/sh\n');
      chmodSync(path.join(root, version, 'bin', tool), 0o755);
    }
  };
  put('9.6', ['initdb', 'pg_ctl']);
  put('15', ['initdb', 'pg_ctl']);
  put('16', ['initdb']);
  t.equal(findPostgresBin(root), path.join(root, '15', 'bin'), '15 beats 9.6 (numerically), and 16 lacks pg_ctl');
});

t.test('without PostgreSQL: a skip with the reason, but a failure under CI', async (t) => {
  const nowhere = path.join(os.tmpdir(), 'osdeploy-no-postgresql-here');
  withEnv({ CI: undefined, [TEST_DATABASE_URL_ENV]: undefined }, () => {
    t.match(postgresSkipReason(nowhere), /PostgreSQL is not installed .*apt-get install postgresql/, 'outside CI: skipped, saying how to install it');
  });
  withEnv({ CI: 'true', [TEST_DATABASE_URL_ENV]: undefined }, () => {
    t.throws(() => postgresSkipReason(nowhere), /CI must run the PostgreSQL tests/, 'under CI: an error, never a skip');
  });
  withEnv({ CI: 'true', [TEST_DATABASE_URL_ENV]: 'postgres://postgres@127.0.0.1:5432/postgres' }, () => {
    t.equal(postgresSkipReason(nowhere), null, 'a server given by URL needs no local binaries');
  });
});

const skip = postgresSkipReason();
t.test('each caller gets a fresh database, dropped at its teardown', skip === null ? {} : { skip }, async (t) => {
  let name = '';
  let serverUrl = '';
  await t.test('a test that uses it', async (t) => {
    const server = await testPostgres(t);
    const url = new URL(server.url);
    name = url.pathname.slice(1);
    t.match(name, /^t_[0-9a-f]{12}$/, 'named t_<random>');
    url.pathname = '/postgres';
    serverUrl = (server.source === 'env' ? process.env[TEST_DATABASE_URL_ENV] : undefined) ?? url.toString();
    const c = new pg.Client({ connectionString: server.url });
    await c.connect();
    t.equal((await c.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db, name, 'connected to it');
    t.equal((await c.query<{ n: string }>('SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname = $1', ['public'])).rows[0]?.n, '0', 'and it is empty');
    await c.end();
    const other = await server.createDatabase();
    t.not(other, server.url, 'another one is another database');
  });
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  const left = await c.query('SELECT datname FROM pg_database WHERE datname = $1', [name]);
  await c.end();
  t.equal(left.rowCount, 0, 'after the test, its database is gone');
});
