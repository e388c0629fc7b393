/**
 * Computers (with their MACs) and collections: round trips with hidden variables sealed at rest,
 * uniqueness refused with the repositories' own errors and nothing stored, lookups, paging, and
 * all or nothing inside `store.transaction`. On SQLite also: the repositories and today's site
 * code (docs.ts `putDoc`, `getDoc`) read each other's rows.
 */
import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import type { Collection } from '../../../../policy/collections.js';
import type { Computer } from '../../../../policy/computers.js';
import { CollectionNameTaken } from '../../../../server/site/repos/collections.js';
import { ComputerIdentityTaken } from '../../../../server/site/repos/computers.js';
import type { SiteStore } from '../../../../server/site/repos/store.js';
import { onCommittedChanges, type StoreChange } from '../../../../server/store/change-journal.js';
import { docsAfter, getDoc, putDoc } from '../../../../server/store/docs.js';
import type { PgSiteStore } from '../../../../server/store/postgres/store.js';
import { bindSecrets } from '../../../../server/store/secrets/binding.js';
import { SecretCipher } from '../../../../server/store/secrets/cipher.js';
import type { SqliteSiteStore } from '../../../../server/store/sqlite/store.js';
import type { Impl } from './harness.js';

const SECRET = 'Hidden ✓ "quoted" \\ value';
const MAC = ['00:11:22:33:44:01', '00:11:22:33:44:02', '00:11:22:33:44:03', '00:11:22:33:44:04'] as const;
const UUID = ['4c4c4544-0000-1000-8000-000000000001', '4c4c4544-0000-1000-8000-000000000002'] as const;

const computer = (id: string, over: Partial<Computer> = {}): Computer => ({
  id,
  name: `PC-${id}`,
  macAddresses: [],
  smbiosUuid: null,
  architecture: 'x64',
  isSiteSystem: false,
  isServer: false,
  unknownArchitecture: null,
  variables: [],
  ...over,
});

const collection = (id: string, over: Partial<Collection> = {}): Collection => ({
  id,
  name: `Collection ${id}`,
  description: '',
  builtIn: null,
  limitingCollectionId: 'SMS00001',
  directMemberIds: [],
  includeCollectionIds: [],
  excludeCollectionIds: [],
  variables: [],
  variablePrecedence: 1,
  ...over,
});

const hidden = [
  { name: 'OSDJoinPassword', value: SECRET, hidden: true },
  { name: 'OSDComputerName', value: 'PC01', hidden: false },
];

/** What the store seals documents through: the SQLite connection, or the PostgreSQL pool. */
const holderOf = (store: SiteStore): object => (store.kind === 'sqlite' ? (store as SqliteSiteStore).db : (store as PgSiteStore).pool);

/** Binds a fresh key to the store, as the site does when it opens its database. */
function withKey(store: SiteStore): void {
  bindSecrets(holderOf(store), {
    cipher: new SecretCipher(randomBytes(32), 'the test key'),
    onUnreadable: (what) => {
      throw new Error(`unexpected unreadable secret: ${what}`);
    },
  });
}

/** Rows as they are on disk, past the repository. */
async function raw(store: SiteStore, sql: string, ...args: unknown[]): Promise<Record<string, unknown>[]> {
  if (store.kind === 'sqlite') return (store as SqliteSiteStore).db.prepare(sql).all(...args) as Record<string, unknown>[];
  let i = 0;
  return (await (store as PgSiteStore).pool.query<Record<string, unknown>>(sql.replace(/\?/g, () => `$${++i}`), args)).rows;
}

/** The error a promise rejects with (fails the test when it resolves). */
async function refusal(t: Test, p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  t.fail('expected a refusal');
  return undefined;
}

const ids = (xs: readonly { id: string }[]): string[] => xs.map((x) => x.id);

