/** Settings, tokens and audit: what goes in comes back, filtered and paged as the site asks. */
import type { Test } from 'tap';
import type { TokenRecord } from '../../../../server/site/repos/tokens.js';
import type { Impl } from './harness.js';

const token = (id: string, over: Partial<TokenRecord> = {}): TokenRecord => ({
  id,
  name: `token ${id}`,
  role: 'client',
  hash: `hash-${id}`,
  createdAt: 1_000,
  revokedAt: null,
  expiresAt: null,
  mediaId: null,
  scope: 'enroll',
  computerId: null,
  ...over,
});

export function settingsContract(t: Test, impl: Impl): void {
  t.test('settings round-trip, are replaced, deleted, and keep any string', async (t) => {
    const { store } = await impl.fresh(t);
    t.equal(await store.settings.get('site'), undefined, 'a missing row is undefined');
    const site = { highRisk: { enabled: true, maxTargets: 50, collections: ['SMS00001'] }, pxe: { enabled: true, responseDelaySeconds: 0, note: null } };
    await store.settings.put('site', site);
    t.same(await store.settings.get('site'), site, 'the value comes back as it went in');
    await store.settings.put('site', { pxe: { enabled: false } });
    t.same(await store.settings.get('site'), { pxe: { enabled: false } }, 'put replaces the whole value');
    const odd = 'scrypt:16384:\u0000nul, "quotes", \\ and ünïcode ✓';
    await store.settings.put('pxe-password', odd);
    t.equal(await store.settings.get('pxe-password'), odd, 'a string with NUL, quotes and non-ASCII survives');
    t.equal(await store.settings.delete('pxe-password'), true, 'delete says it removed the row');
    t.equal(await store.settings.delete('pxe-password'), false, 'and that there was nothing the second time');
    t.equal(await store.settings.get('pxe-password'), undefined);
    await t.rejects(store.settings.put('bad', undefined), /not JSON-serialisable/, 'undefined is not a value');
  });

  t.test('settings: putIfAbsent makes a row once, and every writer gets the value that stayed', async (t) => {
    const { store, another } = await impl.fresh(t);
    const other = await another();
    const answers = await Promise.all([store.settings.putIfAbsent('key', 'a'.repeat(64)), other.settings.putIfAbsent('key', 'b'.repeat(64)), store.settings.putIfAbsent('key', 'c'.repeat(64))]);
    const kept = await store.settings.get('key');
    t.ok(['a'.repeat(64), 'b'.repeat(64)].includes(kept as string), 'one of the first writers made the row');
    t.same(answers, [kept, kept, kept], 'all of them were told the value that stayed');
    await store.settings.put('key', { replaced: true });
    t.same(await store.settings.putIfAbsent('key', 'd'), { replaced: true }, 'an existing row is returned as it is');
    t.equal(
      await store.transaction(async (tx) => tx.settings.putIfAbsent('other', 'x')),
      'x',
      'inside a transaction too',
    );
    await t.rejects(store.transaction(async (tx) => {
      await tx.settings.putIfAbsent('gone', 'y');
      throw new Error('boom');
    }), /boom/);
    t.equal(await store.settings.get('gone'), undefined, 'and it rolls back with it');
  });
}

