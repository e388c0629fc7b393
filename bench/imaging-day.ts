/**
 * An imaging day (issue: "`bench/imaging-day`: a site of 100,000 computers (the generator of
 * `bench/api`), DISCOVERs at 2,000/s from a real load generator, first quiet, then while 10
 * batches/s of 50 status messages are posted. Print offers/s, drop % and p50/p99 DISCOVER→OFFER
 * for both phases, and status POST p50/p99. Target: offers/s with status traffic ≥ 0.98× quiet,
 * drop < 0.5 %, p99 < 20 ms; status POST p99 < 100 ms. Run it on SQLite and on PostgreSQL.").
 *
 *   sudo npm run bench:imaging-day
 *   sudo node --import tsx bench/imaging-day.ts --computers 5000 --duration 5     # a quick smoke run
 *   … --database-url postgres://…   # the site database (passed to the service as --database-url /
 *                                   # OSDEPLOY_DATABASE_URL); default: the embedded SQLite
 *
 * Root: it makes two network namespaces joined by a veth pair, `osdimg-srv` (10.79.0.1/24) and
 * `osdimg-cli` (10.79.0.2/24), and the responder binds UDP 67 and 4011 in the first.
 *
 * 1. Re-runs itself inside `osdimg-srv` (role `run`), where it builds the site of bench/api
 *    (bench/lib/site-generator.ts) in a temporary data directory, plus a client token of scope
 *    `site` for the status poster. It checks in process, with policy's own `resolveBoot`, which
 *    MACs get an answer: only those go to the load generator (a machine the policy keeps silent,
 *    R-18, would count as a drop), 95 % of them known computers (resolution by MAC), 5 % unknown
 *    machines (the Unknown Computer path). Machines whose Required deployment the poster will
 *    start from PXE (R-19 then silences them) are left out of that list.
 * 2. Starts the real service as a child process (`osdeploy serve`, bind 0.0.0.0, TFTP off).
 * 3. perfdhcp (ISC Kea, `apt-get install kea-admin`) in `osdimg-cli` sends PXE DISCOVERs at
 *    `--rate` per second: option 60 `PXEClient:Arch:00007:UNDI:003016`, 93 (x64 UEFI), 94, and 97
 *    (one fixed GUID that matches no computer: perfdhcp cannot vary an option per client, so
 *    machines are identified by MAC, each exchange taking a random one from the list, `-M`).
 *    perfdhcp's DHCPv4 client always plays a relay agent: giaddr is its address, hops 1, source
 *    port 67, so the responder answers by unicast to giaddr:67 (offer.ts replyDestination), and
 *    perfdhcp matches each OFFER to its DISCOVER by xid and counts it. That is how a site serving
 *    100,000 machines hears them (an `ip helper-address` per subnet); the on-segment broadcast
 *    path is measured by bench/pxe.ts. No UDP sender of our own was needed.
 *    DISCOVER→OFFER times come from perfdhcp's per-exchange timestamps (`-x t`); an OFFER later
 *    than `--drop-time` (4 s: when a PXE ROM resends its DISCOVER) counts as dropped.
 * 4. Phases: warm-up (`--warmup` s, not reported); quiet (`--duration` s); status (`--duration`
 *    s) while a separate process (role `poster`, its own event loop) posts `--batches` batches/s
 *    of `--batch` messages to POST /api/v1/status, open loop (a slow answer does not slow the
 *    next batch, as engines do not wait for each other): the messages an imaging engine posts
 *    (runStarted, stepStarted, progress, stepSucceeded, runFinished) for runs of real computers
 *    and the deployments that target them, about 10 % of the runs a Required deployment started from
 *    PXE (so the R-19 record is written). The route takes up to 500 messages a request, so one
 *    batch is one POST.
 * 5. Prints a table per phase, the ratio offers(status)/offers(quiet), PASS/FAIL per target, and
 *    where datagrams were lost: UDP receive-buffer overflows in each namespace (/proc/net/snmp).
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Item } from '../policy/task-sequences/model.js';
import { isMediaOrPxe } from '../policy/deployments/model.js';
import { resolveBoot } from '../policy/resolve-boot.js';
import { deploymentsFor } from '../policy/site.js';
import { CONFIG_KEYS } from '../server/config.js';
import type { SiteContext } from '../server/site/context.js';
import { createToken } from '../server/site/tokens.js';
import { fmt, generateSite, knownMac, ms, mulberry32, unknownMac, type Random } from './lib/site-generator.js';

const { values: opts } = parseArgs({
  options: {
    role: { type: 'string', default: 'main' },
    computers: { type: 'string', default: '100000' },
    collections: { type: 'string', default: '200' },
    deployments: { type: 'string', default: '2000' },
    rate: { type: 'string', default: '2000' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    batches: { type: 'string', default: '10' },
    batch: { type: 'string', default: '50' },
    'unknown-share': { type: 'string', default: '0.05' },
    'drop-time': { type: 'string', default: '4' },
    'database-url': { type: 'string' },
    'log-level': { type: 'string', default: 'warn' },
    'trace-gc': { type: 'boolean', default: false },
    seed: { type: 'string', default: '20260315' },
    keep: { type: 'boolean', default: false },
    // role poster
    url: { type: 'string' },
    token: { type: 'string' },
    pool: { type: 'string' },
  },
});
const N = {
  computers: Number(opts.computers),
  collections: Number(opts.collections),
  deployments: Number(opts.deployments),
  rate: Number(opts.rate),
  duration: Number(opts.duration),
  warmup: Number(opts.warmup),
  batches: Number(opts.batches),
  batch: Number(opts.batch),
  unknownShare: Number(opts['unknown-share']),
  dropTime: Number(opts['drop-time']),
};
const SELF = fileURLToPath(import.meta.url);
const REPO_ROOT = path.resolve(path.dirname(SELF), '..');
const NS_SRV = 'osdimg-srv';
const NS_CLI = 'osdimg-cli';
const SRV_ADDR = '10.79.0.1';
const CLI_ADDR = '10.79.0.2';
const HTTP_PORT = 8080;
const PERFDHCP = ['/usr/sbin/perfdhcp', '/usr/bin/perfdhcp'].find((p) => existsSync(p)) ?? null;
const TARGET = { ratio: 0.98, dropPct: 0.5, p99Ms: 20, postP99Ms: 100 };

const quantile = (sorted: ArrayLike<number>, q: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]! : NaN);
const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));

/** The database option of the service, if this version has one (PostgreSQL support). */
const DB_KEY = Object.values(CONFIG_KEYS).find((k) => k.env === 'OSDEPLOY_DATABASE_URL' || k.flag === 'database-url') ?? null;

