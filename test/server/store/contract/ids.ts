/** IdRepo contract: one id space across kinds, monotonic, given back by a rollback, never shared between connections. */
import type { Test } from 'tap';
import { ID_KINDS, type IdKind } from '../../../../server/site/repos/ids.js';
import type { SiteStore } from '../../../../server/site/repos/store.js';
import type { Impl } from './harness.js';

/** Half the allocations in a transaction of their own, half bare: both paths take the counter row. */
const allocate = (store: SiteStore, i: number): Promise<number> => {
  const kind = ID_KINDS[i % ID_KINDS.length] as IdKind;
  return i % 2 ? store.ids.next(kind) : store.transaction((tx) => tx.ids.next(kind));
};

/** The numbers are distinct and, with nothing rolled back, exactly `from`..`from + n - 1`. */
export function checkContiguous(t: Test, all: readonly number[], from: number, what: string): void {
  const sorted = [...all].sort((a, b) => a - b);
  t.equal(new Set(all).size, all.length, `${what}: no number was handed out twice`);
  t.same(sorted, Array.from({ length: all.length }, (_, i) => from + i), `${what}: no gaps, nothing skipped`);
}

export function idContract(t: Test, impl: Impl, concurrent: (t: Test) => Promise<void>): void {
  t.test('one id space across kinds, strictly increasing', async (t) => {
    const { store } = await impl.fresh(t);
    const got: number[] = [];
    for (let round = 0; round < 3; round++) for (const kind of ID_KINDS) got.push(await store.ids.next(kind));
    t.equal(got[0], 1, 'a new site starts at 1');
    t.ok(
      got.every((n, i) => i === 0 || n > (got[i - 1] as number)),
      'each number is greater than the one before, whatever the kind',
    );
    checkContiguous(t, got, 1, 'three rounds over every kind');
    await t.rejects(store.ids.next('widget' as IdKind), /unknown id kind "widget"/, 'an unknown kind is refused');
    t.equal(await store.ids.next('token'), 31, 'the refusal spent nothing');
  });

  t.test('a rollback gives its numbers back; a commit keeps them', async (t) => {
    const { store } = await impl.fresh(t);
    const before = await store.ids.next('deployment');
    let inside: number[] = [];
    await t.rejects(
      store.transaction(async (tx) => {
        inside = [await tx.ids.next('deployment'), await tx.ids.next('collection')];
        throw new Error('refused by policy');
      }),
      /refused by policy/,
    );
    t.same(inside, [before + 1, before + 2], 'numbers were handed out inside the transaction');
    const kept = await store.transaction(async (tx) => tx.ids.next('deployment'));
    t.equal(kept, before + 1, 'the rolled-back numbers are handed out again: no gap');
    t.equal(await store.ids.next('media'), kept + 1);
  });

  t.test('the id space starts above every per-kind counter an older version kept', async (t) => {
    const { store, sql } = await impl.fresh(t);
    await sql('INSERT INTO counters (name, value) VALUES (?, ?), (?, ?)', ['token', 41, 'computer', 7]);
    t.equal(await store.ids.next('folder'), 42, 'above t41, the highest older number');
    t.equal(await store.ids.next('token'), 43, 'then one more each time');
  });

  t.test('two connections never hand out the same number', concurrent);
}

/** PostgreSQL: two pools on one database, 200 allocations each, all in flight at once. */
export function twoPools(impl: Impl): (t: Test) => Promise<void> {
  return async (t) => {
    const { store, another } = await impl.fresh(t);
    const second = await another();
    const [a, b] = await Promise.all([Promise.all(Array.from({ length: 200 }, (_, i) => allocate(store, i))), Promise.all(Array.from({ length: 200 }, (_, i) => allocate(second, i)))]);
    checkContiguous(t, [...a, ...b], 1, '400 allocations from two pools');
    t.equal(await store.ids.next('token'), 401, 'the counter ends where the allocations did');
  };
}
