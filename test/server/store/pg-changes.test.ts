/**
 * Issue 14, several site nodes: what one node commits on PostgreSQL, another hears
 * (server/store/postgres/listen.ts). Notices carry ids only (documents hold sealed secrets), a
 * node skips its own, a rolled-back transaction sends nothing, and a notice too large for
 * PostgreSQL's limit asks the others to rebuild instead.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { newComputer } from '../../../policy/computers.js';
import type { StoreChange } from '../../../server/site/repos/changes.js';
import { ChangeListener } from '../../../server/store/postgres/listen.js';
import { openPgSite } from '../../../server/store/postgres/open.js';
import { SecretKey } from '../../../server/store/secrets/key.js';
import { postgresSkipReason, testPostgres } from '../../fixtures/postgres.js';

const skip = postgresSkipReason();

t.test('a node hears the changes another commits', skip === null ? {} : { skip }, async (t) => {
  const server = await testPostgres(t);
  const a = await openPgSite(server.url, { dataDir: '/nonexistent', secretKey: new SecretKey(randomBytes(32)), secretKeyFile: null });
  t.teardown(() => a.close());
  const heard: StoreChange[][] = [];
  const resyncs: string[] = [];
  let wake = (): void => undefined;
  const next = () => new Promise<void>((r) => (wake = r));
  const listener = new ChangeListener(server.url, 'node-b', {
    changes: (c) => {
      heard.push([...c]);
      wake();
    },
    resync: (why) => {
      resyncs.push(why);
      wake();
    },
  });
  t.teardown(() => listener.close());
  await listener.start();
  t.ok(listener.connected);

  const pc = newComputer('16777230', { name: 'PC-NOTICE', macAddresses: ['02:00:00:00:00:31'], variables: [{ name: 'Secret', value: 's3cret', hidden: true }] });
  let arrived = next();
  await a.transaction(async (tx) => {
    await tx.computers.put(pc, 1);
    await tx.deployments.addPxeStart({ computerId: pc.id, deploymentId: 'PS120001', startedAt: 2 });
  });
  await arrived;
  t.same(heard, [[{ kind: 'doc', table: 'computers', id: pc.id }, { kind: 'pxeStart', computerId: pc.id, deploymentId: 'PS120001', present: true }]], 'ids only: the document (and its hidden value) never travels');

  heard.length = 0;
  await t.rejects(
    a.transaction(async (tx) => {
      await tx.computers.delete(pc.id);
      throw new Error('refused');
    }),
  );
  arrived = next();
  await a.settings.put('site', { pxe: { enabled: true } });
  await arrived;
  t.same(heard, [[{ kind: 'settings' }]], 'the rolled-back delete sent nothing; the next write arrives alone');

  // The node's own notices are skipped: a listener with A's node id hears nothing of A.
  const own: StoreChange[][] = [];
  const self = new ChangeListener(server.url, a.node, { changes: (c) => own.push([...c]), resync: () => own.push([]) });
  t.teardown(() => self.close());
  await self.start();

  heard.length = 0;
  arrived = next();
  await a.transaction(async (tx) => {
    for (let i = 0; i < 300; i++) await tx.computers.put(newComputer(String(16777300 + i), { name: `BULK-${i}`, macAddresses: [`02:00:00:01:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`] }), 3);
  });
  await arrived;
  t.same(heard, [], 'a transaction of 300 changes is not sent change by change');
  t.match(resyncs, [/too big/], 'it asks the other nodes to read everything again');
  t.same(own, [], "a node ignores its own notices (it applied them at commit)");
});

t.test('every node needs the key the site database records', skip === null ? {} : { skip }, async (t) => {
  const server = await testPostgres(t);
  const key = new SecretKey(randomBytes(32));
  const first = await openPgSite(server.url, { dataDir: '/nonexistent', secretKey: key, secretKeyFile: null });
  await first.close();
  const again = await openPgSite(server.url, { dataDir: '/nonexistent', secretKey: key, secretKeyFile: null });
  await again.close();
  t.pass('the same key opens it again');
  await t.rejects(
    openPgSite(server.url, { dataDir: '/nonexistent', secretKey: new SecretKey(randomBytes(32)), secretKeyFile: null }),
    /is not the key the secrets in the site database postgres:\/\/.* were encrypted with/,
    'another key is refused before anything is written',
  );
});
