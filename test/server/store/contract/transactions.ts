/** The unit of work: all or nothing, no dirty reads, and repositories that cannot escape their transaction. */
import type { Test } from 'tap';
import type { StatusMessage } from '../../../../policy/status.js';
import { StoreUsageError, type SiteRepos } from '../../../../server/site/repos/store.js';
import type { Impl } from './harness.js';
import { newComputer } from '../../../../policy/computers.js';
import type { StoreChange } from '../../../../server/site/repos/changes.js';

const runStarted = (id: string): StatusMessage => ({
  id,
  at: 1_700_000_000_000,
  computerId: '16777220',
  deploymentId: 'PS120001',
  runId: 'run-1',
  kind: 'runStarted',
  source: 'pxe',
  receivedAt: 1_700_000_000_500,
});

/** What R-19 writes together: the message, its companion record, an audit line, a token, a setting. */
async function writeAll(tx: SiteRepos): Promise<string> {
  const id = await tx.ids.claim('token', (n) => `t${n}`);
  await tx.status.insert(runStarted('m-1'));
  await tx.deployments.addPxeStart({ computerId: '16777220', deploymentId: 'PS120001', startedAt: 1_700_000_000_500 });
  await tx.audit.append({ at: 1, actor: 'system', action: 'status.stored', target: 'm-1', message: 'stored', details: {} });
  await tx.tokens.insert({ id, name: 'n', role: 'admin', hash: 'h1', createdAt: 1, revokedAt: null, expiresAt: null, mediaId: null, scope: null, computerId: null });
  await tx.settings.put('site', { pxe: { enabled: true } });
  return id;
}

export function transactionContract(t: Test, impl: Impl): void {
  t.test('a transaction that throws leaves nothing behind', async (t) => {
    const { store } = await impl.fresh(t);
    let id = '';
    const boom = new Error('disk on fire');
    await t.rejects(
      store.transaction(async (tx) => {
        id = await writeAll(tx);
        t.equal((await tx.status.ofComputer('16777220')).length, 1, 'inside, the transaction sees its own message');
        t.equal((await tx.deployments.pxeStartsOf('16777220')).length, 1, 'and its R-19 record');
        throw boom;
      }),
      boom,
      'the error that aborted it comes back unchanged',
    );
    t.same(await store.status.ofComputer('16777220'), [], 'no status message');
    t.same(await store.deployments.pxeStarts(), [], 'no R-19 record');
    t.equal((await store.audit.page({}, { offset: 0, limit: 10 })).total, 0, 'no audit record');
    t.equal(await store.tokens.byId(id), null, 'no token');
    t.equal(await store.settings.get('site'), undefined, 'no setting');
    t.equal(await store.ids.claim('token', (n) => `t${n}`), id, 'the id it took is free again');
  });

  t.test('a transaction that returns commits everything at once', async (t) => {
    const { store } = await impl.fresh(t);
    const id = await store.transaction(writeAll);
    t.same((await store.status.ofComputer('16777220')).map((m) => m.id), ['m-1']);
    t.same(await store.deployments.pxeStartsOf('16777220'), [{ computerId: '16777220', deploymentId: 'PS120001', startedAt: 1_700_000_000_500 }]);
    t.equal((await store.audit.page({ target: 'm-1' }, { offset: 0, limit: 10 })).total, 1);
    t.equal((await store.tokens.byId(id))?.hash, 'h1');
    t.same(await store.settings.get('site'), { pxe: { enabled: true } });
  });

  t.test('a read beside an open transaction never sees its uncommitted writes', async (t) => {
    const { store, another } = await impl.fresh(t);
    const other = await another();
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let wrote = (): void => undefined;
    const written = new Promise<void>((r) => (wrote = r));
    let callbackDone = false;
    const done = store.transaction(async (tx) => {
      await tx.settings.put('flag', 'uncommitted');
      wrote();
      await gate;
      callbackDone = true;
    });
    await written;
    const seen: { value: unknown; afterCallback: boolean }[] = [];
    const reads = [store.settings.get('flag'), other.settings.get('flag')].map((p) => p.then((value) => seen.push({ value, afterCallback: callbackDone })));
    await new Promise((r) => setTimeout(r, 50));
    release();
    await done;
    await Promise.all(reads);
    t.equal(seen.length, 2);
    for (const s of seen) t.ok(s.value === undefined || s.afterCallback, `a read that saw ${JSON.stringify(s.value)} ran after the transaction finished`);
    t.equal(await other.settings.get('flag'), 'uncommitted', 'once committed, the other connection sees it');
  });

  t.test('repositories stay inside their transaction', async (t) => {
    const { store } = await impl.fresh(t);
    let leaked: SiteRepos | null = null;
    await store.transaction(async (tx) => {
      leaked = tx;
      await t.rejects(store.settings.get('x'), StoreUsageError, "the store's own repositories are refused inside a transaction");
      await t.rejects(
        store.transaction(async () => 1),
        StoreUsageError,
        'a nested transaction is refused',
      );
    });
    const escaped = leaked as SiteRepos | null;
    if (!escaped) throw new Error('the transaction did not run');
    await t.rejects(escaped.settings.put('x', 1), /transaction is over/, 'a transaction repository used after COMMIT is refused');
    t.equal(await store.settings.get('x'), undefined, 'and wrote nothing');
    await store.close();
    await t.rejects(store.settings.get('x'), /store is closed/, 'a closed store refuses calls');
  });

  t.test('policy changes reach onCommitted after COMMIT, with what was written, and never after a rollback', async (t) => {
    const { store } = await impl.fresh(t);
    const heard: StoreChange[][] = [];
    const stop = store.onCommitted((c) => heard.push([...c]));
    const pc = { ...newComputer('16777230', { name: 'PC-HEARD', macAddresses: ['02:00:00:00:00:30'] }) };
    await store.transaction(async (tx) => {
      await tx.computers.put(pc, 1);
      await tx.settings.put('site', { pxe: { enabled: false } });
      await tx.settings.put('not-policy', 1);
      await tx.audit.append({ at: 1, actor: 'a', action: 'x', target: 't', message: 'm', details: {} });
      t.same(heard, [], 'nothing is reported before COMMIT');
    });
    t.same(heard, [[{ kind: 'doc', table: 'computers', id: pc.id, doc: pc }, { kind: 'settings', value: { pxe: { enabled: false } } }]], 'one report per transaction, policy inputs only, with their values');
    heard.length = 0;
    await t.rejects(
      store.transaction(async (tx) => {
        await tx.computers.delete(pc.id);
        throw new Error('refused');
      }),
      /refused/,
    );
    t.same(heard, [], 'a rollback reports nothing');
    await store.computers.delete(pc.id);
    t.same(heard, [[{ kind: 'doc', table: 'computers', id: pc.id, doc: null }]], 'a write outside a transaction is reported when it returns');
    heard.length = 0;
    await store.status.insert(runStarted('not-policy'));
    t.same(heard, [], 'a status message is no policy input');
    stop();
  });
}