export function computerContract(t: Test, impl: Impl): void {
  t.test('computers: round trip, hidden variables sealed at rest, no key no secret', async (t) => {
    const { store, another } = await impl.fresh(t);
    withKey(store);
    const pc = computer('16777220', { macAddresses: [MAC[0], MAC[1]], smbiosUuid: UUID[0], variables: hidden, isServer: true });
    t.equal(await store.computers.get(pc.id), null, 'nothing before the put');
    await store.computers.put(pc, 1_000);
    t.same(await store.computers.get(pc.id), pc, 'read back whole, the hidden value opened');

    const [row] = await raw(store, 'SELECT * FROM computers WHERE id = ?', pc.id);
    t.match(row, { name: pc.name, smbios_uuid: UUID[0], architecture: 'x64', created_at: 1_000 }, 'the columns beside the document');
    const doc = String(row?.doc);
    t.notOk(doc.includes(SECRET), 'the hidden value is not in the stored row');
    t.ok(doc.includes('"enc:v1:'), 'it is sealed');
    t.ok(doc.includes('PC01'), 'a visible variable stays as it is');
    t.same((await raw(store, 'SELECT mac FROM computer_macs WHERE computer_id = ? ORDER BY mac', pc.id)).map((r) => r.mac), [MAC[0], MAC[1]], 'its MACs have rows of their own');

    await store.computers.put(pc, 2_000);
    t.same(await store.computers.get(pc.id), pc, 'a document put again is sealed once, not twice');

    const unkeyed = await another();
    await t.rejects(unkeyed.computers.get(pc.id), /no secret key is loaded/, 'a sealed document is not read without the key');
    const e = await refusal(t, unkeyed.computers.put(computer('16777221', { macAddresses: [MAC[2]], variables: hidden }), 1));
    t.match(e, { name: 'SecretError', code: 'no-key' }, 'a secret is never stored in the clear');
    t.equal(await store.computers.get('16777221'), null, 'and nothing of it was stored');
    t.equal(await store.computers.byMac(MAC[2]), null, 'not even its MAC');
    await unkeyed.computers.put(computer('16777222', { macAddresses: [MAC[3]] }), 1);
    t.same(await unkeyed.computers.byMac(MAC[3]), computer('16777222', { macAddresses: [MAC[3]] }), 'documents without secrets need no key');
  });

  t.test('computers: a MAC or UUID another computer holds is refused, and nothing is stored', async (t) => {
    const { store } = await impl.fresh(t);
    const a = computer('16777220', { macAddresses: [MAC[0], MAC[1]], smbiosUuid: UUID[0] });
    await store.computers.put(a, 1_000);

    const b = computer('16777221', { macAddresses: [MAC[2], MAC[1]] });
    const e = await refusal(t, store.computers.put(b, 2_000));
    t.ok(e instanceof ComputerIdentityTaken, 'refused with ComputerIdentityTaken');
    t.match(e, { field: 'macAddresses', value: MAC[1], heldBy: a.id, message: /already has the MAC address 00:11:22:33:44:02/ }, 'naming the MAC and who holds it');
    t.equal(await store.computers.get(b.id), null, 'the computer was not stored');
    t.equal(await store.computers.byMac(MAC[2]), null, 'nor its other MAC');
    t.equal((await store.computers.byMac(MAC[1]))?.id, a.id, 'the MAC stays with its holder');

    const u = await refusal(t, store.computers.put(computer('16777222', { smbiosUuid: UUID[0] }), 2_000));
    t.ok(u instanceof ComputerIdentityTaken);
    t.match(u, { field: 'smbiosUuid', value: UUID[0], heldBy: a.id }, 'a UUID is unique too');
    t.equal(await store.computers.count(), 1);

    await store.computers.put({ ...a, name: 'renamed' }, 9_000);
    t.equal((await store.computers.get(a.id))?.name, 'renamed', 'a computer may keep its own MACs and UUID');

    // Inside a transaction a refusal leaves the transaction usable (no SQL error aborted it).
    const after = await store.transaction(async (tx) => {
      await t.rejects(tx.computers.put(b, 2_000), ComputerIdentityTaken);
      await tx.computers.put(computer('16777223', { macAddresses: [MAC[3]] }), 3_000);
      return tx.computers.count();
    });
    t.equal(after, 2, 'the transaction went on and committed');
    t.equal((await store.computers.byMac(MAC[3]))?.id, '16777223');
  });

  t.test('computers: found by MAC and UUID; a put replaces the MACs; delete removes them', async (t) => {
    const { store } = await impl.fresh(t);
    const a = computer('16777220', { macAddresses: [MAC[0], MAC[1]], smbiosUuid: UUID[0] });
    await store.computers.put(a, 1_000);
    t.same(await store.computers.byMac(MAC[1]), a, 'by either MAC');
    t.same(await store.computers.byUuid(UUID[0]), a, 'by UUID');
    t.equal(await store.computers.byMac(MAC[2]), null, 'an unknown MAC finds nothing');
    t.equal(await store.computers.byUuid(UUID[1]), null, 'an unknown UUID finds nothing');
    t.same(await store.computers.existing([a.id, 'nope', a.id]), new Set([a.id]), 'which of the ids exist');
    t.same(await store.computers.existing([]), new Set());

    const moved = { ...a, macAddresses: [MAC[1], MAC[2]], smbiosUuid: UUID[1] };
    await store.computers.put(moved, 5_000);
    t.equal(await store.computers.byMac(MAC[0]), null, 'a MAC left out is released');
    t.same(await store.computers.byMac(MAC[2]), moved, 'a new one is found');
    t.equal(await store.computers.byUuid(UUID[0]), null, 'the old UUID is released');
    t.same(await store.computers.byUuid(UUID[1]), moved);
    await store.computers.put(computer('16777221', { macAddresses: [MAC[0]], smbiosUuid: UUID[0] }), 6_000);
    t.equal((await store.computers.byMac(MAC[0]))?.id, '16777221', 'another computer can take what was released');

    t.equal(await store.computers.delete(a.id), true, 'delete says it removed the computer');
    t.equal(await store.computers.delete(a.id), false, 'and that there was nothing the second time');
    t.equal(await store.computers.get(a.id), null);
    t.equal(await store.computers.byMac(MAC[2]), null, 'its MACs went with it');
    t.same(await raw(store, 'SELECT mac FROM computer_macs WHERE computer_id = ?', a.id), [], 'no MAC row is left');
    await store.computers.put(computer('16777222', { macAddresses: [MAC[1], MAC[2]] }), 7_000);
    t.equal((await store.computers.byMac(MAC[1]))?.id, '16777222', 'and they are free again');
  });

  t.test('computers: paged by creation time, filtered, counted, read whole in id order', async (t) => {
    const { store } = await impl.fresh(t);
    const pcs = [
      computer('16777224', { name: 'LAB-01', macAddresses: [MAC[0]] }),
      computer('16777221', { name: 'lab-02', macAddresses: [MAC[1]] }),
      computer('16777223', { name: 'Office 100%', smbiosUuid: UUID[0] }),
      computer('16777222', { name: 'Office 1000', macAddresses: [MAC[2]] }),
      computer('unknown-x64', { name: 'x64 Unknown Computer', unknownArchitecture: 'x64' }),
    ];
    const created = [3_000, 1_000, 2_000, 2_000, 500];
    for (const [i, pc] of pcs.entries()) await store.computers.put(pc, created[i]!);
    // Edited later: keeps its creation time, so it does not move.
    await store.computers.put({ ...pcs[0]!, isServer: true }, 99_000);

    const all = await store.computers.page({}, { offset: 0, limit: 100 });
    t.same(ids(all.items), ['unknown-x64', '16777221', '16777222', '16777223', '16777224'], 'oldest first, then by id');
    t.equal(all.total, 5);
    t.equal(all.items[4]?.isServer, true, 'the edited document is the new one');
    const second = await store.computers.page({}, { offset: 2, limit: 2 });
    t.same(ids(second.items), ['16777222', '16777223'], 'offset and limit');
    t.match(second, { total: 5, offset: 2, limit: 2 });
    t.same((await store.computers.page({}, { offset: 10, limit: 2 })).items, [], 'past the end is empty');

    t.same(ids((await store.computers.page({ name: 'LAB' }, { offset: 0, limit: 100 })).items), ['16777221', '16777224'], 'a name filter is a case-insensitive substring');
    const pct = await store.computers.page({ name: '100%' }, { offset: 0, limit: 100 });
    t.same(ids(pct.items), ['16777223'], 'a % in the filter is matched literally');
    t.equal(pct.total, 1, 'and the total counts the filtered rows');
    t.same(ids((await store.computers.page({ mac: MAC[2] }, { offset: 0, limit: 100 })).items), ['16777222'], 'filtered by MAC');
    t.same(ids((await store.computers.page({ smbiosUuid: UUID[0], name: 'office' }, { offset: 0, limit: 100 })).items), ['16777223'], 'by UUID and name together');
    t.equal((await store.computers.page({ mac: MAC[3] }, { offset: 0, limit: 100 })).total, 0);
    await t.rejects(store.computers.page({}, { offset: -1, limit: 10 }), RangeError, 'a negative offset is refused');

    t.equal(await store.computers.count(), 5);
    t.same(ids(await store.computers.after('', 2)), ['16777221', '16777222'], 'after: id order, bytewise');
    t.same(ids(await store.computers.after('16777222', 2)), ['16777223', '16777224']);
    t.same(ids(await store.computers.after('16777224', 2)), ['unknown-x64']);
    t.same(await store.computers.after('unknown-x64', 2), [], 'the end');
  });

  t.test('computers: a transaction that throws leaves no computer and no MAC behind', async (t) => {
    const { store } = await impl.fresh(t);
    const kept = computer('16777220', { macAddresses: [MAC[0]] });
    await store.computers.put(kept, 1_000);
    const boom = new Error('boom');
    await t.rejects(
      store.transaction(async (tx) => {
        await tx.computers.put(computer('16777221', { macAddresses: [MAC[1]] }), 2_000);
        await tx.computers.put({ ...kept, macAddresses: [MAC[2]] }, 2_000);
        await tx.collections.put(collection('PS100011', { directMemberIds: ['16777221'] }));
        t.equal((await tx.computers.byMac(MAC[1]))?.id, '16777221', 'inside, the transaction sees its own writes');
        t.equal(await tx.computers.delete(kept.id), true);
        throw boom;
      }),
      boom,
    );
    t.equal(await store.computers.get('16777221'), null, 'the new computer is gone');
    t.equal(await store.computers.byMac(MAC[1]), null, 'and its MAC');
    t.same(await store.computers.byMac(MAC[0]), kept, 'the deleted and changed one is back as it was');
    t.equal(await store.computers.byMac(MAC[2]), null);
    t.equal(await store.collections.get('PS100011'), null, 'the collection written beside them too');

    await store.transaction(async (tx) => {
      await tx.computers.put(computer('16777221', { macAddresses: [MAC[1]] }), 2_000);
      await tx.collections.put(collection('PS100011', { directMemberIds: ['16777221'] }));
    });
    t.equal((await store.computers.byMac(MAC[1]))?.id, '16777221', 'a commit makes them visible');
    t.same((await store.collections.get('PS100011'))?.directMemberIds, ['16777221']);
  });
}

