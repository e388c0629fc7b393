/**
 * proxyDHCP responder under a burst: 1,000 simulated PXE clients (distinct MACs and xids, half
 * legacy BIOS ROMs, half UEFI x64) each send one DHCPDISCOVER at once; we measure the OFFERs that
 * come back — replies per second over the burst and per-client latency (send → OFFER) p50/p99/max.
 *
 *   node --import tsx bench/pxe.ts                 # netns + veth when root, else loopback (ours only)
 *   node --import tsx bench/pxe.ts --mode loopback # ours only, on 127.0.0.1 with high ports
 *   node --import tsx bench/pxe.ts --clients 1000 --rounds 5
 *
 * Side by side with dnsmasq in proxy mode: dnsmasq must answer on the real ports (67/68, 4011)
 * with real broadcasts, so the comparison runs in two network namespaces joined by a veth pair:
 * the server (ours, then dnsmasq) in `osdbench-srv` (10.77.0.1/24), the load generator in
 * `osdbench-cli` (10.77.0.2/24). Both servers get the same packets over the same link and answer
 * by broadcast to 255.255.255.255:68. Ours runs twice: with `decide` always yes (like dnsmasq,
 * which has no policy) and wired to real boot policy on a site where every client is a known
 * computer with a deployment. Each server runs in its own process, logging off.
 *
 * Target (printed as PASS/FAIL): every client of the burst answered, p99 < 400 ms — a tenth of
 * the 4 s a PXE ROM waits before it retransmits its first DISCOVER, so a lab powering on 1,000
 * machines at once boots without a single retry.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { PxeFacts } from '../server/pxe/classify.js';
import { policyDecider } from '../server/pxe/decide.js';
import type { PxeDecision } from '../server/pxe/offer.js';
import { startPxeService } from '../server/pxe/service.js';
import { createLogger } from '../server/logger.js';
import { encodeDhcp, opt, OPTION, type DhcpPacket } from '../server/wire/dhcp/index.js';
import { SiteBuilder, T0, CUSTOM_TS_ID } from '../test/fixtures/site-builder.js';

const { values: args } = parseArgs({
  options: {
    role: { type: 'string', default: 'main' },
    mode: { type: 'string', default: 'auto' },
    clients: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '5' },
    policy: { type: 'boolean', default: false },
    host: { type: 'string', default: '0.0.0.0' },
    advertise: { type: 'string', default: '10.77.0.1' },
    'dhcp-port': { type: 'string', default: '67' },
    'pxe-port': { type: 'string', default: '4011' },
    'client-port': { type: 'string', default: '68' },
    broadcast: { type: 'string', default: '255.255.255.255' },
    target: { type: 'string', default: '255.255.255.255' },
  },
});
const CLIENTS = Number(args.clients);
const ROUNDS = Number(args.rounds);
const SELF = fileURLToPath(import.meta.url);
const TARGET_P99_MS = 400;
const SRV = 'osdbench-srv';
const CLI = 'osdbench-cli';

// ------------------------------------------------------------------ the simulated clients

const macOf = (i: number): Buffer => Buffer.from([0x02, 0x00, 0x5e, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff]);
const macText = (i: number): string => [...macOf(i)].map((b) => b.toString(16).padStart(2, '0')).join(':');

function discover(i: number, xid: number): Buffer {
  const uefi = i % 2 === 1;
  const chaddr = Buffer.alloc(16);
  macOf(i).copy(chaddr);
  const guid = Buffer.alloc(17);
  guid.writeUInt32BE(i, 13);
  const p: DhcpPacket = {
    op: 1, htype: 1, hlen: 6, hops: 0, xid, secs: 4, flags: 0x8000,
    ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0', chaddr, sname: '', file: '',
    options: [
      opt.messageType(1),
      opt.bytes(OPTION.parameterRequestList, [1, 3, 6, 43, 54, 60, 66, 67, 128, 129, 130, 131, 132, 133, 134, 135]),
      opt.u16(OPTION.maxMessageSize, 1260),
      opt.bytes(OPTION.clientMachineId, guid),
      opt.u16(OPTION.clientArchitecture, uefi ? 7 : 0),
      opt.bytes(OPTION.clientNetworkInterface, uefi ? [1, 3, 16] : [1, 2, 1]),
      opt.text(OPTION.vendorClass, uefi ? 'PXEClient:Arch:00007:UNDI:003016' : 'PXEClient:Arch:00000:UNDI:002001'),
    ],
    trailer: Buffer.alloc(200), // 548 octets, like an Intel ROM
  };
  return encodeDhcp(p);
}

interface Round {
  answered: number;
  lost: number;
  durationMs: number;
  repliesPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

/** One burst: every client sends its DISCOVER at once; replies are matched by xid. */
async function burst(socket: dgram.Socket, port: number, target: string, round: number): Promise<Round> {
  const base = ((round + 1) * 0x01000000) >>> 0;
  const packets = Array.from({ length: CLIENTS }, (_, i) => discover(i, (base + i) >>> 0));
  const sentAt = new Array<bigint>(CLIENTS);
  const latency: number[] = [];
  let last = 0n;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 3000);
    socket.on('message', (msg) => {
      if (msg.length < 240 || msg[0] !== 2) return;
      const i = (msg.readUInt32BE(4) - base) >>> 0;
      if (i >= CLIENTS || sentAt[i] === undefined) return;
      const now = process.hrtime.bigint();
      latency.push(Number(now - sentAt[i]!) / 1e6);
      sentAt[i] = undefined as unknown as bigint; // count each client once (dnsmasq may answer twice)
      last = now;
      if (latency.length === CLIENTS) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const start = process.hrtime.bigint();
  for (let i = 0; i < CLIENTS; i++) {
    sentAt[i] = process.hrtime.bigint();
    socket.send(packets[i]!, port, target);
  }
  await done;
  socket.removeAllListeners('message');
  await new Promise((r) => setTimeout(r, 200));
  const durationMs = latency.length ? Number(last - start) / 1e6 : NaN;
  latency.sort((a, b) => a - b);
  return {
    answered: latency.length,
    lost: CLIENTS - latency.length,
    durationMs,
    repliesPerSecond: latency.length / (durationMs / 1000),
    latencyMs: { p50: pct(latency, 50), p99: pct(latency, 99), max: latency[latency.length - 1] ?? NaN },
  };
}

async function runClient(): Promise<void> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true, recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
  await new Promise<void>((r) => socket.bind(Number(args['client-port']), '0.0.0.0', r));
  socket.setBroadcast(true);
  const port = Number(args['dhcp-port']);
  await burst(socket, port, args.target!, 0); // warm-up
  const rounds: Round[] = [];
  for (let r = 1; r <= ROUNDS; r++) rounds.push(await burst(socket, port, args.target!, r));
  socket.close();
  console.log(JSON.stringify(rounds));
}

