/**
 * Changes applied to a built site (policy/site.ts) in time proportional to the change, not to
 * the site: one computer, one collection (and the collections built on it), one deployment,
 * one task sequence, one R-19 record. The result is what `buildSite` would build from the same
 * data (test/policy/site-delta.test.ts checks that on random change sequences).
 *
 * The site's maps and sets are updated in place, so a boot answered between two changes sees
 * one whole change or none: every function here runs to its end without yielding. Only the
 * server's policy state (server/site/policy-state.ts) calls these, on the snapshot it owns.
 */
import { ALL_SYSTEMS_ID, ALL_UNKNOWN_COMPUTERS_ID, computeMembership, type Collection } from './collections.js';
import { UNKNOWN_COMPUTER_IDS, type Computer } from './computers.js';
import type { Deployment } from './deployments/model.js';
import { pxeStartKey, type Site } from './site.js';
import type { TaskSequence } from './task-sequences/model.js';

type Mutable<T> = T extends ReadonlyMap<infer K, infer V> ? Map<K, V> : T extends ReadonlySet<infer V> ? Set<V> : never;
const m = <T>(x: T): Mutable<T> => x as unknown as Mutable<T>;

const BUILT_IN_COMPUTERS = new Set(Object.values(UNKNOWN_COMPUTER_IDS));
/** buildSite's list order: the built-in Unknown Computers first, then computers by id. */
const before = (a: string, b: string): boolean => {
  const ab = BUILT_IN_COMPUTERS.has(a);
  const bb = BUILT_IN_COMPUTERS.has(b);
  return ab !== bb ? ab : a < b;
};

function insertSorted(list: string[], id: string, less: (a: string, b: string) => boolean): void {
  let i = list.length;
  while (i > 0 && less(id, list[i - 1]!)) i--;
  list.splice(i, 0, id);
}

// ------------------------------------------------------------------ addresses (MAC, SMBIOS UUID)

function release(site: Site, index: Map<string, Computer>, shared: Map<string, string[]>, key: string, id: string): void {
  const owners = shared.get(key);
  if (owners) {
    const at = owners.indexOf(id);
    if (at >= 0) owners.splice(at, 1);
    if (owners.length <= 1) shared.delete(key);
    const first = owners[0] !== undefined ? site.computers.get(owners[0]) : undefined;
    if (first) index.set(key, first);
    else index.delete(key);
  } else if (index.get(key)?.id === id) index.delete(key);
}

function claim(index: Map<string, Computer>, shared: Map<string, string[]>, key: string, c: Computer): void {
  const first = index.get(key);
  if (!first || first.id === c.id) return void index.set(key, c);
  let owners = shared.get(key);
  if (!owners) shared.set(key, (owners = [first.id]));
  if (!owners.includes(c.id)) insertSorted(owners, c.id, before);
  if (owners[0] === c.id) index.set(key, c);
}

// ------------------------------------------------------------------ membership of one computer

/** Direct members as a set, per collection object (collections are replaced, never mutated). */
const directSets = new WeakMap<Collection, ReadonlySet<string>>();
function directOf(c: Collection): ReadonlySet<string> {
  let set = directSets.get(c);
  if (!set) directSets.set(c, (set = new Set(c.directMemberIds)));
  return set;
}

/** The collections `computer` belongs to, in collection id order (as buildSite's collectionsOf). */
function collectionsOfComputer(site: Site, computer: Computer): string[] {
  const memo = new Map<string, boolean>();
  const isMember = (id: string): boolean => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const c = site.collections.get(id);
    let yes: boolean;
    if (!c) yes = false;
    else if (c.builtIn === 'allSystems') yes = true;
    else if (c.builtIn === 'allUnknownComputers') yes = computer.unknownArchitecture !== null;
    else {
      yes = directOf(c).has(computer.id) || c.includeCollectionIds.some(isMember);
      if (yes && c.excludeCollectionIds.some(isMember)) yes = false;
      if (yes && c.limitingCollectionId && !isMember(c.limitingCollectionId)) yes = false;
    }
    memo.set(id, yes);
    return yes;
  };
  return [...site.collections.keys()].filter(isMember).sort();
}

// ------------------------------------------------------------------ computers

