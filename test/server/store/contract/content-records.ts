/**
 * Content records (the content library's, R-06): whole objects round-trip, the facts policy
 * reads are derived on every put, boot images are found by kind, and puts and deletes are all or
 * nothing inside `store.transaction`. On SQLite also: a row of an older version without its
 * facts column is read from its document, and every committed write reaches the change journal.
 */
import type { Test } from 'tap';
import type { ContentObject } from '../../../../content/model.js';
import type { StoreChange } from '../../../../server/site/repos/changes.js';
import type { SiteStore } from '../../../../server/site/repos/store.js';
import { onCommittedChanges } from '../../../../server/store/change-journal.js';
import type { PgSiteStore } from '../../../../server/store/postgres/store.js';
import type { SqliteSiteStore } from '../../../../server/store/sqlite/store.js';
import type { Impl } from './harness.js';

const version = (n: number) => ({
  version: n,
  createdAt: '2026-01-01T00:00:00.000Z',
  files: [{ path: 'boot/vmlinuz', sha256: 'a'.repeat(64), size: 7 }],
  totalSize: 7,
  manifestSha256: String(n).repeat(64).slice(0, 64),
});

const pkg = (id: string, over: Partial<ContentObject> = {}): ContentObject =>
  ({ kind: 'package', id, name: `Package ${id}`, sourcePath: '', versions: [], programs: [{ name: 'Install', commandLine: 'setup.exe /q "quoted" ✓' }], allowRunFromDistributionPoint: true, ...over }) as ContentObject;

const bootImage = (id: string): ContentObject => ({
  kind: 'bootImage',
  id,
  name: `Boot ${id}`,
  sourcePath: '/src/boot',
  versions: [version(1)],
  os: 'linux',
  architecture: 'x64',
  boot: { os: 'linux', kernel: `content/${id}/latest/boot/vmlinuz`, initrds: [], cmdline: 'quiet' },
});

const app = (id: string, dependencies: string[]): ContentObject => ({ kind: 'application', id, name: `App ${id}`, sourcePath: '', versions: [], withoutSource: true, dependencies, revision: 2 });