export function tokenContract(t: Test, impl: Impl): void {
  t.test('tokens: create, look up by hash and id, list, revoke once, count the active', async (t) => {
    const { store } = await impl.fresh(t);
    const admin = token('t1', { role: 'admin', scope: null, createdAt: 500 });
    const media = token('t3', { scope: 'media', mediaId: 'PSM00001', expiresAt: 9_000, createdAt: 2_000 });
    const pc = token('t2', { scope: 'computer', computerId: '16777220', createdAt: 2_000 });
    for (const x of [admin, media, pc]) await store.tokens.insert(x);
    t.same(await store.tokens.byHash('hash-t3'), media, 'every field comes back, nulls included');
    t.same(await store.tokens.byId('t2'), pc);
    t.equal(await store.tokens.byHash('nope'), null, 'an unknown hash finds nothing');
    t.same((await store.tokens.list()).map((x) => x.id), ['t1', 't2', 't3'], 'listed by creation time, then id');
    await t.rejects(store.tokens.insert(token('t4', { hash: 'hash-t1' })), 'a second token with the same hash is refused');
    t.equal(await store.tokens.byId('t4'), null, 'and nothing of it was stored');

    await store.tokens.insert(token('t5', { mediaId: 'PSM00001', scope: 'media', createdAt: 3_000 }));
    t.equal((await store.tokens.newestForMedia('PSM00001'))?.id, 't5', "the media's newest token");
    t.equal(await store.tokens.newestForMedia('PSM99999'), null);

    t.equal(await store.tokens.countActive('admin'), 1);
    t.equal(await store.tokens.revoke('t1', 7_000), true, 'an active token is revoked');
    t.equal(await store.tokens.revoke('t1', 8_000), false, 'a revoked one is not revoked again');
    t.equal(await store.tokens.revoke('t99', 8_000), false, 'an unknown one is not found');
    t.equal((await store.tokens.byId('t1'))?.revokedAt, 7_000, 'the first revocation time stays');
    t.equal(await store.tokens.countActive('admin'), 0, 'no active admin token is left');
    t.equal(await store.tokens.countActive('client'), 3);
  });
}

export function auditContract(t: Test, impl: Impl): void {
  t.test('audit: appended in order, paged newest first, filtered by target, action and actor', async (t) => {
    const { store } = await impl.fresh(t);
    const seqs: number[] = [];
    for (let i = 1; i <= 25; i++) {
      seqs.push(
        await store.audit.append({
          at: 1_000 + i,
          actor: i % 5 === 0 ? 'alice' : 'bob',
          action: i % 2 ? 'deployment.created' : 'token.revoked',
          target: i % 3 ? `PS1000${i % 3}` : 'site',
          message: `event ${i}`,
          details: { i, nested: { list: [1, 'two', null], note: i === 7 ? 'NUL\u0000 in details' : 'plain' } },
        }),
      );
    }
    t.ok(
      seqs.every((s, i) => i === 0 || s > (seqs[i - 1] as number)),
      'each append gets a larger seq',
    );
    const first = await store.audit.page({}, { offset: 0, limit: 10 });
    t.equal(first.total, 25);
    t.same(first.items.map((r) => r.message), Array.from({ length: 10 }, (_, i) => `event ${25 - i}`), 'newest first');
    t.match(first, { offset: 0, limit: 10 });
    const last = await store.audit.page({}, { offset: 20, limit: 10 });
    t.same(last.items.map((r) => r.message), ['event 5', 'event 4', 'event 3', 'event 2', 'event 1'], 'the last page is short');
    t.same((await store.audit.page({}, { offset: 30, limit: 10 })).items, [], 'past the end: no items, total still known');
    const seven = (await store.audit.page({}, { offset: 18, limit: 1 })).items[0];
    t.same(seven, { seq: seqs[6], at: 1_007, actor: 'bob', action: 'deployment.created', target: 'PS10001', message: 'event 7', details: { i: 7, nested: { list: [1, 'two', null], note: 'NUL\u0000 in details' } } }, 'a record round-trips whole');

    const site = await store.audit.page({ target: 'site' }, { offset: 0, limit: 100 });
    t.same(site.items.map((r) => r.message), ['event 24', 'event 21', 'event 18', 'event 15', 'event 12', 'event 9', 'event 6', 'event 3'], 'by target');
    t.equal(site.total, 8);
    const both = await store.audit.page({ target: 'site', action: 'deployment.created' }, { offset: 1, limit: 2 });
    t.same([both.total, both.items.map((r) => r.message)], [4, ['event 15', 'event 9']], 'target and action together, paged');
    const alice = await store.audit.page({ actor: 'alice', action: 'token.revoked' }, { offset: 0, limit: 100 });
    t.same(alice.items.map((r) => r.message), ['event 20', 'event 10'], 'by actor and action');
    t.equal((await store.audit.page({ target: 'PS1%' }, { offset: 0, limit: 100 })).total, 0, 'filters match exactly, not as patterns');
    await t.rejects(store.audit.page({}, { offset: -1, limit: 10 }), RangeError, 'a negative offset is refused');
  });
}