/** A computer added, changed (same id) or deleted (`next` undefined). */
export function applyComputer(site: Site, id: string, next: Computer | undefined): void {
  const old = site.computers.get(id);
  if (!old && !next) return;
  const byMac = m(site.computerByMac);
  const byUuid = m(site.computerByUuid);
  const sharedMacs = m(site.sharedMacs) as Map<string, string[]>;
  const sharedUuids = m(site.sharedUuids) as Map<string, string[]>;
  const computers = m(site.computers);

  for (const mac of old?.macAddresses ?? []) if (!next?.macAddresses.includes(mac)) release(site, byMac, sharedMacs, mac, id);
  if (old?.smbiosUuid && old.smbiosUuid !== next?.smbiosUuid) release(site, byUuid, sharedUuids, old.smbiosUuid, id);
  if (next) computers.set(id, next);
  else computers.delete(id);
  if (next) {
    for (const mac of next.macAddresses) claim(byMac, sharedMacs, mac, next);
    if (next.smbiosUuid) claim(byUuid, sharedUuids, next.smbiosUuid, next);
  }

  const was = site.collectionsOf.get(id) ?? [];
  const now = next ? collectionsOfComputer(site, next) : [];
  const members = m(site.members);
  for (const c of was) if (!now.includes(c)) (members.get(c) as Set<string> | undefined)?.delete(id);
  for (const c of now) {
    let set = members.get(c) as Set<string> | undefined;
    if (!set) members.set(c, (set = new Set()));
    set.add(id);
  }
  if (now.length) m(site.collectionsOf).set(id, now);
  else m(site.collectionsOf).delete(id);
}

// ------------------------------------------------------------------ collections

/** The collections whose membership depends on `id` (itself included), as a set. */
function dependents(site: Site, id: string): Set<string> {
  const out = new Set([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const c of site.collections.values()) {
      if (out.has(c.id)) continue;
      const refs = [...c.includeCollectionIds, ...c.excludeCollectionIds, ...(c.limitingCollectionId ? [c.limitingCollectionId] : [])];
      if (refs.some((r) => out.has(r))) {
        out.add(c.id);
        grew = true;
      }
    }
  }
  return out;
}

/** A collection added, changed or deleted: its members and those of collections built on it. */
export function applyCollection(site: Site, id: string, next: Collection | undefined): void {
  const collections = m(site.collections);
  const affected = dependents(site, id);
  if (next) collections.set(id, next);
  else collections.delete(id);

  const members = m(site.members);
  // computeMembership in steps, from the sets of the collections this change does not touch.
  const memo = new Map([...site.members].filter(([cid]) => !affected.has(cid)));
  const all = (site.members.get(ALL_SYSTEMS_ID) ?? new Set<string>()) as Set<string>;
  const unknown = (site.members.get(ALL_UNKNOWN_COMPUTERS_ID) ?? new Set<string>()) as Set<string>;
  const setOf = (cid: string): ReadonlySet<string> => {
    if (!memo.has(cid)) computeMembership(site.collections, [], { memo, all, unknown, only: cid });
    return memo.get(cid) ?? new Set();
  };

  const collectionsOf = m(site.collectionsOf) as Map<string, string[]>;
  for (const cid of affected) {
    const before = site.members.get(cid) ?? new Set<string>();
    const after = site.collections.has(cid) ? setOf(cid) : new Set<string>();
    for (const x of before) {
      if (after.has(x)) continue;
      const list = collectionsOf.get(x);
      const at = list?.indexOf(cid) ?? -1;
      if (list && at >= 0) list.splice(at, 1);
      if (list && list.length === 0) collectionsOf.delete(x);
    }
    for (const x of after) {
      if (before.has(x)) continue;
      const list = collectionsOf.get(x);
      if (list) insertSorted(list, cid, (a, b) => a < b);
      else collectionsOf.set(x, [cid]);
    }
    if (site.collections.has(cid)) members.set(cid, after);
    else members.delete(cid);
  }
}

// ------------------------------------------------------------------ deployments, task sequences, R-19

export function applyDeployment(site: Site, id: string, next: Deployment | undefined): void {
  const old = site.deployments.get(id);
  const to = m(site.deploymentsTo) as Map<string, Deployment[]>;
  if (old) {
    const list = to.get(old.collectionId) ?? [];
    const at = list.findIndex((d) => d.id === id);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) to.delete(old.collectionId);
  }
  if (next) {
    m(site.deployments).set(id, next);
    let list = to.get(next.collectionId);
    if (!list) to.set(next.collectionId, (list = []));
    let i = list.length;
    while (i > 0 && id < list[i - 1]!.id) i--;
    list.splice(i, 0, next);
  } else m(site.deployments).delete(id);
}

export function applyTaskSequence(site: Site, id: string, next: TaskSequence | undefined): void {
  if (next) m(site.taskSequences).set(id, next);
  else m(site.taskSequences).delete(id);
}

/** a computer started (or no longer counts as having started) a Required deployment from PXE. */
export function applyPxeStart(site: Site, computerId: string, deploymentId: string, present: boolean): void {
  const key = pxeStartKey(computerId, deploymentId);
  if (present) m(site.requiredPxeStarted).add(key);
  else m(site.requiredPxeStarted).delete(key);
}

