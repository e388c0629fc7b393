/** PostgreSQL migrations: versioned, idempotent, one transaction under an advisory lock. */
import type { Test } from 'tap';
import { migratePg } from '../../../../server/store/postgres/migrate.js';
import { PG_MIGRATIONS, type PgMigration } from '../../../../server/store/postgres/migrations.js';
import { createPool } from '../../../../server/store/postgres/pool.js';
import type { TestPostgres } from '../../../fixtures/postgres.js';

type Pool = ReturnType<typeof createPool>;

const VERSIONS = PG_MIGRATIONS.map((m) => m.version).sort((a, b) => a - b);

async function pool(t: Test, url: string): Promise<Pool> {
  const p = createPool(url);
  t.teardown(() => p.end());
  return p;
}

const versionsIn = async (p: Pool): Promise<number[]> => (await p.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version);
const tablesIn = async (p: Pool): Promise<string[]> =>
  (await p.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).rows.map((r) => r.tablename);

export function pgMigrations(t: Test, server: TestPostgres): void {
  t.test('migrations: a fresh database gets each once; running them again is a no-op', async (t) => {
    const p = await pool(t, await server.createDatabase());
    t.equal(await migratePg(p), PG_MIGRATIONS.length, 'every migration ran');
    t.same(await versionsIn(p), VERSIONS, 'one version row per migration');
    const tables = await tablesIn(p);
    t.same(tables, ['audit', 'collections', 'computer_macs', 'computers', 'content', 'counters', 'deployments', 'distribution_jobs', 'distribution_point_groups', 'distribution_points', 'folders', 'import_links', 'media', 'point_content', 'required_pxe_starts', 'schema_migrations', 'secret_keys', 'settings', 'site_ids', 'status_messages', 'task_sequences', 'tokens']);
    t.equal(await migratePg(p), 0, 'the second run applies nothing');
    t.same(await versionsIn(p), VERSIONS, 'and records nothing more');
    const types = await p.query<{ column_name: string; data_type: string }>("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'status_messages' ORDER BY column_name");
    t.match(Object.fromEntries(types.rows.map((r) => [r.column_name, r.data_type])), { at: 'bigint', seq: 'bigint', doc: 'text' }, 'times and seq are BIGINT');
  });

  t.test('migrations: two migrators starting at once on a fresh database both succeed, once', async (t) => {
    const url = await server.createDatabase();
    const [a, b] = [await pool(t, url), await pool(t, url)];
    const ran = await Promise.all([migratePg(a), migratePg(b)]);
    t.same([...ran].sort(), [0, PG_MIGRATIONS.length], 'one applied them all, the other waited and found nothing to do');
    t.same(await versionsIn(a), VERSIONS, 'one version row per migration');
    const five = await Promise.all(Array.from({ length: 5 }, () => migratePg(b)));
    t.same(five, [0, 0, 0, 0, 0], 'five more at once change nothing');
  });

  t.test('migrations: a failing one leaves the database as it was; a newer schema is refused', async (t) => {
    const p = await pool(t, await server.createDatabase());
    const broken: PgMigration[] = [...PG_MIGRATIONS, { version: 99, name: 'broken', sql: 'CREATE TABLE fine (x INTEGER); SELECT no_such_function();' }];
    await t.rejects(migratePg(p, broken), /no_such_function/);
    t.same(await tablesIn(p), [], 'the whole run rolled back: no table, not even schema_migrations');
    t.equal(await migratePg(p), PG_MIGRATIONS.length, 'and the real ones apply afterwards');
    await p.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from the future', 0)");
    const newest = Math.max(...PG_MIGRATIONS.map((m) => m.version));
    await t.rejects(migratePg(p), new RegExp(`schema version 999, newer than this program knows \\(${newest}\\); upgrade osdeploy`));
    await t.rejects(migratePg(p, [...PG_MIGRATIONS, { version: 3, name: 'twin', sql: '' }]), /two PostgreSQL migrations have version 3/);
  });
}
