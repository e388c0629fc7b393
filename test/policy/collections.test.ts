import t from 'tap';
import {
  ALL_SYSTEMS_ID,
  ALL_UNKNOWN_COMPUTERS_ID,
  builtInCollections,
  checkCollectionGraph,
  computeMembership,
  deploymentsFor,
  newCollection,
  unknownComputers,
  type Collection,
  type Computer,
} from '../../policy/index.js';
import { SiteBuilder, collection, computer, policyError } from '../fixtures/site-builder.js';

const UNKNOWN_IDS = ['unknown-arm64', 'unknown-x64', 'unknown-x86'];

/** Five computers pc1..pc5 with distinct MACs. */
const pcs: Computer[] = [1, 2, 3, 4, 5].map((n) => computer(`pc${n}`, { macs: [`00:00:00:00:00:0${n}`] }));

function membersOf(collections: readonly Collection[], computers: readonly Computer[] = pcs): (id: string) => string[] {
  const map = new Map([...builtInCollections(), ...collections].map((c) => [c.id, c]));
  const all = [...unknownComputers(), ...computers];
  checkCollectionGraph(map, (id) => all.some((c) => c.id === id));
  const members = computeMembership(map, all);
  return (id) => [...(members.get(id) ?? [])].sort();
}

function graph(collections: readonly Collection[]): Map<string, Collection> {
  return new Map([...builtInCollections(), ...collections].map((c) => [c.id, c]));
}
const known = (id: string) => pcs.some((c) => c.id === id);

t.test('R-09 a collection holds its direct members, limited by All Systems by default', async (t) => {
  const c = collection('C1', { directMemberIds: ['pc1', 'pc3', 'pc1'] });
  t.equal(c.limitingCollectionId, ALL_SYSTEMS_ID);
  t.same(c.directMemberIds, ['pc1', 'pc3'], 'duplicates dropped');
  t.same(membersOf([c])('C1'), ['pc1', 'pc3']);
});

t.test('R-09 include and exclude collection rules', async (t) => {
  const a = collection('A', { directMemberIds: ['pc1', 'pc2'] });
  const b = collection('B', { directMemberIds: ['pc3'] });
  const inc = collection('INC', { directMemberIds: ['pc4'], includeCollectionIds: ['A', 'B'] });
  const exc = collection('EXC', { includeCollectionIds: ['A', 'B'], excludeCollectionIds: ['B'] });
  const m = membersOf([a, b, inc, exc]);
  t.same(m('INC'), ['pc1', 'pc2', 'pc3', 'pc4']);
  t.same(m('EXC'), ['pc1', 'pc2']);
});

t.test('R-09 exclude wins over include and over a direct member', async (t) => {
  const a = collection('A', { directMemberIds: ['pc1', 'pc2'] });
  const x = collection('X', { directMemberIds: ['pc2', 'pc5'] });
  const c = collection('C', { directMemberIds: ['pc5'], includeCollectionIds: ['A'], excludeCollectionIds: ['X'] });
  t.same(membersOf([a, x, c])('C'), ['pc1']);
});

t.test('R-09 the limiting collection bounds direct and included members', async (t) => {
  const lab = collection('LAB', { directMemberIds: ['pc1', 'pc2', 'pc3'] });
  const other = collection('OTHER', { directMemberIds: ['pc4'] });
  const c = collection('C', { limitingCollectionId: 'LAB', directMemberIds: ['pc2', 'pc5'], includeCollectionIds: ['OTHER'] });
  t.same(membersOf([lab, other, c])('C'), ['pc2']);
  const limitedByUnknown = collection('U', { limitingCollectionId: ALL_UNKNOWN_COMPUTERS_ID, includeCollectionIds: [ALL_SYSTEMS_ID] });
  t.same(membersOf([limitedByUnknown])('U'), UNKNOWN_IDS, 'limited to All Unknown Computers keeps only the unknown objects');
});

