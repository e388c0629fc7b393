/**
 * The HTTP API under load (issue: "autocannon against the list-deployments and boot-policy routes
 * with 100,000 computers loaded; print requests/s and p99 latency").
 *
 *   npm run bench:api
 *   node --import tsx bench/api.ts --computers 10000 --duration 3      # a quick smoke run
 *   npm run bench:api -- --database-url postgres://…                   # the same on PostgreSQL
 *
 * 1. Builds a site in a temporary data directory, in this process, through the site operations
 *    the API uses (importComputers, createCollection, createTs, deploy…): 100,000 computers,
 *    200 collections with direct members, content, 12 task sequences and 2,000 deployments.
 * 2. Closes the database and starts the real service as a child process
 *    (`node --import tsx server/cli/osdeploy.ts serve …`), so the load generator never shares
 *    the server's event loop.
 * 3. Runs autocannon here for `--duration` seconds per route, after a short warm-up:
 *    GET /api/v1/deployments?limit=100 (admin token) and GET /api/v1/boot-policy?mac=…&arch=x64
 *    (client token; the MAC varies per request over known and unknown machines).
 *
 * There is no peer to run side by side: no open implementation serves Configuration Manager's
 * deployment and boot-policy model over HTTP. Figures are absolute; they go to bench/RESULTS.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CONFIG_KEYS } from '../server/config.js';
import { fmt, generateSite, knownMac, ms, mulberry32, unknownMac as unknownMacOf } from './lib/site-generator.js';

// ------------------------------------------------------------------ autocannon (no bundled types)

interface Histogram {
  readonly average: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}
interface AutocannonResult {
  readonly requests: Histogram & { readonly total: number };
  readonly latency: Histogram;
  readonly throughput: Histogram;
  readonly duration: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly statusCodeStats: Record<string, { count: number }>;
}
interface RawRequest {
  path?: string;
  method?: string;
  headers?: Record<string, string>;
}
interface AutocannonOptions {
  readonly url: string;
  readonly connections: number;
  readonly duration: number;
  readonly headers?: Record<string, string>;
  readonly requests?: readonly { method?: string; path?: string; setupRequest?: (req: RawRequest) => RawRequest }[];
}
/** The run is an EventEmitter that is also a promise of the result. */
type Run = Promise<AutocannonResult> & { on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): Run };
type Autocannon = (opts: AutocannonOptions) => Run;
// autocannon ships no type declarations and package.json is not ours to change here.
const { default: autocannon } = (await import('autocannon' as string)) as { default: Autocannon };

// ------------------------------------------------------------------ options

const { values: opts } = parseArgs({
  options: {
    computers: { type: 'string', default: '100000' },
    collections: { type: 'string', default: '200' },
    deployments: { type: 'string', default: '2000' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '10' },
    'unknown-share': { type: 'string', default: '0.2' },
    'log-level': { type: 'string', default: 'warn' },
    seed: { type: 'string', default: '20260315' },
    keep: { type: 'boolean', default: false },
    /** The site database (OSDEPLOY_DATABASE_URL): a postgres:// URL runs the site on PostgreSQL; it should be an empty database. */
    'database-url': { type: 'string' },
  },
});
const databaseUrl = opts['database-url'] ?? null;
const N = {
  computers: Number(opts.computers),
  collections: Number(opts.collections),
  deployments: Number(opts.deployments),
  duration: Number(opts.duration),
  warmup: Number(opts.warmup),
  connections: Number(opts.connections),
  unknownShare: Number(opts['unknown-share']),
};
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const unknownMac = (): string => unknownMacOf(random);

// ------------------------------------------------------------------ seeded randomness

const random = mulberry32(Number(opts.seed));
const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));

// ------------------------------------------------------------------ 1. the site, in process (bench/lib/site-generator.ts)

interface Loaded {
  readonly dataDir: string;
  readonly adminToken: string;
  readonly clientToken: string;
  readonly timings: Record<string, number>;
  readonly counts: Record<string, number>;
}

function loadSite(): Promise<Loaded> {
  return generateSite(
    { computers: N.computers, collections: N.collections, deployments: N.deployments, tmpPrefix: 'osdeploy-bench-api-', ...(databaseUrl ? { configFlags: { 'database-url': databaseUrl } } : {}) },
    random,
  );
}

// ------------------------------------------------------------------ 2. the service, as a child

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

async function startChild(dataDir: string, port: number): Promise<ChildProcess> {
  const args = ['--import', 'tsx', 'server/cli/osdeploy.ts', 'serve', '--data-dir', dataDir, '--http-port', String(port), '--bind', '127.0.0.1', '--log-level', opts['log-level']!];
  // The UDP boot roles are not measured here (and their fixed ports may be taken).
  for (const flag of Object.values(CONFIG_KEYS).map((k) => k.flag)) if (flag === 'pxe' || flag === 'tftp') args.push(`--${flag}`, 'off');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OSDEPLOY_')));
  if (databaseUrl) args.push('--database-url', databaseUrl);
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('the service did not answer /healthz within 60 s');
    }
    await new Promise((r) => setTimeout(r, 100));
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

// ------------------------------------------------------------------ 3. load

interface Route {
  readonly name: string;
  readonly token: string;
  readonly path?: string;
  readonly setupRequest?: (req: RawRequest) => RawRequest;
}

/**
 * autocannon's own latency histogram counts whole milliseconds, which reads 0 for most of these
 * answers; every response time (fractional ms, from process.hrtime) is therefore kept as well.
 */