export function contentContract(t: Test, impl: Impl): void {
  t.test('content: round trip, facts derived on put, replaced, listed by id, deleted', async (t) => {
    const { store } = await impl.fresh(t);
    t.equal(await store.content.get('PS100001'), null, 'nothing before the put');
    t.equal(await store.content.info('PS100001'), null);
    const p = pkg('PS100002');
    await store.content.put(p, 1_000);
    t.same(await store.content.get(p.id), p, 'read back whole');
    t.same(await store.content.info(p.id), { kind: 'package', id: p.id, name: p.name, usable: false, unusableReason: 'no content version; import its source', allowRunFromDistributionPoint: true }, 'no version yet: unusable');

    const v2 = { ...p, versions: [version(1), version(2)] } as ContentObject;
    await store.content.put(v2, 2_000);
    t.same(await store.content.get(p.id), v2, 'a put replaces the whole record');
    t.match(await store.content.info(p.id), { usable: true }, 'and its facts');
    t.notOk('unusableReason' in ((await store.content.info(p.id)) ?? {}), 'no reason left behind');

    for (const o of [bootImage('PS10000A'), app('PS100001', ['PS100002']), bootImage('PS100003')]) await store.content.put(o, 3_000);
    t.same((await store.content.list()).map((o) => o.id), ['PS100001', 'PS100002', 'PS100003', 'PS10000A'], 'listed in id order (bytewise)');
    t.same((await store.content.infos()).map((i) => i.id), ['PS100001', 'PS100002', 'PS100003', 'PS10000A'], 'facts in id order');
    t.same((await store.content.info('PS100001'))?.dependencies, ['PS100002'], "an application's dependencies are in its facts");
    const boots = await store.content.bootImageInfos();
    t.same(boots.map((i) => i.id), ['PS100003', 'PS10000A'], 'only boot images');
    t.same(boots[1]?.boot, (bootImage('PS10000A') as ContentObject & { kind: 'bootImage' }).boot, 'with the files they declare');

    t.equal(await store.content.delete('PS100003'), true, 'delete says it removed the record');
    t.equal(await store.content.delete('PS100003'), false, 'and that there was nothing the second time');
    t.equal(await store.content.get('PS100003'), null);
    t.same((await store.content.bootImageInfos()).map((i) => i.id), ['PS10000A']);
  });

  t.test('content: the row keeps the current version and when it was written', async (t) => {
    const { store, another } = await impl.fresh(t);
    await store.content.put({ ...pkg('P1'), versions: [version(1), version(2)] } as ContentObject, 42);
    await store.content.put(pkg('P2'), 43);
    const other = await another();
    t.equal((await other.content.get('P1'))?.versions.length, 2, 'another connection reads what was committed');
    const rows = await raw(store, 'SELECT id, current_version, updated_at FROM content ORDER BY id');
    t.same(rows, [
      { id: 'P1', current_version: 2, updated_at: 42 },
      { id: 'P2', current_version: null, updated_at: 43 },
    ]);
  });

  t.test('content: all or nothing inside a transaction', async (t) => {
    const { store } = await impl.fresh(t);
    await store.content.put(pkg('P1'), 1);
    await t.rejects(
      store.transaction(async (tx) => {
        await tx.content.put(pkg('P2'), 2);
        await tx.content.put(pkg('P1', { name: 'renamed' }), 2);
        t.equal(await tx.content.delete('P1'), true);
        t.equal((await tx.content.info('P2'))?.id, 'P2', 'inside, the transaction sees its own writes');
        throw new Error('boom');
      }),
      /boom/,
    );
    t.same((await store.content.list()).map((o) => [o.id, o.name]), [['P1', 'Package P1']], 'the rollback undid the put, the replace and the delete');
    await store.transaction(async (tx) => {
      await tx.content.put(pkg('P2'), 2);
      await tx.content.delete('P1');
    });
    t.same((await store.content.list()).map((o) => o.id), ['P2'], 'a commit makes them visible');
  });
}

/** Rows as they are on disk, past the repository. */
async function raw(store: SiteStore, sql: string): Promise<Record<string, unknown>[]> {
  if (store.kind === 'sqlite') return (store as SqliteSiteStore).db.prepare(sql).all() as Record<string, unknown>[];
  return (await (store as PgSiteStore).pool.query<Record<string, unknown>>(sql)).rows;
}

/** SQLite only: rows older versions wrote, and the change journal that feeds the policy state's content index. */
export function contentSqliteOnly(t: Test, impl: Impl): void {
  t.test('content: older rows read; every write is reported with what was written', async (t) => {
    const { store, sql } = await impl.fresh(t);
    const db = (store as SqliteSiteStore).db;
    const changes: StoreChange[] = [];
    onCommittedChanges(db, (c) => changes.push(...c));

    await store.content.put(bootImage('PS100001'), 1);
    await store.transaction(async (tx) => tx.content.put(pkg('PS100002'), 2));
    // A row as an older version left it: no facts column yet.
    const old = app('PS100003', ['PS100001']);
    await sql('INSERT INTO content (id, kind, name, doc) VALUES (?, ?, ?, ?)', [old.id, old.kind, old.name, JSON.stringify(old)]);
    t.same(await store.content.info(old.id), { kind: 'application', id: old.id, name: old.name, usable: true, dependencies: ['PS100001'] }, 'its facts are derived from the document');
    t.same((await store.content.infos()).map((i) => i.id), ['PS100001', 'PS100002', 'PS100003']);
    await store.content.delete('PS100002');
    t.same(
      changes,
      [
        { kind: 'doc', table: 'content', id: 'PS100001', doc: bootImage('PS100001') },
        { kind: 'doc', table: 'content', id: 'PS100002', doc: pkg('PS100002') },
        { kind: 'doc', table: 'content', id: 'PS100002', doc: null },
      ],
      'each committed write, once, with its record (the policy state keeps the content index from these)',
    );
  });
}
