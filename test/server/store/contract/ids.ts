/** IdRepo contract: each kind counts on its own, one id space across kinds, given back by a rollback, never shared between connections. */
import type { Test } from 'tap';
import { ID_KINDS, type IdKind } from '../../../../server/site/repos/ids.js';
import type { SiteStore } from '../../../../server/site/repos/store.js';
import type { Impl } from './harness.js';

/** Collections and packages as the site formats them: their formats overlap (PS100011 is both). */
const collectionId = (n: number): string => `PS1${(0x10 + n).toString(16).toUpperCase().padStart(5, '0')}`;
const packageId = (n: number): string => `PS1${n.toString(16).toUpperCase().padStart(5, '0')}`;

/** Half the claims in a transaction of their own, half bare: both paths take the counter row. */
const claimToken = (store: SiteStore, i: number): Promise<string> => {
  const format = (n: number): string => `t${n}`;
  return i % 2 ? store.ids.claim('token', format) : store.transaction((tx) => tx.ids.claim('token', format));
};

/** The ids are distinct and, with nothing rolled back, exactly t1..tN. */
export function checkTokens(t: Test, all: readonly string[], what: string): void {
  const numbers = all.map((id) => Number(id.slice(1))).sort((a, b) => a - b);
  t.equal(new Set(all).size, all.length, `${what}: no id was handed out twice`);
  t.same(numbers, Array.from({ length: all.length }, (_, i) => 1 + i), `${what}: no gaps, nothing skipped`);
}

export function idContract(t: Test, impl: Impl, concurrent: (t: Test) => Promise<void>): void {
  t.test('each kind counts on its own; an unknown kind is refused', async (t) => {
    const { store } = await impl.fresh(t);
    t.equal(await store.ids.claim('token', (n) => `t${n}`), 't1');
    t.equal(await store.ids.claim('token', (n) => `t${n}`), 't2');
    t.equal(await store.ids.claim('deployment', (n) => `D${n}`), 'D1', 'another kind starts at 1');
    await t.rejects(store.ids.claim('widget' as IdKind, String), /unknown id kind "widget"/, 'an unknown kind is refused');
    t.equal(await store.ids.claim('token', (n) => `t${n}`), 't3', 'the refusal spent nothing');
    t.ok(ID_KINDS.length >= 10, 'every kind the site makes');
  });

  t.test('one id space: a kind whose format overlaps another never gets its ids', async (t) => {
    const { store } = await impl.fresh(t);
    const collections = [await store.ids.claim('collection', collectionId), await store.ids.claim('collection', collectionId)];
    t.same(collections, ['PS100011', 'PS100012']);
    const packages: string[] = [];
    for (let i = 0; i < 20; i++) packages.push(await store.ids.claim('package', packageId));
    t.notOk(packages.some((id) => collections.includes(id)), 'PS100011 and PS100012 were skipped');
    t.equal(packages[16], 'PS100013', 'the package counter stepped over the taken ids');
    t.equal(packages[19], 'PS100016');
    await store.ids.hold('PS100017', 'collection');
    await store.ids.hold('PS100017', 'collection');
    t.equal(await store.ids.claim('package', packageId), 'PS100018', 'held ids are skipped as well; holding twice is harmless');
  });

  t.test('a rollback gives its ids back; a commit keeps them', async (t) => {
    const { store } = await impl.fresh(t);
    const before = await store.ids.claim('deployment', (n) => `D${n}`);
    let inside: string[] = [];
    await t.rejects(
      store.transaction(async (tx) => {
        inside = [await tx.ids.claim('deployment', (n) => `D${n}`), await tx.ids.claim('collection', collectionId)];
        throw new Error('refused by policy');
      }),
      /refused by policy/,
    );
    t.same([before, ...inside], ['D1', 'D2', 'PS100011'], 'ids were handed out inside the transaction');
    t.equal(await store.transaction(async (tx) => tx.ids.claim('deployment', (n) => `D${n}`)), 'D2', 'the rolled-back id is handed out again: no gap');
    t.equal(await store.ids.claim('collection', collectionId), 'PS100011', 'and so is the claim of the other kind');
  });

  t.test('counters an older version kept go on from where they were', async (t) => {
    const { store, sql } = await impl.fresh(t);
    await sql('INSERT INTO counters (name, value) VALUES (?, ?), (?, ?)', ['token', 41, 'computer', 7]);
    t.equal(await store.ids.claim('token', (n) => `t${n}`), 't42');
    t.equal(await store.ids.claim('computer', (n) => String(16777219 + n)), '16777227');
  });

  t.test('two connections never hand out the same id', concurrent);
}

/** PostgreSQL: two pools on one database, 200 claims each, all in flight at once. */
export function twoPools(impl: Impl): (t: Test) => Promise<void> {
  return async (t) => {
    const { store, another } = await impl.fresh(t);
    const second = await another();
    const [a, b] = await Promise.all([Promise.all(Array.from({ length: 200 }, (_, i) => claimToken(store, i))), Promise.all(Array.from({ length: 200 }, (_, i) => claimToken(second, i)))]);
    checkTokens(t, [...a, ...b], '400 claims from two pools');
    t.equal(await store.ids.claim('token', (n) => `t${n}`), 't401', 'the counter ends where the claims did');
  };
}

export { claimToken };