export function collectionContract(t: Test, impl: Impl): void {
  t.test('collections: round trip, hidden variables sealed at rest, by name, listed by id, deleted', async (t) => {
    const { store, another } = await impl.fresh(t);
    withKey(store);
    const c = collection('PS100012', { name: 'Lab', description: 'the lab', variables: hidden, variablePrecedence: 7, directMemberIds: ['16777220'] });
    await store.collections.put(c);
    t.same(await store.collections.get(c.id), c, 'read back whole, the hidden value opened');
    const [row] = await raw(store, 'SELECT * FROM collections WHERE id = ?', c.id);
    t.equal(row?.name, 'Lab', 'the name column');
    t.notOk(String(row?.doc).includes(SECRET), 'the hidden value is not in the stored row');
    t.ok(String(row?.doc).includes('"enc:v1:'), 'it is sealed');
    t.same(await store.collections.byName('Lab'), c, 'found by name');
    t.equal(await store.collections.byName('lab'), null, 'names match exactly');

    const unkeyed = await another();
    await t.rejects(unkeyed.collections.get(c.id), /no secret key is loaded/, 'not read without the key');
    await t.rejects(unkeyed.collections.put(collection('PS100013', { variables: hidden })), /no secret key is loaded/, 'nor stored');
    t.equal(await store.collections.get('PS100013'), null);

    const all = [collection('SMS00001', { name: 'All Systems', builtIn: 'allSystems' }), collection('PS100011'), collection('SMS000US', { name: 'All Unknown Computers' })];
    for (const x of all) await store.collections.put(x);
    t.same(ids(await store.collections.list()), ['PS100011', 'PS100012', 'SMS00001', 'SMS000US'], 'listed in id order');

    await store.collections.put({ ...c, name: 'Lab 2' });
    t.equal(await store.collections.byName('Lab'), null, 'a rename frees the old name');
    t.equal((await store.collections.byName('Lab 2'))?.id, c.id);
    t.equal(await store.collections.delete(c.id), true, 'delete says it removed the row');
    t.equal(await store.collections.delete(c.id), false, 'and that there was nothing the second time');
    t.equal(await store.collections.get(c.id), null);
  });

  t.test('collections: a name another collection has is refused, and nothing is stored', async (t) => {
    const { store } = await impl.fresh(t);
    await store.collections.put(collection('PS100011', { name: 'Servers' }));
    const e = await refusal(t, store.collections.put(collection('PS100012', { name: 'Servers' })));
    t.ok(e instanceof CollectionNameTaken, 'refused with CollectionNameTaken');
    t.match(e, { field: 'name', collectionName: 'Servers', heldBy: 'PS100011', message: 'a collection named Servers already exists' });
    t.equal(await store.collections.get('PS100012'), null, 'nothing was stored');
    await store.collections.put(collection('PS100012', { name: 'servers' }));
    t.equal((await store.collections.byName('servers'))?.id, 'PS100012', 'names differing in case are different names');

    const n = await store.transaction(async (tx) => {
      await t.rejects(tx.collections.put(collection('PS100013', { name: 'Servers' })), CollectionNameTaken);
      await tx.collections.put(collection('PS100014'));
      return (await tx.collections.list()).length;
    });
    t.equal(n, 3, 'inside a transaction a refusal leaves it usable');
    await t.rejects(
      store.transaction(async (tx) => {
        await tx.collections.put(collection('PS100015'));
        await tx.collections.delete('PS100011');
        throw new Error('boom');
      }),
      /boom/,
    );
    t.same(ids(await store.collections.list()), ['PS100011', 'PS100012', 'PS100014'], 'a rollback undoes puts and deletes');
  });
}

