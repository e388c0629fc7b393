/**
 * The generated site the API and imaging-day benches run against (moved from bench/api.ts):
 * built in a temporary data directory, in the calling process, through the site operations the
 * API uses (importComputers, createCollection, createTs, deploy…): by default 100,000 computers,
 * 200 collections with direct members, content, 12 task sequences and 2,000 deployments.
 *
 * The data comes from a seeded PRNG (mulberry32) the caller owns, so a bench that keeps drawing
 * from the same generator after the site is built (bench/api.ts picks MACs with it) sees the same
 * sequence as before the move.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ALL_UNKNOWN_COMPUTERS_ID } from '../../policy/collections.js';
import type { ComputerInput } from '../../policy/computers.js';
import type { TaskSequence } from '../../policy/task-sequences/model.js';
import { loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { openSite } from '../../server/main.js';
import { createCollection } from '../../server/site/collections.js';
import { importComputers } from '../../server/site/computers.js';
import { createContent } from '../../server/site/content.js';
import { SnapshotCache, type SiteContext } from '../../server/site/context.js';
import { deploy } from '../../server/site/deployments.js';
import { createTs } from '../../server/site/task-sequences.js';
import { createToken } from '../../server/site/tokens.js';

// ------------------------------------------------------------------ seeded randomness, MACs

export type Random = () => number;

export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const hex2 = (n: number): string => (n & 0xff).toString(16).padStart(2, '0');
export const macOf = (prefix: string, i: number): string => `${prefix}:${hex2(i >> 16)}:${hex2(i >> 8)}:${hex2(i)}`;
/** The first MAC of generated computer `i` (0-based). */
export const knownMac = (i: number): string => macOf('00:50:56', i);
/** A MAC no generated computer has. */
export const unknownMac = (random: Random): string => macOf('0a:00:27', Math.floor(random() * 0x1000000));
/** The SMBIOS UUID generated computers that have one carry. */
export const uuidOf = (i: number): string => `4c4c4544-0000-1000-8000-${i.toString(16).padStart(12, '0')}`;

export const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
export const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

// ------------------------------------------------------------------ the site

export interface SiteShape {
  readonly computers: number;
  readonly collections: number;
  readonly deployments: number;
  /** Extra configuration flags for the site database (e.g. `database-url`), as `osdeploy serve` takes them. */
  readonly configFlags?: Readonly<Record<string, string>>;
  /** Prefix of the temporary data directory's name. */
  readonly tmpPrefix?: string;
}

export interface GeneratedSite<T> {
  readonly dataDir: string;
  readonly adminToken: string;
  /** A client token of the default (enroll) scope. */
  readonly clientToken: string;
  readonly timings: Record<string, number>;
  readonly counts: Record<string, number>;
  readonly taskSequences: readonly TaskSequence[];
  /** What `extra` returned. */
  readonly extra: T;
}

const BATCH = 10_000;

/**
 * Builds the site; `extra(ctx)` runs last, on the open database with a fresh snapshot, for what a
 * bench needs beside it (more tokens, MACs that resolve to a boot…). The database is closed after.
 */