// ================================================================== role main: netns, then `run` inside

function sh(cmd: string, argv: string[]): void {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: ${r.stderr || r.error?.message}`);
}

function teardownNetns(): void {
  spawnSync('ip', ['netns', 'del', NS_SRV]);
  spawnSync('ip', ['netns', 'del', NS_CLI]);
}

function setupNetns(): void {
  teardownNetns();
  sh('ip', ['netns', 'add', NS_SRV]);
  sh('ip', ['netns', 'add', NS_CLI]);
  sh('ip', ['link', 'add', 'osdimg-s', 'type', 'veth', 'peer', 'name', 'osdimg-c']);
  sh('ip', ['link', 'set', 'osdimg-s', 'netns', NS_SRV]);
  sh('ip', ['link', 'set', 'osdimg-c', 'netns', NS_CLI]);
  for (const [ns, dev, addr] of [[NS_SRV, 'osdimg-s', `${SRV_ADDR}/24`], [NS_CLI, 'osdimg-c', `${CLI_ADDR}/24`]] as const) {
    sh('ip', ['-n', ns, 'addr', 'add', addr, 'brd', '+', 'dev', dev]);
    sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    sh('ip', ['-n', ns, 'route', 'add', 'default', 'dev', dev]);
  }
}

async function runMain(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench/imaging-day must run as root: it makes network namespaces (ip netns) and the responder binds UDP 67.\n  sudo npm run bench:imaging-day');
    process.exit(1);
  }
  if (!PERFDHCP) {
    console.error('bench/imaging-day needs perfdhcp, ISC Kea\'s DHCP load generator (not found in /usr/sbin or /usr/bin).\n  Debian/Ubuntu: apt-get install -y kea-admin');
    process.exit(1);
  }
  if (spawnSync('ip', ['netns', 'list']).status !== 0) {
    console.error('bench/imaging-day needs `ip netns` (iproute2) and a kernel with network namespaces.');
    process.exit(1);
  }
  const started = Date.now();
  setupNetns();
  const args = process.argv.slice(2).filter((a, i, all) => a !== '--role' && all[i - 1] !== '--role');
  const child = spawn('ip', ['netns', 'exec', NS_SRV, process.execPath, '--import', 'tsx', SELF, '--role', 'run', ...args], { cwd: REPO_ROOT, stdio: 'inherit' });
  const stop = () => child.kill('SIGTERM');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const code = await new Promise<number>((resolve) => child.once('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
  teardownNetns();
  console.log(`\nwhole run: ${fmt((Date.now() - started) / 1000, 0)} s (network namespaces removed)`);
  process.exitCode = code;
}

// ================================================================== the site and what the bench needs of it

interface RunPlan {
  readonly computerId: string;
  readonly deploymentId: string;
  readonly source: 'pxe' | 'media' | 'fullOs';
  /** A Required deployment started from PXE: the R-19 record path. */
  readonly r19: boolean;
  readonly steps: readonly { itemId: string; name: string; type: string }[];
}

interface Extra {
  readonly siteToken: string;
  readonly knownMacs: string[];
  readonly unknownMacs: string[];
  readonly runs: RunPlan[];
  readonly answers: Record<string, number>;
}

function stepsOf(items: readonly Item[], out: { itemId: string; name: string; type: string }[] = []): { itemId: string; name: string; type: string }[] {
  for (const it of items) {
    if (it.kind === 'step') out.push({ itemId: it.id, name: it.name.slice(0, 256), type: it.type });
    else stepsOf(it.children, out);
  }
  return out;
}

/** Runs last in the site generator, on the open database: tokens, MAC lists, run plans. */
async function benchData(ctx: SiteContext, random: Random): Promise<Extra> {
  const site = ctx.snapshot.get();
  const now = ctx.now();
  const siteToken = (await createToken(ctx, 'bench', { name: 'bench status relay', role: 'client', scope: 'site' })).token;

  // Status runs: real computers and deployments that target them; 10 % Required from PXE.
  const runs: RunPlan[] = [];
  const silenced = new Set<string>();
  const wanted = Math.min(2000, N.computers);
  let r19 = 0;
  for (let tries = 0; runs.length < wanted && tries < wanted * 20; tries++) {
    const i = Math.floor(random() * N.computers);
    const computer = site.computerByMac.get(knownMac(i));
    if (!computer) continue;
    const targets = deploymentsFor(site, computer.id);
    if (!targets.length) continue;
    const required = targets.filter((d) => d.purpose === 'required' && isMediaOrPxe(d.availability));
    const asR19 = required.length > 0 && r19 < wanted * 0.1 && random() < 0.5;
    const d = asR19 ? required[Math.floor(random() * required.length)]! : targets[Math.floor(random() * targets.length)]!;
    const ts = site.taskSequences.get(d.taskSequenceId);
    const steps = ts ? stepsOf(ts.items).slice(0, 12) : [];
    // Only the R-19 runs say `pxe` for a Required deployment; the others boot from media or run in the full OS.
    const source = asR19 ? 'pxe' : !isMediaOrPxe(d.availability) ? 'fullOs' : d.purpose === 'required' ? 'media' : random() < 0.7 ? 'pxe' : 'media';
    if (asR19) {
      r19++;
      silenced.add(knownMac(i));
    }
    runs.push({ computerId: computer.id, deploymentId: d.id, source, r19: asR19, steps: steps.length ? steps : [{ itemId: 'i1', name: 'Run Command Line', type: 'RunCommandLine' }] });
  }

  // Spread the R-19 runs over the pool (the poster takes runs in order).
  for (let i = runs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [runs[i], runs[j]] = [runs[j]!, runs[i]!];
  }

  // MACs that get an answer, as the service will decide it (policyDecider → resolveBoot).
  const answers: Record<string, number> = {};
  const knownMacs: string[] = [];
  for (let i = 0; i < N.computers; i++) {
    const mac = knownMac(i);
    if (silenced.has(mac)) continue;
    const decision = resolveBoot(site, { macAddresses: [mac], smbiosUuid: null, architecture: 'x64', source: 'pxe' }, now);
    answers[`known: ${decision.kind}`] = (answers[`known: ${decision.kind}`] ?? 0) + 1;
    if (decision.kind !== 'nothing') knownMacs.push(mac);
  }
  const unknownMacs: string[] = [];
  const probe = resolveBoot(site, { macAddresses: [unknownMac(random)], smbiosUuid: null, architecture: 'x64', source: 'pxe' }, now);
  answers[`unknown: ${probe.kind}`] = 1;
  if (probe.kind !== 'nothing' && N.unknownShare > 0) {
    const count = Math.round((knownMacs.length * N.unknownShare) / (1 - N.unknownShare));
    const seen = new Set<string>();
    while (seen.size < count) {
      const mac = unknownMac(random);
      if (!site.computerByMac.has(mac)) seen.add(mac);
    }
    unknownMacs.push(...seen);
  }
  return { siteToken, knownMacs, unknownMacs, runs, answers };
}

// ================================================================== perfdhcp

const hex = (s: string): string => Buffer.from(s, 'latin1').toString('hex');
/** Option 97 type 0: a GUID no generated computer has (they carry 4c4c4544-…). */
const CLIENT_GUID = '00' + 'aabbccdd' + 'eeff' + '1100' + '8000' + '0123456789ab';

function perfdhcpArgs(macFile: string, extra: string[]): string[] {
  return [
    '-4', '-i', // DISCOVER → OFFER only: a proxyDHCP server offers no address to request
    '-l', CLI_ADDR, // local address: perfdhcp relays from it (giaddr), the OFFERs come back to it on 67
    '-M', macFile,
    '-o', `60,${hex('PXEClient:Arch:00007:UNDI:003016')}`,
    '-o', '93,0007', // x64 UEFI
    '-o', '94,010310', // UNDI 3.16
    '-o', `97,${CLIENT_GUID}`,
    '-d', String(N.dropTime),
    '-x', 't', // every exchange's timestamps, for p50/p99
    ...extra,
    SRV_ADDR,
  ];
}

interface PhaseDhcp {
  readonly sent: number;
  readonly answered: number;
  readonly late: number;
  readonly offersPerSec: number;
  readonly dropPct: number;
  readonly latencies: Float64Array;
  readonly perfdhcpRate: string;
  readonly orphans: number;
  readonly raw: string;
}

/** Runs perfdhcp in the client namespace for `seconds` at `rate`; waits `dropTime` for late OFFERs. */
function perfdhcp(macFile: string, rate: number, seconds: number): Promise<PhaseDhcp> {
  const args = perfdhcpArgs(macFile, ['-r', String(rate), '-p', String(seconds), '-W', String(Math.round(N.dropTime * 1e6))]);
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', NS_CLI, PERFDHCP!, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (out += c.toString()));
    p.once('error', reject);
    p.once('exit', (code) => {
      // 3: "one or more exchanges are not successfully completed", a result here, not a failure.
      if (code !== 0 && code !== 3) return reject(new Error(`perfdhcp exited with ${code}:\n${out.slice(-2000)}`));
      resolve(parsePerfdhcp(out, seconds));
    });
  });
}

function parsePerfdhcp(out: string, seconds: number): PhaseDhcp {
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? NaN);
  const sent = num(/sent packets: (\d+)/);
  const all: number[] = [];
  for (const m of out.matchAll(/sent \/ received: (\d+\.\d+) \/ (\d+\.\d+)/g)) {
    let d = (Number(m[2]) - Number(m[1])) * 1000;
    if (d < 0) d += 86_400_000; // time of day wrapped
    all.push(d);
  }
  const latencies = Float64Array.from(all.filter((d) => d <= N.dropTime * 1000)).sort();
  const answered = latencies.length;
  return {
    sent,
    answered,
    late: all.length - answered,
    offersPerSec: answered / seconds,
    dropPct: sent > 0 ? (100 * (sent - answered)) / sent : NaN,
    latencies,
    perfdhcpRate: /Rate: ([\d.]+) DISCOVER-OFFER\/second/.exec(out)?.[1] ?? '?',
    orphans: num(/orphans: (\d+)/),
    raw: out,
  };
}

/** UDP counters of a namespace (we run inside the server's; the client's through ip netns exec). */
function udpCounters(ns: string | null): Record<string, number> {
  const text = ns ? spawnSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp'], { encoding: 'utf8' }).stdout : readFileSync('/proc/net/snmp', 'utf8');
  const lines = text.split('\n').filter((l) => l.startsWith('Udp:'));
  const keys = lines[0]?.split(/\s+/).slice(1) ?? [];
  const vals = lines[1]?.split(/\s+/).slice(1).map(Number) ?? [];
  return Object.fromEntries(keys.map((k, i) => [k, vals[i] ?? 0]));
}

// ================================================================== the service

/** The service's garbage-collection pauses (`--trace-gc`), stamped when their line arrives. */
interface GcPause {
  readonly at: number;
  readonly kind: string;
  readonly ms: number;
}
const gcPauses: GcPause[] = [];
const GC_LINE = /ms: (Scavenge|Minor Mark-Compact|Mark-Compact|Mark-sweep)\b[^,]*, ([\d.]+) \/ [\d.]+ ms/;

function watchGc(child: ChildProcess): void {
  let rest = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const m = GC_LINE.exec(line);
      if (m) gcPauses.push({ at: Date.now(), kind: m[1]!, ms: Number(m[2]) });
      else process.stdout.write(`${line}\n`);
    }
  });
}

function gcSummary(from: number, to: number): string {
  const xs = gcPauses.filter((g) => g.at >= from && g.at <= to);
  const by = (kind: string) => xs.filter((g) => g.kind === kind);
  const fmtKind = (kind: string) => {
    const k = by(kind);
    return k.length ? `${kind} ${k.length}× (max ${fmt(Math.max(...k.map((g) => g.ms)), 1)} ms, total ${fmt(k.reduce((a, g) => a + g.ms, 0), 0)} ms)` : null;
  };
  const parts = ['Scavenge', 'Minor Mark-Compact', 'Mark-Compact', 'Mark-sweep'].map(fmtKind).filter(Boolean);
  return parts.length ? parts.join(', ') : 'none';
}

async function startService(dataDir: string, dbUrl: string | null): Promise<ChildProcess> {
  const args = [...(opts['trace-gc'] ? ['--trace-gc'] : []), '--import', 'tsx', 'server/cli/osdeploy.ts', 'serve', '--data-dir', dataDir, '--http-port', String(HTTP_PORT), '--bind', '0.0.0.0', '--advertise-address', SRV_ADDR, '--tftp', 'off', '--log-level', opts['log-level']!];
  const env: Record<string, string | undefined> = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OSDEPLOY_')));
  if (dbUrl && DB_KEY) {
    env[DB_KEY.env] = dbUrl;
    if (DB_KEY.flag) args.push(`--${DB_KEY.flag}`, dbUrl);
  }
  const started = Date.now();
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', opts['trace-gc'] ? 'pipe' : 'inherit', 'inherit'] });
  if (opts['trace-gc']) watchGc(child);
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
    try {
      const r = await fetch(`http://127.0.0.1:${HTTP_PORT}/healthz`);
      const body = (await r.json()) as { roles?: { role: string; state: string; detail: string }[] };
      const pxe = body.roles?.find((x) => x.role === 'pxe');
      if (pxe && pxe.state !== 'up') throw new Error(`the PXE responder is ${pxe.state}: ${pxe.detail}`);
      if (pxe) {
        // The PXE role opens only once the policy state is built (server/main.ts).
        console.log(`start-up: ${((Date.now() - started) / 1000).toFixed(1)} s from process start to the PXE role answering (tsx compile + database open + policy state built)`);
        return child;
      }
    } catch (e) {
      if ((e as Error).message.startsWith('the PXE responder')) {
        child.kill('SIGKILL');
        throw e;
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('the service did not answer /healthz with its PXE role up within 180 s');
    }
    await sleep(200);
  }
}