// ------------------------------------------------------------------ our server, in its own process

async function runServer(): Promise<void> {
  let decide: (facts: PxeFacts) => Promise<PxeDecision> = async () => ({ answer: true });
  if (args.policy) {
    const b = new SiteBuilder();
    for (let i = 0; i < CLIENTS; i++) b.computer(`pc${i}`, { macs: [macText(i)], uuid: null });
    b.collection('PS100100', { name: 'Bench', directMemberIds: Array.from({ length: CLIENTS }, (_, i) => `pc${i}`) });
    b.deploy({ collectionId: 'PS100100', taskSequenceId: CUSTOM_TS_ID });
    const site = b.site();
    decide = policyDecider({ site: () => site, now: () => T0 });
  }
  const svc = await startPxeService({
    host: args.host!,
    dhcpPort: Number(args['dhcp-port']),
    pxePort: Number(args['pxe-port']),
    advertiseAddress: args.advertise!,
    httpPort: 8080,
    clientPort: Number(args['client-port']),
    broadcastAddress: args.broadcast!,
    decide,
    settings: () => ({ enabled: true, responseDelaySeconds: 0 }),
    log: createLogger('silent'),
  });
  console.log('ready');
  process.on('SIGTERM', () => {
    console.error(JSON.stringify(svc.stats()));
    void svc.close().then(() => process.exit(0));
  });
}

// ------------------------------------------------------------------ orchestration

