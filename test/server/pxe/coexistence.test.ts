/**
 * R-18 coexistence on a real broadcast segment: the network's DHCP server (dnsmasq), our proxyDHCP
 * responder and a client, each in its own network namespace on one bridge, using the real ports
 * 67/68 and real broadcasts.
 *   - busybox udhcpc (not a PXE client) gets its lease from dnsmasq; we stay silent;
 *   - a PXE ROM's DISCOVER gets two offers: an address from dnsmasq, the boot file from us
 *     (yiaddr 0.0.0.0).
 * Needs root, `ip netns`, dnsmasq and busybox udhcpc; skipped otherwise.
 */
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HELPER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'netns-helper.ts');
const tag = `osdt${process.pid % 100000}`;
const NS = { br: `${tag}-br`, dhcp: `${tag}-dhcp`, pxe: `${tag}-pxe`, cli: `${tag}-cli` };
const have = (cmd: string, argv: string[]) => spawnSync(cmd, argv).status === 0;
const missing = process.getuid?.() !== 0 ? 'not root' : !have('ip', ['netns', 'list']) ? 'no ip netns' : !have('dnsmasq', ['--version']) ? 'no dnsmasq' : !have('udhcpc', ['--help']) && !have('busybox', ['udhcpc', '--help']) ? 'no udhcpc' : null;

function sh(...argv: string[]): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

function teardown(): void {
  for (const ns of Object.values(NS)) spawnSync('ip', ['netns', 'del', ns]);
}

/** Three hosts on one bridge: dhcp 10.78.0.1, pxe 10.78.0.2, cli 10.78.0.9 (the PXE test client needs a source address; udhcpc uses a raw socket). */
function network(): void {
  teardown();
  for (const ns of Object.values(NS)) sh('ip', 'netns', 'add', ns);
  sh('ip', '-n', NS.br, 'link', 'add', 'br0', 'type', 'bridge');
  sh('ip', '-n', NS.br, 'link', 'set', 'br0', 'up');
  for (const [ns, addr, name] of [[NS.dhcp, '10.78.0.1/24', 'd'], [NS.pxe, '10.78.0.2/24', 'p'], [NS.cli, '10.78.0.9/24', 'c']] as const) {
    sh('ip', '-n', NS.br, 'link', 'add', `${name}-br`, 'type', 'veth', 'peer', 'name', `${name}0`);
    sh('ip', '-n', NS.br, 'link', 'set', `${name}0`, 'netns', ns);
    sh('ip', '-n', NS.br, 'link', 'set', `${name}-br`, 'master', 'br0', 'up');
    sh('ip', '-n', ns, 'addr', 'add', addr, 'brd', '+', 'dev', `${name}0`);
    sh('ip', '-n', ns, 'link', 'set', `${name}0`, 'up');
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    sh('ip', '-n', ns, 'route', 'add', 'default', 'dev', `${name}0`);
  }
}

function started(child: ChildProcess, pattern: RegExp, what: string): Promise<() => string> {
  let out = '';
  const collect = (c: Buffer) => (out += c.toString());
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (pattern.test(out)) {
        clearInterval(timer);
        resolve(() => out);
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`${what} exited (${code}): ${out}`));
    });
  });
}

/** Runs a command to completion without blocking the event loop (the children's logs keep flowing). */
function run(...argv: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1));
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, out });
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

t.test('coexistence with the network\'s DHCP server on a real broadcast segment', { skip: missing ?? false }, async (t) => {
  network();
  t.teardown(teardown);
  const dnsmasq = spawn('ip', ['netns', 'exec', NS.dhcp, 'dnsmasq', '--no-daemon', '--conf-file=/dev/null', '--port=0', '--pid-file=', '--log-facility=-', '--interface=d0', '--dhcp-range=10.78.0.100,10.78.0.150,255.255.255.0,1h', '--no-ping']);
  t.teardown(() => stop(dnsmasq));
  await started(dnsmasq, /DHCP, IP range/, 'dnsmasq');
  const responder = spawn('ip', ['netns', 'exec', NS.pxe, process.execPath, '--import', 'tsx', HELPER, '--role', 'responder', '--advertise', '10.78.0.2']);
  t.teardown(() => stop(responder));
  const logs = await started(responder, /proxyDHCP listening/, 'responder');

  const udhcpc = await run('ip', 'netns', 'exec', NS.cli, 'busybox', 'udhcpc', '-f', '-q', '-n', '-t', '4', '-T', '1', '-i', 'c0', '-s', '/bin/true');
  t.equal(udhcpc.status, 0, 'udhcpc got a lease');
  t.match(udhcpc.out, /lease of 10\.78\.0\.1\d\d obtained from 10\.78\.0\.1\b/, 'from dnsmasq, the network\'s DHCP server');
  await new Promise((r) => setTimeout(r, 300)); // let the responder's log lines arrive through the pipe
  const lines = logs().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; svc?: string });
  t.ok(lines.some((l) => /ignored: not a PXE or HTTP-boot client \(option 60 "udhcp/.test(l.msg)), 'we saw udhcpc and stayed silent');
  t.notOk(lines.some((l) => l.msg === 'pxe: answered'), 'no reply to a non-PXE client');

  const pxe = await run('ip', 'netns', 'exec', NS.cli, process.execPath, '--import', 'tsx', HELPER, '--role', 'pxe-client', '--fixture', 'bios-pxe-rom');
  t.equal(pxe.status, 0, 'the PXE client ran');
  const replies = JSON.parse(pxe.out.trim().split('\n').pop()!) as Array<{ from: string; type: number; yiaddr: string; siaddr: string; file: string; vendorClass: string | null }>;
  const fromDhcp = replies.find((r) => r.from === '10.78.0.1');
  const fromUs = replies.find((r) => r.from === '10.78.0.2');
  t.match(fromDhcp, { type: 2, yiaddr: /^10\.78\.0\.1\d\d$/ }, 'the DHCP server offers an address');
  t.same(fromUs, { from: '10.78.0.2', type: 2, yiaddr: '0.0.0.0', siaddr: '10.78.0.2', file: 'undionly.kpxe', vendorClass: 'PXEClient' }, 'we offer only the boot file');
});