function rssOf(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

// ================================================================== role poster: status batches, its own process

interface PosterResult {
  readonly posts: number;
  readonly ok: number;
  readonly failed: number;
  readonly statuses: Record<string, number>;
  readonly accepted: number;
  readonly rejected: number;
  readonly duplicates: number;
  readonly r19Starts: number;
  readonly messages: number;
  readonly seconds: number;
  readonly latencies: number[];
  readonly unfinished: number;
  readonly firstRejection: string | null;
}

type Msg = Record<string, unknown> & { id: string };

/** One engine's run as the messages it posts, in order. */
function runMessages(plan: RunPlan, runId: string, t0: number): Msg[] {
  const base = { computerId: plan.computerId, deploymentId: plan.deploymentId, runId };
  const out: Msg[] = [];
  let n = 0;
  const add = (m: Record<string, unknown>) => out.push({ id: `${runId}.${++n}`, at: t0 + n * 1000, ...base, ...m });
  add({ kind: 'runStarted', source: plan.source, message: `bench run of ${plan.deploymentId}` });
  plan.steps.forEach((step, i) => {
    add({ kind: 'stepStarted', step });
    add({ kind: 'progress', percent: Math.round((100 * (i + 0.5)) / plan.steps.length), message: `${step.name}: working` });
    add({ kind: 'stepSucceeded', step, exitCode: 0, durationMs: 1000 + i * 137, outputTail: `${step.type} finished\nexit code 0\n` });
  });
  add({ kind: 'runFinished', outcome: 'success', percent: 100 });
  return out;
}

async function runPoster(): Promise<void> {
  const runs = JSON.parse(readFileSync(opts.pool!, 'utf8')) as RunPlan[];
  const url = `${opts.url}/api/v1/status`;
  const headers = { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' };
  const tag = `b${Date.now().toString(36)}`;
  let nextRun = 0;
  let runSeq = 0;
  let r19Starts = 0;
  // 5 engines' worth of messages per batch (10 each), engines replaced as their runs finish.
  const perEngine = Math.max(1, Math.round(N.batch / 5));
  const engines: Msg[][] = [];
  const newEngine = (): Msg[] => {
    const plan = runs[nextRun++ % runs.length]!;
    if (plan.r19) r19Starts++;
    return runMessages(plan, `${tag}-${++runSeq}`, Date.now());
  };
  let cursor = 0;
  const nextBatch = (): Msg[] => {
    const batch: Msg[] = [];
    while (batch.length < N.batch) {
      if (engines.length < 50) engines.push(newEngine());
      const e = cursor++ % engines.length;
      const take = engines[e]!.splice(0, Math.min(perEngine, N.batch - batch.length));
      batch.push(...take);
      if (engines[e]!.length === 0) engines[e] = newEngine();
    }
    return batch;
  };

  let measuring = false;
  let stopping = false;
  const res = { posts: 0, ok: 0, failed: 0, statuses: {} as Record<string, number>, accepted: 0, rejected: 0, duplicates: 0, messages: 0, latencies: [] as number[], firstRejection: null as string | null };
  const inFlight = new Set<Promise<void>>();
  const post = (batch: Msg[]): void => {
    const counted = measuring;
    const t0 = process.hrtime.bigint();
    const p = (async () => {
      let status = 'error';
      try {
        const r = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ messages: batch }) });
        status = String(r.status);
        const body = (await r.json()) as { accepted?: number; duplicates?: number; rejected?: { reason: string }[] };
        if (counted) {
          res.accepted += body.accepted ?? 0;
          res.duplicates += body.duplicates ?? 0;
          res.rejected += body.rejected?.length ?? 0;
          res.firstRejection ??= body.rejected?.[0]?.reason ?? null;
        }
      } catch {
        // counted as an error below
      }
      if (!counted) return;
      res.latencies.push(ms(t0));
      res.posts++;
      res.messages += batch.length;
      res.statuses[status] = (res.statuses[status] ?? 0) + 1;
      if (status === '200') res.ok++;
      else res.failed++;
    })();
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  process.on('message', (m) => {
    if (m === 'stop') stopping = true;
  });
  const period = 1000 / N.batches;
  const start = performance.now();
  let measuredFrom = 0;
  for (let k = 0; !stopping; k++) {
    const due = start + k * period;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    if (stopping) break;
    if (!measuring && performance.now() - start >= 1000) {
      // One second of warm-up (connections, JIT), then the measured part starts.
      measuring = true;
      measuredFrom = performance.now();
      process.send?.('ready');
    }
    post(nextBatch());
  }
  const measuredTo = performance.now();
  const unfinished = inFlight.size;
  await Promise.race([Promise.allSettled([...inFlight]), sleep(30_000)]);
  const result: PosterResult = { ...res, r19Starts, seconds: (measuredTo - measuredFrom) / 1000, unfinished };
  process.send?.({ result });
  process.disconnect?.();
}

