/**
 * The responder on real UDP sockets over loopback, on free high ports.
 *
 * How broadcast replies are tested: a real client listens on 0.0.0.0:68, which a test cannot
 * bind. The test client binds 0.0.0.0 on a free port, the service is told that port as its
 * `clientPort`, and `broadcastAddress` is 127.255.255.255 — the loopback network's broadcast,
 * which the kernel delivers to sockets bound to 0.0.0.0. The reply therefore takes exactly the
 * production path (a broadcast send from the port-67 socket, SO_BROADCAST on); only the numbers
 * differ. Port 4011 replies go to the sender's address and port, as in production.
 */
import t, { type Test } from 'tap';
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PxeBindError } from '../../../server/pxe/bind.js';
import type { PxeFacts } from '../../../server/pxe/classify.js';
import type { PxeDecision } from '../../../server/pxe/offer.js';
import { startPxeService, type PxeLogger, type PxeService, type PxeServiceOptions, type PxeTimers } from '../../../server/pxe/service.js';
import { createLogger } from '../../../server/logger.js';
import { bootfileName, decodeDhcp, messageType, type DhcpPacket } from '../../../server/wire/dhcp/index.js';
import { parseHex } from '../../fixtures/dhcp/builder.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/dhcp');
const raw = (name: string): Buffer => parseHex(readFileSync(path.join(dir, `${name}.hex`), 'utf8'));

interface Entry {
  level: string;
  bindings: Record<string, unknown>;
  obj: Record<string, unknown>;
  msg: string;
}
function recordingLog(entries: Entry[] = [], bindings: Record<string, unknown> = {}): PxeLogger & { entries: Entry[] } {
  const at = (level: string) => (obj: object, msg = '') => entries.push({ level, bindings, obj: obj as Record<string, unknown>, msg });
  return { entries, child: (b) => recordingLog(entries, { ...bindings, ...b }), debug: at('debug'), info: at('info'), warn: at('warn') };
}

interface Client {
  socket: dgram.Socket;
  port: number;
  next(timeoutMs?: number): Promise<{ packet: DhcpPacket; from: dgram.RemoteInfo } | null>;
  send(buf: Buffer, port: number): Promise<void>;
}