export async function generateSite<T = undefined>(shape: SiteShape, random: Random, extra?: (ctx: SiteContext) => T | Promise<T>): Promise<GeneratedSite<T>> {
  const pick = <U>(xs: readonly U[]): U => xs[Math.floor(random() * xs.length)]!;
  const chance = (p: number): boolean => random() < p;

  const dataDir = mkdtempSync(path.join(os.tmpdir(), shape.tmpPrefix ?? 'osdeploy-bench-site-'));
  const config = loadConfig({ flags: { 'data-dir': dataDir, ...shape.configFlags } });
  const log = createLogger('silent');
  // Writes apply their changes to the site's policy state as deltas (server/site/policy-state.ts).
  const site = await openSite(config, log);
  const { ctx } = site;
  const actor = 'bench';
  const timings: Record<string, number> = {};
  const counts: Record<string, number> = {};

  let t0 = process.hrtime.bigint();
  const admin = (await createToken(ctx, actor, { name: 'bench admin', role: 'admin' })).token;
  const client = (await createToken(ctx, actor, { name: 'bench pxe', role: 'client' })).token;

  const bootX64 = await createContent(ctx, actor, { kind: 'bootImage', name: 'Boot image (x64)', architecture: 'x64' });
  const bootX86 = await createContent(ctx, actor, { kind: 'bootImage', name: 'Boot image (x86)', architecture: 'x86' });
  const images = [await createContent(ctx, actor, { kind: 'osImage', name: 'Windows 11 Enterprise 24H2' }), await createContent(ctx, actor, { kind: 'osImage', name: 'Windows 10 Enterprise 22H2' })];
  const apps: { id: string }[] = [];
  for (let i = 0; i < 6; i++) apps.push(await createContent(ctx, actor, { kind: 'application', name: `Line-of-business app ${i + 1}` }));
  const driver = await createContent(ctx, actor, { kind: 'driverPackage', name: 'Dell Latitude drivers' });
  const taskSequences: TaskSequence[] = [];
  for (let i = 0; i < 8; i++)
    taskSequences.push(
      await createTs(ctx, actor, {
        type: 'installOs',
        name: `Install ${pick(images).name} #${i + 1}`,
        bootImageId: i % 4 === 3 ? bootX86.id : bootX64.id,
        osImageId: pick(images).id,
        join: { mode: 'workgroup', workgroup: 'WORKGROUP' },
        applicationIds: apps.slice(0, i % 4).map((a) => a.id),
        ...(i % 2 ? { driverPackageIds: [driver.id] } : {}),
      }),
    );
  for (let i = 0; i < 4; i++) taskSequences.push(await createTs(ctx, actor, { type: 'custom', name: `Custom maintenance #${i + 1}`, bootImageId: bootX64.id }));
  counts.content = 2 + images.length + apps.length + 1;
  counts.taskSequences = taskSequences.length;
  timings['content, task sequences, tokens'] = ms(t0);

  // Computers: importComputers in batches of 10,000, one transaction each.
  t0 = process.hrtime.bigint();
  const ids: string[] = [];
  for (let start = 0; start < shape.computers; start += BATCH) {
    const rows: ComputerInput[] = [];
    for (let i = start; i < Math.min(shape.computers, start + BATCH); i++) {
      rows.push({
        name: `PC-${String(i + 1).padStart(6, '0')}`,
        macAddresses: chance(0.1) ? [knownMac(i), macOf('00:15:5d', i)] : [knownMac(i)],
        smbiosUuid: chance(0.6) ? uuidOf(i) : null,
        architecture: chance(0.9) ? 'x64' : chance(0.5) ? 'arm64' : 'x86',
        isServer: chance(0.02),
        variables: chance(0.05) ? [{ name: 'OSDJoinPassword', value: `secret-${i}`, hidden: true }, { name: 'OSDLocation', value: pick(['HQ', 'Lab', 'Branch']), hidden: false }] : [],
      });
    }
    for (const c of await importComputers(ctx, actor, rows)) ids.push(c.id);
  }
  counts.computers = ids.length;
  timings[`import ${fmt(ids.length)} computers (batches of ${fmt(BATCH)})`] = ms(t0);

  // Collections: direct members, sizes spread log-uniformly from 10 to 5,000.
  t0 = process.hrtime.bigint();
  const collections: { id: string; size: number }[] = [];
  let memberships = 0;
  for (let i = 0; i < shape.collections; i++) {
    const size = Math.min(ids.length, Math.round(Math.exp(Math.log(10) + random() * (Math.log(5000) - Math.log(10)))));
    const members = new Set<string>();
    while (members.size < size) members.add(pick(ids));
    const c = await createCollection(ctx, actor, {
      name: `Collection ${String(i + 1).padStart(3, '0')}`,
      directMemberIds: [...members],
      ...(i % 25 === 0 ? { variables: [{ name: 'OSDSiteVariable', value: `c${i}`, hidden: false }] } : {}),
    });
    collections.push({ id: c.id, size });
    memberships += size;
  }
  counts.collections = collections.length;
  counts.directMemberships = memberships;
  timings[`create ${collections.length} collections`] = ms(t0);

  t0 = process.hrtime.bigint();
  await ctx.snapshot.rebuild();
  timings['build the policy snapshot (once)'] = ms(t0);

  // Deployments through deploy() (R-09… on real member counts).
  t0 = process.hrtime.bigint();
  const tally: Record<string, number> = { created: 0, required: 0, acknowledged: 0, refusedThenAvailable: 0 };
  const availabilities = ['mediaPxe', 'mediaPxe', 'mediaPxe', 'mediaPxe', 'clientsMediaPxe', 'clientsMediaPxe', 'clientsMediaPxe', 'clients', 'clients', 'mediaPxeHidden'];
  for (let i = 0; i < shape.deployments; i++) {
    const ts = pick(taskSequences);
    const collectionId = i % 100 === 0 ? ALL_UNKNOWN_COMPUTERS_ID : pick(collections).id;
    const availability = pick(availabilities);
    const required = chance(0.15);
    const input = { taskSequenceId: ts.id, collectionId, availability, purpose: required ? 'required' : 'available', ...(required ? { assignments: [{ kind: 'asap' }], acknowledgeHighRisk: true } : {}) };
    let decision = await deploy(ctx, actor, input);
    if (decision.kind !== 'created') {
      // R-10 refuses a Required OS deployment to a collection above the maximum size: make it Available.
      decision = await deploy(ctx, actor, { taskSequenceId: ts.id, collectionId, availability, purpose: 'available' });
      tally.refusedThenAvailable!++;
    }
    if (decision.kind !== 'created') throw new Error(`deployment ${i} not created: ${JSON.stringify(decision)}`);
    tally.created!++;
    if (decision.deployment.purpose === 'required') tally.required!++;
    if (decision.deployment.highRisk?.verdict === 'warned') tally.acknowledged!++;
  }
  Object.assign(counts, { deployments: tally.created, requiredDeployments: tally.required, highRiskAcknowledged: tally.acknowledged, requiredRefusedMadeAvailable: tally.refusedThenAvailable });
  timings[`create ${fmt(tally.created!)} deployments`] = ms(t0);

  let result: T = undefined as T;
  if (extra) {
    t0 = process.hrtime.bigint();
    // A fresh snapshot, built from what is stored, whatever the loader's one holds.
    const snapshot = new SnapshotCache(ctx.store, config.siteCode);
    await snapshot.rebuild();
    result = await extra({ ...ctx, snapshot });
    timings['bench-specific data (extra)'] = ms(t0);
  }

  site.db?.pragma('wal_checkpoint(TRUNCATE)');
  await site.close();
  return { dataDir, adminToken: admin, clientToken: client, timings, counts, taskSequences, extra: result };
}
