/**
 * TFTP throughput side by side (SPEC R-21, DESIGN.md "Speed is a feature"): one file fetched over
 * loopback by the same client from osdeploy, from tftpd-hpa and from dnsmasq's TFTP server.
 *
 *   node --import tsx bench/tftp.ts                 # 100 MB, 5 runs per case, 50 concurrent clients
 *   node --import tsx bench/tftp.ts --size-mb 20 --runs 3 --concurrent-mb 2
 *
 * Cases: atftp at blksize 1468 with windowsize 1 and 16 (atftp is the client here that speaks
 * RFC 7440 windowsize; tftpd-hpa and dnsmasq do not, so they answer without it and run at
 * window 1), curl at blksize 1468 (no windowsize), and 50 concurrent atftp clients at window 1
 * and 16 on a smaller file. Server and clients are all pinned to one core (`taskset -c 0`).
 * Every fetched file is checked by sha256 outside the timed span. Prints the median MB/s
 * (10^6 bytes per second of wall time) per server, the ratio osdeploy/peer, and PASS/FAIL
 * against the targets: ratio ≥ 1.0 everywhere and ≥ 2 where windowsize applies.
 *
 * dnsmasq has no option for its TFTP port: it always listens on UDP 69, so it runs only when
 * this script may bind 69 (root) and the port is free; otherwise it is skipped with a note.
 * `--serve DIR --port N` is the internal mode that runs the osdeploy service in a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { RootedFileSource } from '../server/tftp/file-source.js';
import { startTftpService } from '../server/tftp/service.js';

const { values: opt } = parseArgs({
  options: {
    serve: { type: 'string' },
    port: { type: 'string' },
    'size-mb': { type: 'string', default: '100' },
    'concurrent-mb': { type: 'string', default: '10' },
    clients: { type: 'string', default: '50' },
    runs: { type: 'string', default: '5' },
    core: { type: 'string', default: '0' },
    peers: { type: 'string', default: 'tftpd-hpa,dnsmasq' },
    cases: { type: 'string', default: 'w1,w16,curl,c-w1,c-w16' },
    /** Also run osdeploy on its JavaScript data path, as `osdeploy-js` (informational, no target). */
    js: { type: 'boolean', default: true },
    engine: { type: 'string', default: 'auto' },
  },
});

interface Server {
  name: string;
  port: number;
  proc: ChildProcess;
}

const CORE = opt.core as string;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function exec(cmd: string, args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: 'ignore' });
    p.on('exit', (code) => resolve(code));
    p.on('error', () => resolve(-1));
  });
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function portFree(port: number): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  const ok = await new Promise<boolean>((r) => {
    s.once('error', () => r(false));
    s.bind(port, '127.0.0.1', () => r(true));
  });
  if (ok) await new Promise<void>((r) => s.close(() => r()));
  return ok;
}

/** Waits until a tiny probe file can be fetched from `port`. */
async function ready(port: number, dir: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    const out = join(dir, 'probe.out');
    if ((await exec('curl', ['-s', '-o', out, `tftp://127.0.0.1:${port}/probe.txt`])) === 0) return true;
    await sleep(100);
  }
  return false;
}

