/**
 * Issue 13, the bind row: `OSDEPLOY_BIND` applies to the PXE role's sockets (proxyDHCP and the
 * PXE boot server) as it does to HTTP and TFTP. Bound to one address, a socket receives only
 * datagrams sent to that address — shown on loopback, where every 127.0.0.0/8 address is this
 * host's: bound to 127.0.0.1, a request sent to 127.0.0.2 is never seen; bound to the wildcard,
 * it is (the old behaviour of the PXE role whatever the bind address). Broadcast DISCOVERs reach
 * only a wildcard-bound socket, so a specific address means "relayed and unicast requests only":
 * the role's status says so. An address the IPv4 responder cannot use is refused, not widened.
 */
import dgram from 'node:dgram';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { loadConfig } from '../../../server/config.js';
import { advertiseAddressOf, detectAdvertiseAddress, pxeBindAddress, startPxeRole } from '../../../server/network-roles.js';
import { importBootFiles } from '../../../server/site/boot-files.js';
import type { Json } from '../../fixtures/api-harness.js';
import { parseHex } from '../../fixtures/dhcp/builder.js';
import { startSite, tempDir, type Site } from './site.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/dhcp');
const packet = (name: string): Buffer => parseHex(readFileSync(path.join(fixtures, `${name}.hex`), 'utf8'));
const DISCOVER = packet('uefi-x64');
const REQUEST = packet('pxe-request-overload');

interface Role {
  state: string;
  detail: string;
}
async function roles(site: Site): Promise<Record<string, Role>> {
  const h = (await (await fetch(`${site.url}/healthz`)).json()) as { roles?: (Role & { role: string })[] };
  return Object.fromEntries((h.roles ?? []).map((r) => [r.role, r]));
}
const pxePorts = (detail: string): { dhcp: number; pxe: number } => {
  const m = /^UDP (\d+) and (\d+)/.exec(detail);
  if (!m) throw new Error(`no ports in ${detail}`);
  return { dhcp: Number(m[1]), pxe: Number(m[2]) };
};

/** Sends `buf` to `address:port` from a fresh socket; returns that socket's port (the `from` the service logs). */
async function sendFrom(t: Test, buf: Buffer, address: string, port: number): Promise<number> {
  const s = dgram.createSocket('udp4');
  s.on('error', () => {}); // an ICMP "port unreachable" is what an unbound address answers
  await new Promise<void>((resolve) => s.bind(0, '0.0.0.0', resolve));
  t.teardown(() => s.close());
  await new Promise<void>((resolve, reject) => s.send(buf, port, address, (e) => (e ? reject(e) : resolve())));
  return s.address().port;
}

/** Whether the PXE loop logged a request from `port` (answered or ignored: either way it was received). */
const heard = (site: Site, port: number): boolean =>
  site.logs.some((l: Json) => /^pxe: (ignored|answered)/.test(String(l.msg)) && String(l.from ?? l.to ?? '').endsWith(`:${port}`));

async function waitHeard(site: Site, port: number, ms = 3000): Promise<boolean> {
  const until = Date.now() + ms;
  while (!heard(site, port)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/** Sends to the address the service is bound to and to another address of this host; which does it hear? */
async function probe(t: Test, site: Site, packetBuf: Buffer, port: number, bound: string, other: string): Promise<{ bound: boolean; other: boolean }> {
  const otherPort = await sendFrom(t, packetBuf, other, port);
  const boundPort = await sendFrom(t, packetBuf, bound, port);
  const gotBound = await waitHeard(site, boundPort);
  await new Promise((r) => setTimeout(r, 300)); // the other datagram had the same time to arrive
  return { bound: gotBound, other: heard(site, otherPort) };
}

const PXE_ON = { pxe: 'on', 'dhcp-port': '0', 'pxe-port': '0' };

t.test('bind: OSDEPLOY_BIND=127.0.0.1 binds the proxyDHCP and PXE boot server sockets to 127.0.0.1', async (t) => {
  const site = await startSite(t, { ...PXE_ON, bind: '127.0.0.1' });
  const pxe = (await roles(site)).pxe!;
  t.equal(pxe.state, 'up');
  t.match(pxe.detail, /^UDP \d+ and \d+ on 127\.0\.0\.1 only \(no local broadcasts\), advertising 127\.0\.0\.1$/, 'the status says where it listens and what that means');
  const ports = pxePorts(pxe.detail);
  const dhcp = await probe(t, site, DISCOVER, ports.dhcp, '127.0.0.1', '127.0.0.2');
  t.ok(dhcp.bound, 'a DISCOVER sent to 127.0.0.1 reaches the proxyDHCP socket');
  t.notOk(dhcp.other, 'one sent to 127.0.0.2 (also this host) does not');
  const boot = await probe(t, site, REQUEST, ports.pxe, '127.0.0.1', '127.0.0.2');
  t.ok(boot.bound, 'a port-4011 request sent to 127.0.0.1 is received');
  t.notOk(boot.other, 'one sent to 127.0.0.2 is not');
});

t.test('bind: the wildcard hears every address of the host (what the PXE role did whatever OSDEPLOY_BIND said)', async (t) => {
  const site = await startSite(t, { ...PXE_ON, bind: '0.0.0.0' });
  const pxe = (await roles(site)).pxe!;
  t.equal(pxe.state, 'up');
  t.notMatch(pxe.detail, / only /);
  const ports = pxePorts(pxe.detail);
  const dhcp = await probe(t, site, DISCOVER, ports.dhcp, '127.0.0.1', '127.0.0.2');
  t.ok(dhcp.bound && dhcp.other, 'both addresses reach it');
});

t.test('bind: TFTP honours the bind address too', async (t) => {
  const dataDir = tempDir(t);
  await importBootFiles(tempDirWith(t, { 'undionly.kpxe': 'undionly bytes' }), dataDir);
  const site = await startSite(t, { tftp: 'on', bind: '127.0.0.1' }, { dataDir });
  t.ok(site.tftpPort);
  const curl = (address: string) =>
    new Promise<{ code: number | null; out: string }>((resolve) =>
      execFile('curl', ['-sS', '--max-time', '3', `tftp://${address}:${site.tftpPort}/undionly.kpxe`], { encoding: 'utf8' }, (err, stdout) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, out: stdout }),
      ),
    );
  t.match(await curl('127.0.0.1'), { code: 0, out: 'undionly bytes' }, 'served on 127.0.0.1');
  const other = await curl('127.0.0.2');
  t.not(other.code, 0, 'nothing answers on 127.0.0.2');
  t.equal(other.out, '');
});