async function client(t: Test): Promise<Client> {
  const socket = dgram.createSocket({ type: 'udp4' });
  await new Promise<void>((resolve) => socket.bind(0, '0.0.0.0', resolve));
  const queue: Array<{ packet: DhcpPacket; from: dgram.RemoteInfo }> = [];
  const waiters: Array<() => void> = [];
  socket.on('message', (msg, from) => {
    queue.push({ packet: decodeDhcp(msg), from });
    waiters.shift()?.();
  });
  t.teardown(() => socket.close());
  return {
    socket,
    port: socket.address().port,
    async next(timeoutMs = 1000) {
      if (queue.length === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return queue.shift() ?? null;
    },
    send: (buf, port) => new Promise((resolve, reject) => socket.send(buf, port, '127.0.0.1', (e) => (e ? reject(e) : resolve()))),
  };
}

const yes = async (): Promise<PxeDecision> => ({ answer: true });

async function start(t: Test, c: Client, over: Partial<PxeServiceOptions> = {}): Promise<PxeService & { log: ReturnType<typeof recordingLog> }> {
  const log = recordingLog();
  const svc = await startPxeService({
    dhcpPort: 0,
    pxePort: 0,
    host: '127.0.0.1',
    advertiseAddress: '127.0.0.1',
    httpPort: 8080,
    decide: yes,
    settings: () => ({ enabled: true, responseDelaySeconds: 0 }),
    log,
    clientPort: c.port,
    broadcastAddress: '127.255.255.255',
    ...over,
  });
  t.teardown(() => svc.close());
  return Object.assign(svc, { log });
}

t.test('DHCPDISCOVER on the proxyDHCP port → DHCPOFFER broadcast to the client port', async (t) => {
  const c = await client(t);
  const svc = await start(t, c);
  await c.send(raw('uefi-x64'), svc.ports.dhcp);
  const got = await c.next();
  t.ok(got, 'an offer arrived');
  t.equal(got!.from.port, svc.ports.dhcp, 'sent from the proxyDHCP socket');
  t.equal(messageType(got!.packet), 2);
  t.equal(got!.packet.xid, 4238412979);
  t.equal(got!.packet.file, 'ipxe.efi');
  t.equal(got!.packet.yiaddr, '0.0.0.0');
  const answered = svc.log.entries.find((e) => e.msg === 'pxe: answered')!;
  t.match(answered.bindings, { svc: 'pxe', mac: '00:15:5d:cd:6b:04', xid: '0xfca10cb3' }, 'child logger {svc, mac, xid}');
  t.match(answered.obj, { to: `127.255.255.255:${c.port}`, client: 'firmware', arch: 7, boot: 'ipxe.efi' });
  t.match(svc.stats(), { received: 1, replied: 1 });
});

t.test('DHCPREQUEST on the PXE port → DHCPACK back to the sender', async (t) => {
  const c = await client(t);
  const svc = await start(t, c, { clientPort: 9 }); // a wrong client port proves the reply follows the sender
  await c.send(raw('pxe-request-overload'), svc.ports.pxe);
  const got = await c.next();
  t.equal(got?.from.port, svc.ports.pxe, 'from the 4011 socket');
  t.equal(messageType(got!.packet), 5, 'DHCPACK');
  t.equal(got!.packet.ciaddr, '10.20.30.57');
});

t.test('a relayed DISCOVER is answered to the relay agent', async (t) => {
  const c = await client(t);
  const svc = await start(t, c, { relayPort: c.port, clientPort: 9 });
  const relayed = raw('relayed');
  relayed.set([127, 0, 0, 1], 24); // giaddr = the test's relay agent
  await c.send(relayed, svc.ports.dhcp);
  const got = await c.next();
  t.equal(got?.packet.giaddr, '127.0.0.1');
  t.equal(got?.packet.file, 'undionly.kpxe');
});

t.test('R-32: malformed and foreign packets never crash the loop and are logged once at debug', async (t) => {
  const c = await client(t);
  const svc = await start(t, c);
  const bootReply = raw('bios-pxe-rom');
  bootReply[0] = 2;
  const truncated = raw('ipxe').subarray(0, 300);
  await c.send(Buffer.from('definitely not DHCP'), svc.ports.dhcp);
  await c.send(truncated, svc.ports.dhcp);
  await c.send(bootReply, svc.ports.dhcp);
  for (let i = 0; i < 300; i++) await c.send(Buffer.from(Array.from({ length: (i * 7) % 600 }, (_, k) => (k * 31 + i) & 0xff)), i % 2 ? svc.ports.pxe : svc.ports.dhcp);
  await c.send(raw('bios-pxe-rom'), svc.ports.dhcp);
  const got = await c.next();
  t.equal(got?.packet.file, 'undionly.kpxe', 'still answering after 303 bad packets');
  t.equal(await c.next(100), null, 'and nothing else was answered');
  t.equal(svc.stats().received, 304);
  t.equal(svc.stats().replied, 1);
  t.equal(svc.stats().malformed + svc.stats().ignored, 303);
  const debug = svc.log.entries.filter((e) => e.level === 'debug');
  t.equal(debug.length, 303, 'one debug line per ignored packet');
  t.ok(debug.some((e) => e.obj.code === 'truncated-header' && e.obj.stage === 'decode'));
  t.ok(debug.some((e) => e.obj.code === 'option-overrun'), 'the truncated iPXE packet');
  t.ok(debug.some((e) => /BOOTREPLY/.test(e.msg) && e.bindings.mac === '20:6a:8a:0f:74:75'), 'classify ignores carry mac and xid');
  t.notOk(svc.log.entries.some((e) => e.level === 'warn'), 'no warnings: bad input is not a fault');
});

t.test('R-18: silent when decide says no, or when the responder is disabled', async (t) => {
  const c = await client(t);
  const seen: PxeFacts[] = [];
  let enabled = true;
  const svc = await start(t, c, {
    decide: async (f) => {
      seen.push(f);
      return { answer: false, reason: 'no deployment for the machine' };
    },
    settings: () => ({ enabled, responseDelaySeconds: 0 }),
  });
  await c.send(raw('uefi-arm64'), svc.ports.dhcp);
  t.equal(await c.next(300), null, 'no offer');
  t.equal(seen[0]?.architecture, 'arm64', 'decide saw the facts');
  t.ok(svc.log.entries.some((e) => e.level === 'debug' && e.obj.stage === 'decide' && /no deployment/.test(e.msg)));
  enabled = false;
  await c.send(raw('uefi-arm64'), svc.ports.dhcp);
  t.equal(await c.next(300), null);
  t.equal(seen.length, 1, 'disabled: policy is not even asked');
});

t.test('a decide() that throws is a warning, not a crash', async (t) => {
  const c = await client(t);
  let fail = true;
  const svc = await start(t, c, {
    decide: async () => {
      if (fail) throw new Error('site database unavailable');
      return { answer: true };
    },
  });
  await c.send(raw('uefi-x64'), svc.ports.dhcp);
  t.equal(await c.next(300), null);
  t.ok(svc.log.entries.some((e) => e.level === 'warn' && e.msg === 'pxe: could not answer a request'));
  fail = false;
  await c.send(raw('uefi-x64'), svc.ports.dhcp);
  t.ok(await c.next(), 'the next request is answered');
});

/** A timer that fires only when the test says so. */
function manualTimers() {
  const scheduled: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  const timers: PxeTimers = {
    setTimeout: (fn, ms) => {
      const h = { fn, ms, cleared: false };
      scheduled.push(h);
      return h;
    },
    clearTimeout: (h) => {
      (h as { cleared: boolean }).cleared = true;
    },
  };
  return { timers, scheduled };
}

t.test('R-18 response delay: the OFFER waits; port 4011 answers at once', async (t) => {
  const c = await client(t);
  const { timers, scheduled } = manualTimers();
  const svc = await start(t, c, { timers, settings: () => ({ enabled: true, responseDelaySeconds: 3 }) });
  await c.send(raw('bios-pxe-rom'), svc.ports.dhcp);
  t.equal(await c.next(300), null, 'nothing before the delay has passed');
  t.equal(scheduled.length, 1);
  t.equal(scheduled[0]!.ms, 3000, '3 s');
  scheduled[0]!.fn();
  t.equal((await c.next())?.packet.file, 'undionly.kpxe', 'sent when the timer fires');

  await c.send(raw('pxe-request-overload'), svc.ports.pxe);
  t.ok(await c.next(), 'a client already talking to us on 4011 is not kept waiting');
  t.equal(scheduled.length, 1);
});

t.test('close() cancels delayed replies', async (t) => {
  const c = await client(t);
  const { timers, scheduled } = manualTimers();
  const svc = await start(t, c, { timers, settings: () => ({ enabled: true, responseDelaySeconds: 1 }) });
  await c.send(raw('uefi-x64'), svc.ports.dhcp);
  for (let i = 0; i < 50 && scheduled.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  await svc.close();
  t.equal(scheduled[0]?.cleared, true);
  await svc.close(); // twice is harmless
});

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(r));
  return port;
}