async function startServer(name: string, dir: string): Promise<Server | string> {
  const pin = ['-c', CORE];
  if (name === 'osdeploy' || name === 'osdeploy-js') {
    const port = await freeUdpPort();
    const engine = name === 'osdeploy-js' ? 'js' : 'auto';
    const proc = spawn('taskset', [...pin, process.execPath, '--import', 'tsx', 'bench/tftp.ts', '--serve', dir, '--port', String(port), '--engine', engine], { stdio: ['ignore', 'ignore', 'pipe'] });
    const line = await new Promise<string>((r) => proc.stderr?.on('data', (d: Buffer) => d.toString().includes('READY') && r(d.toString().trim())));
    console.log(`${name}: ${line}`);
    return { name, port, proc };
  }
  if (name === 'tftpd-hpa') {
    const port = await freeUdpPort();
    const proc = spawn('taskset', [...pin, 'in.tftpd', '-L', '-u', 'root', '-s', dir, '-a', `127.0.0.1:${port}`], { stdio: 'ignore' });
    return (await ready(port, dir)) ? { name, port, proc } : (proc.kill(), 'in.tftpd did not start');
  }
  if (name === 'dnsmasq') {
    if (process.getuid?.() !== 0) return 'skipped: dnsmasq serves TFTP only on UDP 69, which needs root';
    if (!(await portFree(69))) return 'skipped: UDP 69 on 127.0.0.1 is in use';
    const args = ['--no-daemon', '--conf-file=/dev/null', '--port=0', '--enable-tftp', `--tftp-root=${dir}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--user=root', '--tftp-max=200', '--quiet-tftp', '--log-facility=/dev/null'];
    const proc = spawn('taskset', [...pin, 'dnsmasq', ...args], { stdio: 'ignore' });
    return (await ready(69, dir)) ? { name, port: 69, proc } : (proc.kill(), 'dnsmasq did not start');
  }
  return `unknown server ${name}`;
}

async function stopServer(s: Server): Promise<void> {
  s.proc.kill('SIGTERM');
  await new Promise((r) => (s.proc.exitCode !== null ? r(null) : s.proc.once('exit', r)));
}

interface Case {
  id: string;
  label: string;
  client: string;
  file: 'big' | 'conc';
  clients: number;
  argv: (port: number, out: string, remote: string) => [string, string[]];
  windowed: boolean;
}

const atftp = (window: number) => (port: number, out: string, remote: string): [string, string[]] => [
  'atftp',
  ['--get', '-r', remote, '-l', out, '--option', 'blksize 1468', ...(window > 1 ? ['--option', `windowsize ${window}`] : []), '127.0.0.1', String(port)],
];
const CLIENTS = Number(opt.clients);
const ALL_CASES: Case[] = [
  { id: 'w1', label: 'blksize 1468, windowsize 1', client: 'atftp', file: 'big', clients: 1, argv: atftp(1), windowed: false },
  { id: 'w16', label: 'blksize 1468, windowsize 16', client: 'atftp', file: 'big', clients: 1, argv: atftp(16), windowed: true },
  {
    id: 'curl',
    label: 'blksize 1468 (no windowsize)',
    client: 'curl',
    file: 'big',
    clients: 1,
    argv: (port, out, remote) => ['curl', ['-s', '--tftp-blksize', '1468', '-o', out, `tftp://127.0.0.1:${port}/${remote}`]],
    windowed: false,
  },
  { id: 'c-w1', label: `${CLIENTS} concurrent, blksize 1468, windowsize 1`, client: 'atftp', file: 'conc', clients: CLIENTS, argv: atftp(1), windowed: false },
  { id: 'c-w16', label: `${CLIENTS} concurrent, blksize 1468, windowsize 16`, client: 'atftp', file: 'conc', clients: CLIENTS, argv: atftp(16), windowed: true },
];

/** CPU seconds used so far by `pid` and its reaped children (tftpd-hpa forks one per transfer). */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14..17 of /proc/PID/stat (utime, stime, cutime, cstime), in clock ticks (100 Hz).
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(f[i] ?? 0), 0) / 100;
}

interface RunFigures {
  mbps: number;
  /** Server CPU seconds per 100 MB delivered. */
  cpu: number;
}