/** SQLite only: the repositories and today's site code (docs.ts) read each other's rows. */
export function policyRecordsSqliteOnly(t: Test, impl: Impl): void {
  t.test('computers and collections: the repositories read what the site code wrote, and the reverse', async (t) => {
    const { store } = await impl.fresh(t);
    withKey(store);
    const db = (store as SqliteSiteStore).db;
    const changes: StoreChange[] = [];
    onCommittedChanges(db, (c) => changes.push(...c));

    // As server/site/computers.ts and collections.ts store them today.
    const old = computer('16777220', { macAddresses: [MAC[0], MAC[1]], smbiosUuid: UUID[0], variables: hidden });
    putDoc(db, 'computers', old.id, { name: old.name, smbios_uuid: old.smbiosUuid, architecture: old.architecture, created_at: 1_000 }, old);
    for (const mac of old.macAddresses) db.prepare('INSERT INTO computer_macs (mac, computer_id) VALUES (?, ?)').run(mac, old.id);
    const oldCol = collection('PS100011', { name: 'Lab', variables: hidden });
    putDoc(db, 'collections', oldCol.id, { name: oldCol.name }, oldCol);

    t.same(await store.computers.get(old.id), old, "the repository reads the site's computer, secret opened");
    t.same(await store.computers.byMac(MAC[1]), old, 'and finds it by its MAC');
    t.same(await store.computers.byUuid(UUID[0]), old);
    t.same(await store.collections.byName('Lab'), oldCol, "and reads the site's collection");
    const refused = await refusal(t, store.computers.put(computer('16777221', { macAddresses: [MAC[0]] }), 2_000));
    t.ok(refused instanceof ComputerIdentityTaken, "a MAC the site code stored is held against the repository's puts");

    changes.length = 0;
    const pc = computer('16777221', { macAddresses: [MAC[2]], variables: hidden });
    await store.computers.put(pc, 2_000);
    await store.computers.put({ ...old, name: 'renamed' }, 9_000);
    const col = collection('PS100012', { name: 'Servers', variables: hidden });
    await store.collections.put(col);
    t.same(getDoc(db, 'computers', pc.id), pc, "the site's getDoc reads the repository's computer, secret opened");
    t.same(getDoc(db, 'collections', col.id), col, "and the repository's collection");
    t.same(ids(docsAfter<Computer>(db, 'computers', '', 10)), [old.id, pc.id], "the policy state's paged read sees both");
    t.same(db.prepare('SELECT created_at FROM computers WHERE id = ?').get(old.id), { created_at: 1_000 }, 'a put keeps the creation time the site gave');
    t.same(db.prepare('SELECT computer_id FROM computer_macs WHERE mac = ?').get(MAC[2]), { computer_id: pc.id }, 'MAC rows as the site writes them');

    await store.computers.delete(pc.id);
    await store.collections.delete(oldCol.id);
    await new Promise((r) => setImmediate(r));
    const seen = changes.map((c) => (c.kind === 'doc' ? `${c.table} ${c.id}` : c.kind));
    t.same(
      [...new Set(seen)].sort(),
      ['collections PS100011', 'collections PS100012', 'computers 16777220', 'computers 16777221'],
      'the policy state is told of every put and delete, as with the site code',
    );
  });
}