t.test('R-09 nested includes are followed transitively', async (t) => {
  const c3 = collection('C3', { directMemberIds: ['pc3'] });
  const c2 = collection('C2', { directMemberIds: ['pc2'], includeCollectionIds: ['C3'] });
  const c1 = collection('C1', { directMemberIds: ['pc1'], includeCollectionIds: ['C2'] });
  // Input order must not matter: the outermost collection comes first here.
  const m = membersOf([c1, c2, c3]);
  t.same(m('C1'), ['pc1', 'pc2', 'pc3']);
  t.same(m('C2'), ['pc2', 'pc3']);
  const excludeNested = collection('E', { includeCollectionIds: [ALL_SYSTEMS_ID], excludeCollectionIds: ['C1', ALL_UNKNOWN_COMPUTERS_ID] });
  t.same(membersOf([c1, c2, c3, excludeNested])('E'), ['pc4', 'pc5']);
});

t.test('R-17 All Systems holds every computer including the three Unknown Computer objects', async (t) => {
  const m = membersOf([]);
  t.same(m(ALL_SYSTEMS_ID), ['pc1', 'pc2', 'pc3', 'pc4', 'pc5', ...UNKNOWN_IDS].sort());
});

t.test('R-17 All Unknown Computers holds exactly the three Unknown Computer objects', async (t) => {
  const m = membersOf([]);
  t.same(m(ALL_UNKNOWN_COMPUTERS_ID), UNKNOWN_IDS);
  const builtIns = builtInCollections();
  t.same(builtIns.map((c) => [c.id, c.name, c.builtIn]), [
    [ALL_SYSTEMS_ID, 'All Systems', 'allSystems'],
    [ALL_UNKNOWN_COMPUTERS_ID, 'All Unknown Computers', 'allUnknownComputers'],
  ]);
  // Direct members given to a built-in do not change its fixed rule.
  const tampered = { ...builtIns[1]!, directMemberIds: ['pc1'] };
  const map = new Map([builtIns[0]!, tampered].map((c) => [c.id, c]));
  t.same([...computeMembership(map, [...unknownComputers(), ...pcs]).get(ALL_UNKNOWN_COMPUTERS_ID)!].sort(), UNKNOWN_IDS);
});

t.test('R-17 the site index lists a computer\'s collections in id order and its deployments each once', async (t) => {
  const b = new SiteBuilder();
  b.computer('pc1', { macs: ['00:00:00:00:00:01'] });
  b.collection('PS100200', { directMemberIds: ['pc1'] });
  b.collection('PS100100', { includeCollectionIds: ['PS100200'] });
  const d1 = b.deploy({ collectionId: 'PS100100' });
  const d2 = b.deploy({ collectionId: 'PS100200', taskSequenceId: 'PS100011' });
  b.deploy({ collectionId: ALL_UNKNOWN_COMPUTERS_ID, taskSequenceId: 'PS100011' });
  const site = b.site();
  t.same(site.collectionsOf.get('pc1'), ['PS100100', 'PS100200', ALL_SYSTEMS_ID]);
  t.same(deploymentsFor(site, 'pc1').map((d) => d.id).sort(), [d1.id, d2.id].sort());
  t.same(deploymentsFor(site, 'nobody'), []);
});

t.test('R-09 newCollection validates its shape', async (t) => {
  t.equal(policyError(() => newCollection('C', { name: '  ' })).field, 'name');
  t.equal(policyError(() => newCollection('C', { name: 'C', variablePrecedence: 0 })).field, 'variablePrecedence');
  t.equal(policyError(() => newCollection('C', { name: 'C', variablePrecedence: 10 })).field, 'variablePrecedence');
  t.equal(policyError(() => newCollection('C', { name: 'C', variablePrecedence: 2.5 })).field, 'variablePrecedence');
  t.equal(policyError(() => newCollection('C', { name: 'C', includeCollectionIds: [''] })).field, 'includeCollectionIds');
  t.equal(policyError(() => newCollection('C', { name: 'C', directMemberIds: 'pc1' as unknown as string[] })).field, 'directMemberIds');
  t.equal(policyError(() => newCollection('C', { name: 'C', variables: [{ name: 'A', value: 1 }] })).field, 'variables[0].value');
  const c = newCollection('C', { name: 'C', limitingCollectionId: null });
  t.equal(c.limitingCollectionId, ALL_SYSTEMS_ID, 'a custom collection is always limited, All Systems by default');
  t.equal(c.variablePrecedence, 1);
  t.equal(c.builtIn, null);
});