/** One timed run: all clients start together; the time is until the last one exits. */
async function runOnce(c: Case, server: Server, outDir: string, expected: { size: number; sha: string }): Promise<RunFigures> {
  const outs = Array.from({ length: c.clients }, (_, i) => join(outDir, `${server.name}-${c.id}-${i}`));
  const remote = c.file === 'big' ? 'big.bin' : 'conc.bin';
  const cpu0 = await cpuSeconds(server.proc.pid);
  const t0 = process.hrtime.bigint();
  const codes = await Promise.all(
    outs.map((o) => {
      const [cmd, args] = c.argv(server.port, o, remote);
      return exec('taskset', ['-c', CORE, cmd, ...args]);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await sleep(100); // let forked transfer processes exit and be reaped before reading CPU
  const cpu = await cpuSeconds(server.proc.pid) - cpu0;
  for (const [i, o] of outs.entries()) {
    if (codes[i] !== 0) throw new Error(`${server.name} ${c.id}: client ${i} exited ${codes[i]}`);
    const got = await readFile(o);
    if (got.length !== expected.size || sha(got) !== expected.sha) throw new Error(`${server.name} ${c.id}: client ${i} got a wrong file`);
    await rm(o);
  }
  const mb = (expected.size * c.clients) / 1e6;
  return { mbps: mb / seconds, cpu: (cpu / mb) * 100 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main(): Promise<void> {
  const runs = Number(opt.runs);
  const dir = await mkdtemp(join(os.tmpdir(), 'osdeploy-bench-tftp-'));
  const outDir = await mkdtemp('/dev/shm/osdeploy-bench-tftp-out-').catch(() => mkdtemp(join(os.tmpdir(), 'osdeploy-bench-tftp-out-')));
  const big = randomBytes(Math.round(Number(opt['size-mb']) * 1e6));
  const conc = randomBytes(Math.round(Number(opt['concurrent-mb']) * 1e6));
  await writeFile(join(dir, 'big.bin'), big);
  await writeFile(join(dir, 'conc.bin'), conc);
  await writeFile(join(dir, 'probe.txt'), 'probe');
  const expected = { big: { size: big.length, sha: sha(big) }, conc: { size: conc.length, sha: sha(conc) } };
  const cases = ALL_CASES.filter((c) => (opt.cases as string).split(',').includes(c.id));
  const servers = ['osdeploy', ...(opt.js ? ['osdeploy-js'] : []), ...(opt.peers as string).split(',').filter(Boolean)];
  console.log(`tftp bench: ${new Date().toISOString()}, ${os.cpus().length} cores (${os.cpus()[0]?.model}), node ${process.version}, pinned to core ${CORE}`);
  console.log(`load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on the machine skews wall-clock figures)`);
  console.log(`file ${(big.length / 1e6).toFixed(0)} MB; concurrent file ${(conc.length / 1e6).toFixed(0)} MB × ${CLIENTS}; ${runs} runs per case; out dir ${outDir}`);
  const results = new Map<string, Map<string, number>>();
  const cpuResults = new Map<string, number>();
  const notes: string[] = [];
  const running: Server[] = [];
  try {
    for (const name of servers) {
      const s = await startServer(name, dir);
      if (typeof s === 'string') notes.push(`${name}: ${s}`);
      else running.push(s);
    }
    for (const c of cases) {
      // Runs are interleaved across servers (rotating who goes first), so a slow spell on the
      // shared machine hits every server alike instead of one server's whole series.
      const figures = new Map<string, RunFigures[]>(running.map((s) => [s.name, []]));
      for (let i = 0; i < runs; i++) {
        for (let k = 0; k < running.length; k++) {
          const s = running[(i + k) % running.length] as Server;
          figures.get(s.name)?.push(await runOnce(c, s, outDir, expected[c.file]));
        }
      }
      const r = new Map<string, number>();
      results.set(c.id, r);
      for (const s of running) {
        const f = figures.get(s.name) ?? [];
        const mbps = median(f.map((x) => x.mbps));
        const cpu = median(f.map((x) => x.cpu));
        r.set(s.name, mbps);
        cpuResults.set(`${c.id}/${s.name}`, cpu);
        console.log(
          `  ${s.name.padEnd(11)} ${c.client.padEnd(5)} ${c.label.padEnd(44)} median ${mbps.toFixed(1).padStart(7)} MB/s, server CPU ${cpu.toFixed(2)} s/100 MB  runs ${f.map((x) => x.mbps.toFixed(1)).join(' ')}`,
        );
      }
    }
  } finally {
    for (const s of running) await stopServer(s);
    await rm(dir, { recursive: true, force: true });
    await rm(outDir, { recursive: true, force: true });
  }
  report(cases, servers, results, cpuResults, notes);
}

function report(cases: Case[], servers: string[], results: Map<string, Map<string, number>>, cpu: Map<string, number>, notes: string[]): void {
  const peers = servers.filter((s) => !s.startsWith('osdeploy'));
  console.log(`\n| case | client | ${servers.map((s) => `${s} MB/s`).join(' | ')} | ${peers.map((p) => `osdeploy/${p}`).join(' | ')} |`);
  console.log(`|---|---|${servers.map(() => '---:').join('|')}|${peers.map(() => '---:').join('|')}|`);
  let pass = true;
  const verdicts: string[] = [];
  for (const c of cases) {
    const r = results.get(c.id) ?? new Map<string, number>();
    const ours = r.get('osdeploy');
    const cells = servers.map((s) => (r.has(s) ? (r.get(s) as number).toFixed(1) : 'n/a'));
    const ratios = peers.map((p) => {
      const theirs = r.get(p);
      if (ours === undefined || theirs === undefined) return 'n/a';
      const ratio = ours / theirs;
      const target = c.windowed ? 2 : 1;
      if (ratio < target) {
        pass = false;
        verdicts.push(`FAIL ${c.id} vs ${p}: ${ratio.toFixed(2)} < ${target}`);
      }
      return ratio.toFixed(2);
    });
    console.log(`| ${c.label} | ${c.client} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
  }
  // tftpd-hpa forks a process per transfer and lets it be reaped without accounting, so its CPU
  // time cannot be read from /proc; it shows as n/a.
  const cpuOf = (id: string, s: string) => (s === 'tftpd-hpa' ? 'n/a' : (cpu.get(`${id}/${s}`)?.toFixed(2) ?? 'n/a'));
  console.log(`\nserver CPU seconds per 100 MB delivered (median of the runs):`);
  for (const c of cases) console.log(`  ${c.label.padEnd(44)} ${servers.map((s) => `${s} ${cpuOf(c.id, s)}`).join('  ')}`);
  for (const n of notes) console.log(`note: ${n}`);
  for (const v of verdicts) console.log(v);
  console.log(pass ? 'PASS: osdeploy/peer ≥ 1.0 everywhere and ≥ 2.0 where windowsize applies' : 'FAIL: see above');
}

if (opt.serve) {
  // Child mode: the osdeploy service as it runs in production (info logs, to stdout, discarded).
  const svc = await startTftpService({
    port: Number(opt.port),
    host: '127.0.0.1',
    source: new RootedFileSource([opt.serve]),
    log: pino({ level: 'info' }),
    engine: opt.engine as 'auto' | 'native' | 'js',
  });
  process.stderr.write(`READY port ${svc.port}, ${svc.engine} data path\n`);
  process.on('SIGTERM', () => void svc.close().then(() => process.exit(0)));
} else {
  await main();
}