t.test('bind failure names the role, the port, why, and the fix', async (t) => {
  const blocker = dgram.createSocket('udp4'); // no SO_REUSEADDR: the port is really taken
  await new Promise<void>((r) => blocker.bind(0, '127.0.0.1', r));
  t.teardown(() => blocker.close());
  const taken = blocker.address().port;
  const base = { host: '127.0.0.1', advertiseAddress: '127.0.0.1', httpPort: 8080, decide: yes, settings: () => ({ enabled: true, responseDelaySeconds: 0 }), log: recordingLog() };

  const err = await startPxeService({ ...base, dhcpPort: taken, pxePort: 0 }).catch((e: unknown) => e);
  t.ok(err instanceof PxeBindError);
  t.match(err, { role: 'dhcp', port: taken, code: 'EADDRINUSE' });
  t.match((err as Error).message, `proxyDHCP port udp/${taken} on 127.0.0.1`);
  t.match((err as Error).message, /already in use.*dnsmasq/);
  t.match((err as Error).message, /OSDEPLOY_DHCP_PORT/);

  const dhcpPort = await freePort();
  const err2 = await startPxeService({ ...base, dhcpPort, pxePort: taken }).catch((e: unknown) => e);
  t.match(err2, { role: 'pxe', port: taken, code: 'EADDRINUSE' });
  t.match((err2 as Error).message, /PXE boot server port .*OSDEPLOY_PXE_PORT/s);
  const again = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    again.once('error', reject);
    again.bind(dhcpPort, '127.0.0.1', resolve);
  });
  again.close();
  t.pass('the proxyDHCP socket bound before the failure was closed again');

  // EACCES needs an unprivileged user; the socket factory stands in for the kernel's refusal.
  const denied = () => {
    const fake = new EventEmitter() as EventEmitter & { bind(): void; close(): void };
    fake.bind = () => queueMicrotask(() => fake.emit('error', Object.assign(new Error('bind EACCES 0.0.0.0:67'), { code: 'EACCES' })));
    fake.close = () => undefined;
    return fake as unknown as dgram.Socket;
  };
  const err3 = await startPxeService({ ...base, host: '0.0.0.0', createSocket: denied }).catch((e: unknown) => e);
  t.match(err3, { role: 'dhcp', port: 67, code: 'EACCES' });
  t.match((err3 as Error).message, 'proxyDHCP port udp/67 on 0.0.0.0: permission denied');
  t.match((err3 as Error).message, /run as root/);
  t.match((err3 as Error).message, 'setcap cap_net_bind_service=+ep $(which node)');
  t.match((err3 as Error).message, /OSDEPLOY_DHCP_PORT/);
});

t.test('a pino logger from server/logger.ts is a PxeLogger', async (t) => {
  const c = await client(t);
  const svc = await startPxeService({
    dhcpPort: 0, pxePort: 0, host: '127.0.0.1', advertiseAddress: '127.0.0.1', httpPort: 8080, decide: yes,
    settings: () => ({ enabled: true, responseDelaySeconds: 0 }), log: createLogger('silent'), clientPort: c.port, broadcastAddress: '127.255.255.255',
  });
  t.teardown(() => svc.close());
  await c.send(raw('ipxe'), svc.ports.dhcp);
  const got = await c.next();
  t.match(bootfileName(got!.packet), /^http:\/\/127\.0\.0\.1:8080\/boot\.ipxe\?mac=fa:16:5e:ec:78:e6&uuid=/);
});
