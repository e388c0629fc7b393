/**
 * Issue 14: a change applied to the policy state (policy/site-delta.ts) leaves exactly what
 * buildSite would build from the changed data: random sites, random change sequences, compared
 * index by index after every change.
 */
import t from 'tap';
import { ALL_SYSTEMS_ID, ALL_UNKNOWN_COMPUTERS_ID, type Collection } from '../../policy/collections.js';
import { unknownComputers, type Computer } from '../../policy/computers.js';
import type { Deployment } from '../../policy/deployments/model.js';
import { applyCollection, applyComputer, applyDeployment, applyPxeStart, applyTaskSequence } from '../../policy/site-delta.js';
import { buildSite, DEFAULT_SITE_SETTINGS, pxeStartKey, siteBuilder, type Site, type SiteData } from '../../policy/site.js';
import type { TaskSequence } from '../../policy/task-sequences/model.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface Data {
  computers: Map<string, Computer>;
  collections: Map<string, Collection>;
  deployments: Map<string, Deployment>;
  taskSequences: Map<string, TaskSequence>;
  pxeStarts: Set<string>;
}

const sortedById = <T extends { id: string }>(m: Map<string, T>): T[] => [...m.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

function toSiteData(d: Data): SiteData {
  return {
    siteCode: 'PS1',
    settings: DEFAULT_SITE_SETTINGS,
    computers: sortedById(d.computers),
    collections: sortedById(d.collections),
    taskSequences: sortedById(d.taskSequences),
    deployments: sortedById(d.deployments),
    requiredPxeStarts: [...d.pxeStarts].map((k) => {
      const [computerId, deploymentId] = k.split('\u0000') as [string, string];
      return { computerId, deploymentId };
    }),
  };
}

/** Every index of a site in a form `same` compares exactly (order kept where order matters). */
function normal(site: Site): unknown {
  const byKey = <V>(m: ReadonlyMap<string, V>, f: (v: V) => unknown): [string, unknown][] =>
    [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, f(v)]);
  return {
    computers: byKey(site.computers, (c) => c),
    collections: byKey(site.collections, (c) => c),
    taskSequences: byKey(site.taskSequences, (x) => x),
    deployments: byKey(site.deployments, (x) => x),
    computerByMac: byKey(site.computerByMac, (c) => c),
    computerByUuid: byKey(site.computerByUuid, (c) => c),
    sharedMacs: byKey(site.sharedMacs, (l) => l),
    sharedUuids: byKey(site.sharedUuids, (l) => l),
    members: byKey(site.members, (s) => [...s].sort()),
    collectionsOf: byKey(site.collectionsOf, (l) => l),
    deploymentsTo: byKey(site.deploymentsTo, (l) => l.map((d) => d.id)),
    requiredPxeStarted: [...site.requiredPxeStarted].sort(),
  };
}

const MACS = Array.from({ length: 40 }, (_, i) => `00:50:56:00:00:${i.toString(16).padStart(2, '0')}`);
const UUIDS = Array.from({ length: 25 }, (_, i) => `4c4c4544-0000-1000-8000-${i.toString(16).padStart(12, '0')}`);

function randomComputer(r: () => number, id: string): Computer {
  const macs = new Set<string>();
  const n = Math.floor(r() * 3);
  for (let i = 0; i < n; i++) macs.add(MACS[Math.floor(r() * MACS.length)]!);
  return {
    id,
    name: `PC-${id}`,
    macAddresses: [...macs],
    smbiosUuid: r() < 0.5 ? UUIDS[Math.floor(r() * UUIDS.length)]! : null,
    architecture: 'x64',
    isSiteSystem: false,
    isServer: r() < 0.1,
    unknownArchitecture: null,
    variables: [],
  };
}

/** Collections reference only collections created before them, so the graph stays acyclic. */
function randomCollection(r: () => number, id: string, d: Data, earlier: readonly string[]): Collection {
  const computerIds = [...d.computers.keys(), 'c999' /* a deleted or never-made computer */];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const refs = [ALL_SYSTEMS_ID, ALL_UNKNOWN_COMPUTERS_ID, ...earlier];
  const direct = new Set<string>();
  for (let i = 0; i < Math.floor(r() * 8); i++) direct.add(pick(computerIds));
  return {
    id,
    name: id,
    description: '',
    builtIn: null,
    limitingCollectionId: r() < 0.4 ? pick(refs) : null,
    directMemberIds: [...direct],
    includeCollectionIds: r() < 0.3 ? [pick(refs)] : [],
    excludeCollectionIds: r() < 0.2 && earlier.length ? [pick(earlier)] : [],
    variables: [],
    variablePrecedence: 1,
  };
}