function startPoster(token: string, poolFile: string): { child: ChildProcess; ready: Promise<void>; result: Promise<PosterResult> } {
  const child = fork(SELF, ['--role', 'poster', '--url', `http://127.0.0.1:${HTTP_PORT}`, '--token', token, '--pool', poolFile, '--batches', String(N.batches), '--batch', String(N.batch)], {
    execArgv: ['--import', 'tsx'],
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  const result = new Promise<PosterResult>((resolve, reject) => {
    child.on('message', (m: unknown) => {
      if (m === 'ready') onReady();
      else if (m && typeof m === 'object' && 'result' in m) resolve((m as { result: PosterResult }).result);
    });
    child.once('exit', (code) => reject(new Error(`the status poster exited (${code}) without a result`)));
  });
  return { child, ready, result };
}

// ================================================================== role run (inside osdimg-srv)

interface Phase {
  readonly name: string;
  /** Wall-clock window of the DISCOVERs (and the wait for late OFFERs). */
  readonly from: number;
  readonly to: number;
  readonly dhcp: PhaseDhcp;
  readonly udpSrv: Record<string, number>;
  readonly udpCli: Record<string, number>;
  readonly poster: PosterResult | null;
}

const diff = (a: Record<string, number>, b: Record<string, number>): Record<string, number> => Object.fromEntries(Object.keys(b).map((k) => [k, (b[k] ?? 0) - (a[k] ?? 0)]));

async function phase(name: string, macFile: string, poster: { token: string; pool: string } | null): Promise<Phase> {
  const p = poster ? startPoster(poster.token, poster.pool) : null;
  try {
    if (p) await p.ready;
    const srv0 = udpCounters(null);
    const cli0 = udpCounters(NS_CLI);
    const from = Date.now();
    const dhcp = await perfdhcp(macFile, N.rate, N.duration);
    const to = Date.now();
    const udpSrv = diff(srv0, udpCounters(null));
    const udpCli = diff(cli0, udpCounters(NS_CLI));
    p?.child.send('stop');
    return { name, from, to, dhcp, udpSrv, udpCli, poster: p ? await p.result : null };
  } finally {
    if (p && p.child.exitCode === null) p.child.kill('SIGTERM');
  }
}

function printPhases(phases: Phase[]): void {
  const f2 = (n: number) => fmt(n, 2);
  console.log(`\n| phase | DISCOVERs sent | OFFERs ≤ ${N.dropTime} s | offers/s | drop % | DISCOVER→OFFER p50 ms | p99 ms | max ms | OFFERs > ${N.dropTime} s | UDP rcvbuf drops (server / perfdhcp) | status POSTs (msgs) | POST p50 ms | POST p99 ms | POST max ms |`);
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const ph of phases) {
    const d = ph.dhcp;
    const lat = Float64Array.from(ph.poster?.latencies ?? []).sort();
    const post = ph.poster ? [`${fmt(ph.poster.posts)} (${fmt(ph.poster.messages)})`, f2(quantile(lat, 0.5)), f2(quantile(lat, 0.99)), f2(lat.at(-1) ?? NaN)] : ['—', '—', '—', '—'];
    console.log(
      `| ${ph.name} | ${fmt(d.sent)} | ${fmt(d.answered)} | ${fmt(d.offersPerSec, 1)} | ${f2(d.dropPct)} | ${f2(quantile(d.latencies, 0.5))} | ${f2(quantile(d.latencies, 0.99))} | ${f2(d.latencies.at(-1) ?? NaN)} | ${fmt(d.late)} | ${fmt(ph.udpSrv.RcvbufErrors ?? 0)} / ${fmt(ph.udpCli.RcvbufErrors ?? 0)} | ${post.join(' | ')} |`,
    );
  }
  for (const ph of phases) console.log(`${ph.name}: perfdhcp's own figures: rate ${ph.dhcp.perfdhcpRate}/s (over the sending period and the wait), orphans ${fmt(ph.dhcp.orphans)}`);
  // Where the DISCOVERs went: UDP counters of each namespace (only DHCP is UDP here).
  for (const ph of phases) {
    const [srv, cli] = [ph.udpSrv, ph.udpCli];
    console.log(
      `${ph.name}: perfdhcp sent ${fmt(ph.dhcp.sent)} → the service's sockets took ${fmt(srv.InDatagrams ?? 0)} (${fmt(srv.RcvbufErrors ?? 0)} dropped, receive buffer full) → ` +
        `it sent ${fmt(srv.OutDatagrams ?? 0)} OFFERs → perfdhcp's socket took ${fmt(cli.InDatagrams ?? 0)} (${fmt(cli.RcvbufErrors ?? 0)} dropped, receive buffer full: lost by the load generator) → ${fmt(ph.dhcp.answered)} counted within ${N.dropTime} s`,
    );
  }
  if (opts['trace-gc']) for (const ph of phases) console.log(`${ph.name}: the service's GC pauses: ${gcSummary(ph.from, ph.to)}`);
  const posted = phases.find((p) => p.poster)?.poster;
  if (posted) {
    console.log(
      `status poster: ${fmt(posted.posts)} POSTs in ${fmt(posted.seconds, 1)} s (${fmt(posted.messages / posted.seconds, 0)} msgs/s), answers ${JSON.stringify(posted.statuses)}; ` +
        `accepted ${fmt(posted.accepted)}, rejected ${fmt(posted.rejected)}${posted.firstRejection ? ` (first: ${posted.firstRejection})` : ''}, duplicates ${fmt(posted.duplicates)}; ` +
        `runs started from PXE for a Required deployment (R-19 records): ${posted.r19Starts}; still unanswered at the end: ${posted.unfinished}`,
    );
  }
}

function verdicts(quiet: Phase, busy: Phase): boolean {
  const ratio = busy.dhcp.offersPerSec / quiet.dhcp.offersPerSec;
  const lat = Float64Array.from(busy.poster?.latencies ?? []).sort();
  const checks: [string, boolean][] = [
    [`offers/s with status traffic / quiet = ${fmt(ratio, 3)} (≥ ${TARGET.ratio})`, ratio >= TARGET.ratio],
    [`drop % quiet ${fmt(quiet.dhcp.dropPct, 2)}, with status ${fmt(busy.dhcp.dropPct, 2)} (< ${TARGET.dropPct})`, quiet.dhcp.dropPct < TARGET.dropPct && busy.dhcp.dropPct < TARGET.dropPct],
    [`DISCOVER→OFFER p99 quiet ${fmt(quiet.dhcp.latencies.length ? quantile(quiet.dhcp.latencies, 0.99) : NaN, 2)} ms, with status ${fmt(busy.dhcp.latencies.length ? quantile(busy.dhcp.latencies, 0.99) : NaN, 2)} ms (< ${TARGET.p99Ms} ms)`, quantile(quiet.dhcp.latencies, 0.99) < TARGET.p99Ms && quantile(busy.dhcp.latencies, 0.99) < TARGET.p99Ms],
    [`status POST p99 ${fmt(quantile(lat, 0.99), 2)} ms (< ${TARGET.postP99Ms} ms), every POST answered 200`, quantile(lat, 0.99) < TARGET.postP99Ms && (busy.poster?.failed ?? 1) === 0 && (busy.poster?.posts ?? 0) > 0],
  ];
  console.log('');
  for (const [what, ok] of checks) console.log(`${ok ? 'PASS' : 'FAIL'}  ${what}`);
  const lostByGenerator = (quiet.udpCli.RcvbufErrors ?? 0) + (busy.udpCli.RcvbufErrors ?? 0);
  if (lostByGenerator > 0) console.log(`note: ${fmt(lostByGenerator)} of the dropped OFFERs were sent by the service and lost in perfdhcp's own receive buffer (a CPU-starved load generator: check the load average)`);
  return checks.every(([, ok]) => ok);
}

async function runInside(): Promise<void> {
  const perfdhcpVersion = spawnSync(PERFDHCP!, ['-v'], { encoding: 'utf8' }).stdout.trim().replace(/^VERSION:\s*/, '');
  const dbUrl = opts['database-url'] ?? null;
  let database = 'SQLite (embedded, DATA_DIR/site.db)';
  if (dbUrl && !DB_KEY) {
    console.log('PostgreSQL is not available yet: this osdeploy has no database-url setting (its configuration refuses --database-url and OSDEPLOY_DATABASE_URL). Running on the embedded SQLite only.\n');
  } else if (dbUrl) {
    database = `${/^postgres(ql)?:/.test(dbUrl) ? 'PostgreSQL' : 'database'} at ${dbUrl.replace(/\/\/[^@/]*@/, '//…@')}`;
  }
  console.log(`bench/imaging-day: ${fmt(N.computers)} computers, ${N.collections} collections, ${fmt(N.deployments)} deployments; DISCOVERs at ${fmt(N.rate)}/s for ${N.duration} s per phase (after ${N.warmup} s of warm-up); status: ${N.batches} batches/s × ${N.batch} messages; database: ${database}`);
  console.log(`machine: nproc ${os.availableParallelism()}, ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB RAM, node ${process.version}, perfdhcp ${perfdhcpVersion}; load average at start ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}\n`);

  const random = mulberry32(Number(opts.seed));
  const dbOk = dbUrl && DB_KEY;
  const site = await generateSite(
    {
      computers: N.computers,
      collections: N.collections,
      deployments: N.deployments,
      tmpPrefix: 'osdeploy-bench-imaging-',
      ...(dbOk && DB_KEY.flag ? { configFlags: { [DB_KEY.flag]: dbUrl } } : {}),
    },
    random,
    (ctx) => benchData(ctx, random),
  );
  const { extra } = site;
  console.log('site (in process, through the site operations):');
  for (const [what, t] of Object.entries(site.timings)) console.log(`  ${what.padEnd(48)} ${fmt(t).padStart(8)} ms`);
  console.log(`  counts: ${JSON.stringify(site.counts)}`);
  console.log(`  boot answers (resolveBoot, x64 PXE): ${JSON.stringify(extra.answers)}`);
  console.log(`  DISCOVER MACs: ${fmt(extra.knownMacs.length)} known computers + ${fmt(extra.unknownMacs.length)} unknown machines; status runs planned: ${fmt(extra.runs.length)} (${extra.runs.filter((r) => r.r19).length} Required from PXE, their machines left out of the DISCOVERs)\n`);

  const macFile = path.join(site.dataDir, 'perfdhcp-macs.txt');
  writeFileSync(macFile, [...extra.knownMacs, ...extra.unknownMacs].join('\n') + '\n');
  const poolFile = path.join(site.dataDir, 'status-runs.json');
  writeFileSync(poolFile, JSON.stringify(extra.runs));

  let t0 = process.hrtime.bigint();
  const child = await startService(site.dataDir, dbOk ? dbUrl : null);
  let ok: boolean;
  const onSignal = () => {
    child.kill('SIGTERM');
    process.exit(130);
  };
  process.once('SIGTERM', onSignal);
  try {
    console.log(`service: ready (HTTP and PXE up) in ${fmt(ms(t0))} ms; RSS ${fmt(rssOf(child.pid!)?.rss ?? NaN)} MB`);
    t0 = process.hrtime.bigint();
    const check = await perfdhcp(macFile, 50, 1);
    if (check.answered === 0) throw new Error(`no OFFER came back to perfdhcp in the check run (sent ${check.sent}):\n${check.raw.split('***Timestamps')[0]}`);
    console.log(`check: ${check.answered}/${check.sent} DISCOVERs answered at 50/s (${fmt(ms(t0) / 1000, 1)} s with the wait for late OFFERs)`);
    if (N.warmup > 0) {
      const w = await perfdhcp(macFile, N.rate, N.warmup);
      console.log(`warm-up: ${fmt(w.answered)}/${fmt(w.sent)} answered within ${N.dropTime} s (${fmt(w.late)} later), p50 ${fmt(quantile(w.latencies, 0.5), 2)} ms, p99 ${fmt(quantile(w.latencies, 0.99), 2)} ms`);
    }
    const quiet = await phase('quiet', macFile, null);
    console.log(`quiet phase done; load average ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`);
    const busy = await phase(`with ${fmt(N.batches * N.batch)} status msgs/s`, macFile, { token: extra.siteToken, pool: poolFile });
    const mem = rssOf(child.pid!);
    printPhases([quiet, busy]);
    console.log(`service memory after the phases: RSS ${fmt(mem?.rss ?? NaN)} MB, peak ${fmt(mem?.hwm ?? NaN)} MB; load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`);
    ok = verdicts(quiet, busy);
    writeFileSync(path.join(site.dataDir, 'perfdhcp-status-phase.txt'), busy.dhcp.raw);
  } finally {
    process.removeListener('SIGTERM', onSignal);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    if (opts.keep) console.log(`data kept in ${site.dataDir} (perfdhcp-macs.txt, status-runs.json, perfdhcp-status-phase.txt)`);
    else rmSync(site.dataDir, { recursive: true, force: true });
  }
  process.exitCode = ok ? 0 : 1;
}

const roles: Record<string, () => Promise<void>> = { main: runMain, run: runInside, poster: runPoster };
const role = roles[opts.role!];
if (!role) throw new Error(`unknown --role ${opts.role}`);
await role();