const hostAddress = detectAdvertiseAddress();
const noHostAddress = hostAddress.startsWith('127.') && 'this host has no non-loopback IPv4 address';
t.test('bind: a specific non-loopback address is applied, with a warning that local broadcasts are not heard', { skip: noHostAddress }, async (t) => {
  const address = hostAddress;
  const site = await startSite(t, { ...PXE_ON, bind: address });
  const pxe = (await roles(site)).pxe!;
  t.match(pxe.detail, `on ${address} only (no local broadcasts), advertising ${address}`);
  const warn = site.logs.find((l: Json) => l.level === 40 && l.svc === 'pxe');
  t.match(warn, { bind: address, msg: /not broadcast DISCOVERs on the local segment; bind 0\.0\.0\.0 for those/ });
  const dhcp = await probe(t, site, packet('relayed'), pxePorts(pxe.detail).dhcp, address, '127.0.0.1');
  t.ok(dhcp.bound, `a relayed DISCOVER sent to ${address} is received`);
  t.notOk(dhcp.other, 'one sent to 127.0.0.1 is not');
});

t.test('bind: what the PXE responder makes of each bind address', async (t) => {
  t.same(pxeBindAddress('0.0.0.0'), { host: '0.0.0.0', broadcasts: true });
  t.same(pxeBindAddress('::'), { host: '0.0.0.0', broadcasts: true }, 'the IPv6 wildcard: IPv4 wildcard');
  t.same(pxeBindAddress('10.0.0.5'), { host: '10.0.0.5', broadcasts: false });
  for (const bind of ['::1', 'fd00::2', 'localhost']) t.match(pxeBindAddress(bind), { error: /IPv4 only and cannot bind OSDEPLOY_BIND=/ }, `${bind}: refused, not widened`);
  const config = loadConfig({ flags: { bind: '::1', 'dhcp-port': '0', 'pxe-port': '0' } });
  const role = await startPxeRole(config, { advertiseAddress: '127.0.0.1', httpPort: 8080, settings: () => { throw new Error('not reached'); }, decide: async () => ({ answer: false, reason: 'not reached' }) }, pino({ level: 'silent' }));
  t.equal(role.service, null, 'no socket was bound');
  t.match(role.status, { role: 'pxe', state: 'down', detail: /PXE responder is down: the PXE responder is IPv4 only and cannot bind OSDEPLOY_BIND=::1/ });

  const detect = () => '192.0.2.99';
  t.equal(advertiseAddressOf({ advertiseAddress: null, bind: '10.0.0.5' }, detect), '10.0.0.5', 'PXE replies advertise the one address bound');
  t.equal(advertiseAddressOf({ advertiseAddress: null, bind: '0.0.0.0' }, detect), '192.0.2.99', 'a wildcard bind: detected');
  t.equal(advertiseAddressOf({ advertiseAddress: '10.9.9.9', bind: '10.0.0.5' }, detect), '10.9.9.9', 'a configured address wins');
});

function tempDirWith(t: Test, files: Record<string, string>): string {
  const dir = tempDir(t, 'osdeploy-security-ipxe-');
  for (const [name, data] of Object.entries(files)) writeFileSync(path.join(dir, name), data);
  return dir;
}