t.test('R-09 checkCollectionGraph refuses references to missing collections and computers', async (t) => {
  const cases: [string, Collection, string][] = [
    ['include', collection('C', { includeCollectionIds: ['GONE'] }), 'GONE'],
    ['exclude', collection('C', { excludeCollectionIds: ['GONE'] }), 'GONE'],
    ['limiting', collection('C', { limitingCollectionId: 'GONE' }), 'GONE'],
  ];
  for (const [how, c, missing] of cases) {
    const e = policyError(() => checkCollectionGraph(graph([c]), known));
    t.equal(e.code, 'not-found', how);
    t.match(e.message, `missing collection ${missing}`);
    t.equal(e.field, 'collectionId');
  }
  const e = policyError(() => checkCollectionGraph(graph([collection('C', { directMemberIds: ['pc1', 'ghost'] })]), known));
  t.equal(e.code, 'not-found');
  t.match(e.message, 'missing computer ghost');
  t.equal(e.field, 'directMemberIds');
  t.doesNotThrow(() => checkCollectionGraph(graph([collection('C', { directMemberIds: ['pc1'] })]), known));
});

t.test('R-09 checkCollectionGraph refuses cycles through include, exclude or limiting rules, naming the cycle', async (t) => {
  const cases: [string, Collection[], RegExp][] = [
    ['self include', [collection('A', { includeCollectionIds: ['A'] })], /cycle: A → A$/],
    ['include', [collection('A', { includeCollectionIds: ['B'] }), collection('B', { includeCollectionIds: ['A'] })], /cycle: A → B → A$/],
    ['exclude', [collection('A', { excludeCollectionIds: ['B'] }), collection('B', { includeCollectionIds: ['A'] })], /cycle: A → B → A$/],
    ['limiting', [collection('A', { limitingCollectionId: 'B' }), collection('B', { limitingCollectionId: 'C' }), collection('C', { excludeCollectionIds: ['A'] })], /cycle: A → B → C → A$/],
  ];
  for (const [how, cols, message] of cases) {
    const e = policyError(() => checkCollectionGraph(graph(cols), known));
    t.equal(e.code, 'conflict', how);
    t.match(e.message, message, how);
  }
});

t.test('R-09 a cycle reached from outside it is named without the collections leading to it', async (t) => {
  // OUT is checked first and depends on the cycle A ⇄ B without being part of it.
  const cols = [collection('OUT', { includeCollectionIds: ['A'] }), collection('A', { includeCollectionIds: ['B'] }), collection('B', { includeCollectionIds: ['A'] })];
  const e = policyError(() => checkCollectionGraph(graph(cols), known));
  t.equal(e.code, 'conflict');
  t.match(e.message, /cycle: A → B → A$/);
  t.notMatch(e.message, 'OUT');
});

t.test('R-09 a diamond of includes is not a cycle', async (t) => {
  const cols = [
    collection('TOP', { includeCollectionIds: ['L', 'R'] }),
    collection('L', { includeCollectionIds: ['BASE'] }),
    collection('R', { includeCollectionIds: ['BASE'], excludeCollectionIds: ['X'] }),
    collection('BASE', { directMemberIds: ['pc1', 'pc2'] }),
    collection('X', { directMemberIds: ['pc2'] }),
  ];
  t.doesNotThrow(() => checkCollectionGraph(graph(cols), known));
  t.same(membersOf(cols)('TOP'), ['pc1', 'pc2'], 'pc2 still comes in through L');
  t.same(membersOf(cols)('R'), ['pc1']);
});