function sh(cmd: string, argv: string[]): void {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: ${r.stderr || r.error?.message}`);
}

function waitFor(child: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${seen}`)), 15000);
    const on = (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}): ${seen}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function clientRun(prefix: string[], extra: string[]): Round[] {
  const r = spawnSync(prefix[0]!, [...prefix.slice(1), process.execPath, '--import', 'tsx', SELF, '--role', 'client', '--clients', String(CLIENTS), '--rounds', String(ROUNDS), ...extra], { encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) throw new Error(`client failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Round[];
}

function setupNetns(): void {
  teardownNetns();
  sh('ip', ['netns', 'add', SRV]);
  sh('ip', ['netns', 'add', CLI]);
  sh('ip', ['link', 'add', 'osdb-s', 'type', 'veth', 'peer', 'name', 'osdb-c']);
  sh('ip', ['link', 'set', 'osdb-s', 'netns', SRV]);
  sh('ip', ['link', 'set', 'osdb-c', 'netns', CLI]);
  for (const [ns, dev, addr] of [[SRV, 'osdb-s', '10.77.0.1/24'], [CLI, 'osdb-c', '10.77.0.2/24']] as const) {
    sh('ip', ['-n', ns, 'addr', 'add', addr, 'brd', '+', 'dev', dev]);
    sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // A default route, as every real host has: where a socket bound to 0.0.0.0 sends 255.255.255.255.
    sh('ip', ['-n', ns, 'route', 'add', 'default', 'dev', dev]);
  }
}

function teardownNetns(): void {
  spawnSync('ip', ['netns', 'del', SRV]);
  spawnSync('ip', ['netns', 'del', CLI]);
}

function summary(name: string, rounds: Round[]): string {
  const med = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const answered = rounds.map((r) => r.answered);
  const line = [
    name.padEnd(34),
    `answered ${Math.min(...answered)}–${Math.max(...answered)}/${CLIENTS}`.padEnd(22),
    `replies/s ${Math.round(med(rounds.map((r) => r.repliesPerSecond))).toLocaleString('en-US')}`.padEnd(18),
    `burst ${med(rounds.map((r) => r.durationMs)).toFixed(1)} ms`.padEnd(16),
    `p50 ${med(rounds.map((r) => r.latencyMs.p50)).toFixed(2)} ms`.padEnd(14),
    `p99 ${med(rounds.map((r) => r.latencyMs.p99)).toFixed(2)} ms`.padEnd(14),
    `max ${Math.max(...rounds.map((r) => r.latencyMs.max)).toFixed(2)} ms`,
  ].join(' ');
  const pass = answered.every((a) => a === CLIENTS) && med(rounds.map((r) => r.latencyMs.p99)) < TARGET_P99_MS;
  return `${line}${name.startsWith('osdeploy') ? `  ${pass ? 'PASS' : 'FAIL'}` : ''}`;
}

async function runMain(): Promise<void> {
  const canNetns = args.mode !== 'loopback' && process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0;
  const dnsmasq = spawnSync('dnsmasq', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? '';
  console.log(`pxe bench: ${CLIENTS} clients × ${ROUNDS} rounds (+1 warm-up); ${os.cpus()[0]?.model} × ${os.cpus().length}, Node ${process.version}, ${new Date().toISOString()}`);
  const results: string[] = [];
  if (!canNetns) {
    const why = args.mode === 'loopback' ? '' : ' (no network namespaces: not root, or no `ip netns`)';
    console.log(`mode: loopback${why}, ours only — dnsmasq needs ports 67/68 and real broadcasts.`);
    for (const policy of [false, true]) {
      const srv = spawn(process.execPath, ['--import', 'tsx', SELF, '--role', 'serve', '--host', '127.0.0.1', '--advertise', '127.0.0.1', '--dhcp-port', '40067', '--pxe-port', '44011', '--client-port', '40068', '--broadcast', '127.255.255.255', '--clients', String(CLIENTS), ...(policy ? ['--policy'] : [])]);
      await waitFor(srv, /ready/, 'osdeploy');
      try {
        results.push(summary(`osdeploy loopback${policy ? ' + policy' : ''}`, clientRun(['env'], ['--dhcp-port', '40067', '--client-port', '40068', '--target', '127.0.0.1'])));
      } finally {
        await stop(srv);
      }
    }
    console.log(results.join('\n'));
    return;
  }
  console.log(`mode: netns ${SRV} (10.77.0.1) ⇄ veth ⇄ ${CLI} (10.77.0.2), ports 67/68, broadcast replies; ${dnsmasq || 'dnsmasq not installed'}`);
  setupNetns();
  try {
    const inSrv = ['ip', 'netns', 'exec', SRV];
    const inCli = ['ip', 'netns', 'exec', CLI];
    for (const policy of [false, true]) {
      const srv = spawn(inSrv[0]!, [...inSrv.slice(1), process.execPath, '--import', 'tsx', SELF, '--role', 'serve', '--clients', String(CLIENTS), ...(policy ? ['--policy'] : [])]);
      await waitFor(srv, /ready/, 'osdeploy');
      try {
        results.push(summary(`osdeploy${policy ? ' + policy (1,000 computers)' : ''}`, clientRun(inCli, [])));
      } finally {
        await stop(srv);
      }
    }
    if (dnsmasq) {
      const dm = spawn(inSrv[0]!, [
        ...inSrv.slice(1), 'dnsmasq', '--no-daemon', '--conf-file=/dev/null', '--port=0', '--pid-file=', '--log-facility=-',
        '--interface=osdb-s', '--dhcp-range=10.77.0.0,proxy,255.255.255.0', '--quiet-dhcp',
        '--pxe-service=x86PC,osdeploy,undionly', '--pxe-service=X86-64_EFI,osdeploy,ipxe',
      ]);
      await waitFor(dm, /proxy on subnet/, 'dnsmasq');
      try {
        results.push(summary(`${dnsmasq.replace(/ +Copyright.*/, '')} --dhcp-range=…,proxy`, clientRun(inCli, [])));
      } finally {
        await stop(dm);
      }
    }
  } finally {
    teardownNetns();
  }
  console.log(results.join('\n'));
}

const roles: Record<string, () => Promise<void>> = { main: runMain, client: runClient, serve: runServer };
await roles[args.role!]!();