for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
  t.test(`issue 14: deltas equal a rebuild, seed ${seed}`, async (t) => {
    const r = rng(seed);
    const d: Data = { computers: new Map(), collections: new Map(), deployments: new Map(), taskSequences: new Map(), pxeStarts: new Set() };
    let nextComputer = 100;
    for (let i = 0; i < 30; i++) {
      const id = `c${nextComputer++}`;
      d.computers.set(id, randomComputer(r, id));
    }
    const collectionOrder: string[] = [];
    for (let i = 0; i < 8; i++) {
      const id = `PS1000${10 + i}`;
      d.collections.set(id, randomCollection(r, id, d, collectionOrder));
      collectionOrder.push(id);
    }
    d.taskSequences.set('PS100001', { id: 'PS100001' } as TaskSequence);
    const allCollections = (): string[] => [ALL_SYSTEMS_ID, ALL_UNKNOWN_COMPUTERS_ID, ...collectionOrder.filter((c) => d.collections.has(c))];
    let nextDeployment = 20000;
    const site = buildSite(toSiteData(d));
    let mismatches = 0;
    const kinds: Record<string, number> = {};
    for (let step = 0; step < 150; step++) {
      const roll = r();
      let kind: string;
      if (roll < 0.2) {
        kind = 'computer added';
        const id = `c${nextComputer++}`;
        const c = randomComputer(r, id);
        d.computers.set(id, c);
        applyComputer(site, id, c);
      } else if (roll < 0.35 && d.computers.size) {
        kind = 'computer changed';
        const id = [...d.computers.keys()][Math.floor(r() * d.computers.size)]!;
        const c = randomComputer(r, id);
        d.computers.set(id, c);
        applyComputer(site, id, c);
      } else if (roll < 0.45 && d.computers.size) {
        kind = 'computer deleted';
        const id = [...d.computers.keys()][Math.floor(r() * d.computers.size)]!;
        d.computers.delete(id);
        for (const k of [...d.pxeStarts]) if (k.startsWith(`${id}\u0000`)) {
          d.pxeStarts.delete(k);
          const [, dep] = k.split('\u0000') as [string, string];
          applyPxeStart(site, id, dep, false);
        }
        applyComputer(site, id, undefined);
      } else if (roll < 0.6) {
        kind = 'collection changed';
        // Change one made earlier (its references stay to older ones) or add one.
        const existing = collectionOrder.filter((c) => d.collections.has(c));
        const id = r() < 0.7 && existing.length ? existing[Math.floor(r() * existing.length)]! : `PS1000${10 + collectionOrder.length}`;
        if (!collectionOrder.includes(id)) collectionOrder.push(id);
        const earlier = collectionOrder.slice(0, collectionOrder.indexOf(id)).filter((c) => d.collections.has(c));
        const c = randomCollection(r, id, d, earlier);
        d.collections.set(id, c);
        applyCollection(site, id, c);
      } else if (roll < 0.65) {
        kind = 'collection deleted';
        // Only one nothing else refers to (the site refuses the others).
        const free = collectionOrder.filter(
          (id) => d.collections.has(id) && ![...d.collections.values()].some((c) => c.id !== id && (c.includeCollectionIds.includes(id) || c.excludeCollectionIds.includes(id) || c.limitingCollectionId === id)),
        );
        if (!free.length) continue;
        const id = free[Math.floor(r() * free.length)]!;
        d.collections.delete(id);
        applyCollection(site, id, undefined);
      } else if (roll < 0.8) {
        kind = 'deployment added or moved';
        const existing = [...d.deployments.keys()];
        const id = r() < 0.3 && existing.length ? existing[Math.floor(r() * existing.length)]! : `PS1${nextDeployment++}`;
        const cols = allCollections();
        const dep = { id, collectionId: cols[Math.floor(r() * cols.length)]!, taskSequenceId: 'PS100001' } as Deployment;
        d.deployments.set(id, dep);
        applyDeployment(site, id, dep);
      } else if (roll < 0.85 && d.deployments.size) {
        kind = 'deployment deleted';
        const id = [...d.deployments.keys()][Math.floor(r() * d.deployments.size)]!;
        d.deployments.delete(id);
        applyDeployment(site, id, undefined);
      } else if (roll < 0.95 && d.computers.size && d.deployments.size) {
        kind = 'R-19 record';
        const c = [...d.computers.keys()][Math.floor(r() * d.computers.size)]!;
        const dep = [...d.deployments.keys()][Math.floor(r() * d.deployments.size)]!;
        const present = r() < 0.7;
        if (present) d.pxeStarts.add(pxeStartKey(c, dep));
        else d.pxeStarts.delete(pxeStartKey(c, dep));
        applyPxeStart(site, c, dep, present);
      } else {
        kind = 'task sequence';
        const id = `PS10000${Math.floor(r() * 3) + 1}`;
        if (r() < 0.8) {
          const ts = { id, name: `ts ${step}` } as unknown as TaskSequence;
          d.taskSequences.set(id, ts);
          applyTaskSequence(site, id, ts);
        } else {
          d.taskSequences.delete(id);
          applyTaskSequence(site, id, undefined);
        }
      }
      kinds[kind] = (kinds[kind] ?? 0) + 1;
      const expected = normal(buildSite(toSiteData(d)));
      const actual = normal(site);
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        mismatches++;
        if (mismatches === 1) t.same(actual, expected, `after step ${step} (${kind}) the applied state equals a rebuild`);
      }
    }
    t.equal(mismatches, 0, `150 random changes, every state equal to a rebuild (${JSON.stringify(kinds)})`);
    t.ok(Object.keys(kinds).length >= 7, 'the sequence exercised most kinds of change');
    t.ok([...site.sharedMacs.keys()].length > 0 || seed > 4, 'shared MAC addresses were exercised');
  });
}

t.test('issue 14: the sliced build yields between slices and builds the same site', async (t) => {
  const computers = Array.from({ length: 5000 }, (_, i) => randomComputer(rng(i), `c${String(i).padStart(5, '0')}`));
  const data: SiteData = { ...toSiteData({ computers: new Map(), collections: new Map(), deployments: new Map(), taskSequences: new Map(), pxeStarts: new Set() }), computers };
  const steps = siteBuilder(data, 500);
  let yields = 0;
  let built: Site | undefined;
  for (;;) {
    const s = steps.next();
    if (s.done) {
      built = s.value;
      break;
    }
    yields++;
  }
  t.ok(yields >= 20, `the build yielded ${yields} times for 5,000 computers`);
  t.same(normal(built), normal(buildSite(data)), 'the same site as the one-shot build');
  t.equal(built.computers.size, 5000 + unknownComputers().length);
});
