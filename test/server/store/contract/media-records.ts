/**
 * Boot media records and import links: round trips, replace and delete, listing
 * order, all or nothing inside `store.transaction`, and rows in the shape earlier versions wrote
 * (SQLite migrations 3 and 4) read as they are.
 */
import type { Test } from 'tap';
import type { ImportLink } from '../../../../server/site/repos/import-links.js';
import type { MediaRecord } from '../../../../server/site/repos/media.js';
import type { Impl } from './harness.js';

const media = (id: string, over: Partial<MediaRecord> = {}): MediaRecord => ({
  id,
  type: 'standalone',
  format: 'iso',
  state: 'building',
  protected: true,
  siteUrl: 'http://192.0.2.10:8080',
  architecture: 'x64',
  mediaForm: 'usb',
  bootImageId: 'PS100001',
  deploymentId: 'PS120001',
  preferred: 'PS120001',
  allowUnattended: true,
  variableNames: ['OSDComputerName', 'Ünïcode "quoted"'],
  tokenId: 't7',
  createdAt: 2_000,
  expiresAt: 90_000,
  createdBy: 'technician:ann',
  error: null,
  output: null,
  ...over,
});

const link = (originId: string, over: Partial<ImportLink> = {}): ImportLink => ({ originSite: 'XY1', originId, type: 'taskSequence', localId: `PS1${originId}`, ...over });

const byOrigin = (xs: readonly ImportLink[]): ImportLink[] => [...xs].sort((a, b) => (a.originId < b.originId ? -1 : 1));

export function mediaContract(t: Test, impl: Impl): void {
  t.test('media: insert, read back whole, update, list oldest first, delete', async (t) => {
    const { store } = await impl.fresh(t);
    t.equal(await store.media.get('PS1M00001'), null, 'nothing before the insert');
    const a = media('PS1M00002');
    await store.media.insert(a);
    t.same(await store.media.get(a.id), a, 'every field comes back, nulls and arrays included');
    await t.rejects(store.media.insert({ ...a, type: 'bootable' }), 'a second record with the id is refused');
    t.same(await store.media.get(a.id), a, 'and the first one is untouched');

    const ready: MediaRecord = { ...a, state: 'ready', output: { name: `${a.id}.iso`, size: 123_456_789_012, sha256: 'a'.repeat(64), files: 42 } };
    t.equal(await store.media.update(ready), true, 'an update of a stored record says so');
    t.same(await store.media.get(a.id), ready, 'the state and output are stored');
    t.equal(await store.media.update(media('PS1M00099')), false, 'updating an unknown record stores nothing');
    t.equal(await store.media.get('PS1M00099'), null);

    await store.media.insert(media('PS1M00001', { createdAt: 2_000, expiresAt: null, tokenId: null, deploymentId: null, preferred: null }));
    await store.media.insert(media('PS1M00003', { createdAt: 1_000, type: 'bootable', format: 'folder' }));
    t.same((await store.media.list()).map((r) => r.id), ['PS1M00003', 'PS1M00001', 'PS1M00002'], 'by creation time, then id');

    t.equal(await store.media.delete(a.id), true, 'delete says it removed the record');
    t.equal(await store.media.delete(a.id), false, 'and that there was nothing the second time');
    t.same((await store.media.list()).map((r) => r.id), ['PS1M00003', 'PS1M00001']);
  });

  t.test('media: a record in the row shape of SQLite migration 4 is read as it is', async (t) => {
    const { store, sql } = await impl.fresh(t);
    const r = media('PS1M00005', { state: 'failed', error: 'xorriso: no space left' });
    await sql('INSERT INTO media (id, type, format, state, token_id, created_at, expires_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [r.id, r.type, r.format, r.state, r.tokenId, r.createdAt, r.expiresAt, JSON.stringify(r)]);
    t.same(await store.media.get(r.id), r);
    t.same(await store.media.list(), [r]);
  });

  t.test('media: a transaction that throws leaves no record behind, and no update', async (t) => {
    const { store } = await impl.fresh(t);
    await store.media.insert(media('PS1M00001'));
    await t.rejects(
      store.transaction(async (tx) => {
        await tx.media.insert(media('PS1M00002'));
        await tx.media.update(media('PS1M00001', { state: 'failed', error: 'boom' }));
        t.equal((await tx.media.get('PS1M00001'))?.state, 'failed', 'inside, the transaction sees its own writes');
        throw new Error('refused later');
      }),
      /refused later/,
    );
    t.equal(await store.media.get('PS1M00002'), null, 'the insert was rolled back');
    t.equal((await store.media.get('PS1M00001'))?.state, 'building', 'so was the update');
  });
}

export function importLinkContract(t: Test, impl: Impl): void {
  t.test('import links: put, get, replace, and many at once by origin', async (t) => {
    const { store } = await impl.fresh(t);
    t.equal(await store.importLinks.get('XY1', 'PS100004'), null, 'nothing before the put');
    const a = link('PS100004');
    await store.importLinks.put(a, 1_000);
    t.same(await store.importLinks.get('XY1', 'PS100004'), a, 'read back whole');
    t.equal(await store.importLinks.get('XY2', 'PS100004'), null, 'keyed by the origin site too');

    const relinked = link('PS100004', { type: 'package', localId: 'PS100020' });
    await store.importLinks.put(relinked, 2_000);
    t.same(await store.importLinks.get('XY1', 'PS100004'), relinked, 'a second put replaces the link');

    await store.importLinks.put(link('PS100005', { type: 'bootImage' }), 3_000);
    await store.importLinks.put(link('PS100006'), 3_000);
    await store.importLinks.put(link('PS100005', { originSite: 'XY2', localId: 'other' }), 3_000);
    const found = await store.importLinks.ofOrigins('XY1', ['PS100005', 'PS100004', 'PS999999', 'PS100005']);
    t.same(byOrigin(found), [relinked, link('PS100005', { type: 'bootImage' })], 'only the links of that site, once each, missing ids left out');
    t.same(await store.importLinks.ofOrigins('XY1', []), [], 'no ids, no links');
    const many = Array.from({ length: 1_500 }, (_, i) => `K${i}`);
    t.equal((await store.importLinks.ofOrigins('XY1', [...many, 'PS100006'])).length, 1, 'a long list goes in one call');
  });

  t.test('import links: rows of SQLite migration 3 are read; a rollback leaves no link', async (t) => {
    const { store, sql } = await impl.fresh(t);
    await sql('INSERT INTO import_links (origin_site, origin_id, type, local_id, imported_at) VALUES (?, ?, ?, ?, ?)', ['XY1', 'PS100007', 'application', 'PS10000A', 500]);
    t.same(await store.importLinks.get('XY1', 'PS100007'), link('PS100007', { type: 'application', localId: 'PS10000A' }));
    await t.rejects(
      store.transaction(async (tx) => {
        await tx.importLinks.put(link('PS100008'), 1_000);
        await tx.importLinks.put(link('PS100007', { localId: 'changed' }), 1_000);
        t.same(await tx.importLinks.ofOrigins('XY1', ['PS100008']), [link('PS100008')], 'inside, the transaction sees its own writes');
        throw new Error('refused later');
      }),
      /refused later/,
    );
    t.equal(await store.importLinks.get('XY1', 'PS100008'), null, 'the new link was rolled back');
    t.equal((await store.importLinks.get('XY1', 'PS100007'))?.localId, 'PS10000A', 'and the replaced one is as it was');
  });
}