interface Measured {
  readonly r: AutocannonResult;
  readonly times: Float64Array;
}

async function measure(base: string, route: Route, duration: number): Promise<Measured> {
  const times: number[] = [];
  const run = autocannon({
    url: base,
    connections: N.connections,
    duration,
    headers: { authorization: `Bearer ${route.token}` },
    requests: [{ method: 'GET', ...(route.path ? { path: route.path } : {}), ...(route.setupRequest ? { setupRequest: route.setupRequest } : {}) }],
  });
  run.on('response', (_client, _status, _bytes, t) => times.push(t));
  const r = await run;
  return { r, times: Float64Array.from(times).sort() };
}

const quantile = (sorted: Float64Array, q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;

async function main(): Promise<void> {
  console.log(`bench/api: ${fmt(N.computers)} computers, ${N.collections} collections, ${fmt(N.deployments)} deployments; ${N.connections} connections, ${N.duration} s per route; database: ${databaseUrl ? 'PostgreSQL' : 'SQLite'}`);
  console.log(`machine: nproc ${os.availableParallelism()}, ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, node ${process.version}\n`);

  const site = await loadSite();
  console.log('load (in process, through the site operations):');
  for (const [what, t] of Object.entries(site.timings)) console.log(`  ${what.padEnd(48)} ${fmt(t).padStart(8)} ms`);
  console.log(`  counts: ${JSON.stringify(site.counts)}`);
  if (!databaseUrl) console.log(`  site.db: ${fmt(statSync(path.join(site.dataDir, 'site.db')).size / 2 ** 20, 1)} MB`);
  console.log('');

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let t0 = process.hrtime.bigint();
  const child = await startChild(site.dataDir, port);
  const startMs = ms(t0);
  try {
    // The first policy answer builds the service's snapshot from the database.
    t0 = process.hrtime.bigint();
    const first = await fetch(`${base}/api/v1/boot-policy?mac=${knownMac(0)}&arch=x64`, { headers: { authorization: `Bearer ${site.clientToken}` } });
    const firstMs = ms(t0);
    if (!first.ok) throw new Error(`boot-policy answered ${first.status}: ${await first.text()}`);
    console.log(`service: ready in ${fmt(startMs)} ms; first boot-policy answer (builds the snapshot) ${fmt(firstMs)} ms\n`);

    const kinds: Record<string, number> = {};
    let known = 0;
    let unknown = 0;
    const routes: Route[] = [
      { name: 'GET /api/v1/deployments?limit=100', token: site.adminToken, path: '/api/v1/deployments?limit=100' },
      {
        name: 'GET /api/v1/boot-policy?mac=…&arch=x64',
        token: site.clientToken,
        setupRequest: (req) => {
          const isUnknown = random() < N.unknownShare;
          if (isUnknown) unknown++;
          else known++;
          return { ...req, path: `/api/v1/boot-policy?mac=${isUnknown ? unknownMac() : knownMac(int(0, N.computers - 1))}&arch=x64` };
        },
      },
    ];
    // What the boot answers look like (sampled, outside the measurement).
    for (let i = 0; i < 200; i++) {
      const mac = i % 5 === 0 ? unknownMac() : knownMac(int(0, N.computers - 1));
      const r = (await (await fetch(`${base}/api/v1/boot-policy?mac=${mac}&arch=x64`, { headers: { authorization: `Bearer ${site.clientToken}` } })).json()) as { kind: string };
      kinds[r.kind] = (kinds[r.kind] ?? 0) + 1;
    }

    const results: ({ route: Route } & Measured)[] = [];
    for (const route of routes) {
      if (N.warmup > 0) await measure(base, route, N.warmup);
      known = unknown = 0;
      results.push({ route, ...(await measure(base, route, N.duration)) });
      if (route.setupRequest) console.log(`boot-policy MACs: ${fmt(known)} known, ${fmt(unknown)} unknown; sampled answers: ${JSON.stringify(kinds)}`);
    }
    const mem = child.pid ? rssOf(child.pid) : null;

    console.log('\n| route | req/s (mean) | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | requests | errors | non-2xx |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const { route, r, times } of results)
      console.log(
        `| \`${route.name}\` | ${fmt(r.requests.average)} | ${fmt(quantile(times, 0.5), 2)} | ${fmt(quantile(times, 0.9), 2)} | ${fmt(quantile(times, 0.99), 2)} | ${fmt(quantile(times, 0.999), 2)} | ${fmt(times.at(-1) ?? NaN, 1)} | ${fmt(r.requests.total)} | ${r.errors} | ${r.non2xx} |`,
      );
    console.log(`(latency from every response's own time; autocannon's whole-ms histogram gave p99 ${results.map(({ r }) => `${r.latency.p99} ms`).join(' and ')})`);
    if (mem) console.log(`\nservice memory after the runs: RSS ${fmt(mem.rss)} MB, peak ${fmt(mem.hwm)} MB`);
    console.log('\nPeers: none. No open implementation serves this deployment / boot-policy API to run side by side; figures are absolute.');
    const bad = results.filter(({ r }) => r.errors > 0 || r.non2xx > 0);
    if (bad.length) {
      console.log(`FAIL: errors or non-2xx answers on ${bad.map(({ route }) => route.name).join(', ')}: ${JSON.stringify(bad.map(({ r }) => r.statusCodeStats))}`);
      process.exitCode = 1;
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    if (opts.keep) console.log(`data kept in ${site.dataDir}`);
    else rmSync(site.dataDir, { recursive: true, force: true });
  }
}

await main();
