/**
 * The proxyDHCP responder: the one receive loop on UDP 67 and 4011 (DESIGN.md "loops are thin").
 * receive → respond() (decode → classify → decide → build → encode) → wait the response delay →
 * send. Nothing a client sends can crash it: malformed packets are a debug line.
 *
 * Sockets, timers and the decision are injected so tests run on loopback with high ports, a
 * manual timer and a fixed policy. Limitation: replies are broadcast through the one socket bound
 * to `host`; on a multi-homed host set `broadcastAddress` to the PXE subnet's directed broadcast
 * so the kernel picks the right interface (Node cannot bind a UDP socket to a device).
 */
import dgram from 'node:dgram';
import type { Buffer } from 'node:buffer';
import type { PxeFacts, PxeRole, Via } from './classify.js';
import { DEFAULT_BOOT_FILES, type BootFileNames, type PxeDecision } from './offer.js';
import { respond, type Outcome, type RespondConfig } from './respond.js';
import { bindSocket } from './bind.js';
import { bootfileName } from '../wire/dhcp/index.js';

export interface PxeLogger {
  child(bindings: Record<string, unknown>): PxeLogger;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface PxeTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface PxeServiceOptions {
  /** proxyDHCP port, 67; 0 picks a free port (tests). */
  readonly dhcpPort?: number;
  /** PXE boot server port, 4011; 0 picks a free port (tests). */
  readonly pxePort?: number;
  /** Address to bind; 0.0.0.0 is needed to receive broadcasts. */
  readonly host?: string;
  /** Our address as clients reach it (option 54, siaddr, HTTP host). */
  readonly advertiseAddress: string;
  readonly httpPort: number;
  readonly bootFiles?: Partial<BootFileNames>;
  /** may this machine boot? `answer: false` keeps us silent. */
  decide(facts: PxeFacts): Promise<PxeDecision>;
  /** Read for every packet, so a settings change applies at once. */
  settings(): {
    readonly enabled: boolean;
    readonly responseDelaySeconds: number;
    readonly bootFiles?: Partial<BootFileNames>;
  };
  readonly log: PxeLogger;
  /** Where broadcast replies go: port 68 and 255.255.255.255 unless a test or multi-homed host says otherwise. */
  readonly clientPort?: number;
  readonly relayPort?: number;
  readonly broadcastAddress?: string;
  readonly timers?: PxeTimers;
  readonly createSocket?: (role: PxeRole) => dgram.Socket;
}

export interface PxeStats {
  received: number;
  replied: number;
  ignored: number;
  malformed: number;
  errors: number;
}

export interface PxeService {
  readonly ports: { readonly dhcp: number; readonly pxe: number };
  stats(): PxeStats;
  close(): Promise<void>;
}

/**
 * A lab powering on hundreds of machines at once sends a burst of DISCOVERs; with the default
 * 208 KiB receive buffer about a hundred fit before the kernel drops the rest (bench/pxe.ts). Ask
 * for 4 MiB; Linux silently caps it at net.core.rmem_max.
 */
const RECV_BUFFER = 4 << 20;
const defaultSocket = (): dgram.Socket => dgram.createSocket({ type: 'udp4', reuseAddr: true, recvBufferSize: RECV_BUFFER });
const defaultTimers: PxeTimers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };

const macOfChaddr = (o: Outcome): string | undefined =>
  o.facts?.macAddresses[0] ?? (o.request?.hlen === 6 ? [...o.request.chaddr.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':') : undefined);

type Reply = Extract<Outcome, { kind: 'reply' }>;

function respondConfig(o: PxeServiceOptions): RespondConfig {
  return {
    advertiseAddress: o.advertiseAddress,
    httpPort: o.httpPort,
    bootFiles: { ...DEFAULT_BOOT_FILES, ...o.bootFiles },
    ...(o.clientPort !== undefined ? { clientPort: o.clientPort } : {}),
    ...(o.relayPort !== undefined ? { relayPort: o.relayPort } : {}),
    ...(o.broadcastAddress !== undefined ? { broadcastAddress: o.broadcastAddress } : {}),
  };
}

/** The receive loop of both sockets: thin, everything decided by `respond()`. */
class Loop {
  readonly stats: PxeStats = { received: 0, replied: 0, ignored: 0, malformed: 0, errors: 0 };
  private readonly pending = new Set<unknown>();
  private readonly config: RespondConfig;
  private closed = false;

  constructor(
    private readonly options: PxeServiceOptions,
    private readonly log: PxeLogger,
    private readonly timers: PxeTimers,
  ) {
    this.config = respondConfig(options);
  }

  listen(socket: dgram.Socket, role: PxeRole): void {
    socket.on('message', (msg, rinfo) => {
      this.handle(socket, msg, { role, address: rinfo.address, port: rinfo.port }).catch((err: unknown) => {
        this.stats.errors++;
        this.log.warn({ err, role }, 'pxe: could not answer a request');
      });
    });
    socket.on('error', (err) => {
      this.stats.errors++;
      this.log.warn({ err, role }, 'pxe: socket error');
    });
  }

  private async handle(socket: dgram.Socket, msg: Buffer, via: Via): Promise<void> {
    this.stats.received++;
    const settings = this.options.settings();
    if (!settings.enabled) {
      this.stats.ignored++;
      this.log.debug({ from: `${via.address}:${via.port}` }, 'pxe: ignored: the PXE responder is disabled');
      return;
    }
    // Boot file names may change with the site settings (ipxe.efi or snponly.efi for UEFI x64).
    const config = settings.bootFiles ? { ...this.config, bootFiles: { ...this.config.bootFiles, ...settings.bootFiles } } : this.config;
    const outcome = await respond(msg, via, config, (facts) => this.options.decide(facts));
    const plog = outcome.request ? this.log.child({ mac: macOfChaddr(outcome), xid: `0x${outcome.request.xid.toString(16).padStart(8, '0')}` }) : this.log;
    if (outcome.kind === 'ignore') {
      if (outcome.stage === 'decode') this.stats.malformed++;
      else this.stats.ignored++;
      plog.debug({ from: `${via.address}:${via.port}`, stage: outcome.stage, ...(outcome.code ? { code: outcome.code } : {}) }, `pxe: ignored: ${outcome.reason}`);
      return;
    }
    // The delay lets another PXE server answer first; a client already talking to us on
    // 4011 has chosen us, and delaying that answer would only risk its timeout.
    const delayMs = via.role === 'dhcp' ? Math.max(0, settings.responseDelaySeconds) * 1000 : 0;
    if (delayMs === 0) this.send(socket, outcome, plog);
    else this.later(delayMs, () => this.send(socket, outcome, plog));
  }

  private later(ms: number, fn: () => void): void {
    const handle = this.timers.setTimeout(() => {
      this.pending.delete(handle);
      fn();
    }, ms);
    this.pending.add(handle);
  }

  /** Set when a socket bound to the advertise address exists: broadcast replies leave through it. */
  broadcastSocket: dgram.Socket | null = null;

  private send(socket: dgram.Socket, o: Reply, plog: PxeLogger): void {
    if (this.closed) return;
    const to = `${o.target.address}:${o.target.port}`;
    // A limited broadcast (255.255.255.255) from a wildcard-bound socket needs a default route
    // on Linux (else ENETUNREACH); from a socket bound to an interface address it leaves through
    // that interface. Firmware with no address yet accepts only the limited broadcast (EDK2
    // ignores a subnet-directed one), so that is what we must send.
    const from = o.target.broadcast && this.broadcastSocket ? this.broadcastSocket : socket;
    from.send(o.bytes, o.target.port, o.target.address, (err) => {
      if (err) {
        this.stats.errors++;
        plog.warn({ err, to }, 'pxe: send failed');
        return;
      }
      this.stats.replied++;
      plog.info({ to, client: o.facts.clientKind, arch: o.facts.archType, boot: bootfileName(o.reply) ?? o.reply.file }, 'pxe: answered');
    });
  }

  /** Stops sending; delayed replies are dropped. */
  stop(): void {
    this.closed = true;
    for (const h of this.pending) this.timers.clearTimeout(h);
    this.pending.clear();
  }
}

async function bindBoth(o: PxeServiceOptions, host: string): Promise<{ dhcp: dgram.Socket; pxe: dgram.Socket }> {
  const make = o.createSocket ?? defaultSocket;
  const dhcp = await bindSocket(make('dhcp'), 'dhcp', host, o.dhcpPort ?? 67);
  try {
    const pxe = await bindSocket(make('pxe'), 'pxe', host, o.pxePort ?? 4011);
    dhcp.setBroadcast(true);
    return { dhcp, pxe };
  } catch (e) {
    dhcp.close();
    throw e;
  }
}

/**
 * A second DHCP socket bound to the advertise address (SO_REUSEADDR beside the wildcard one), so
 * broadcast replies have an interface to leave by. Skipped when we are bound to one address
 * already, when a test injects sockets, or when the address is not local (logged; replies then
 * need a default route).
 */
async function bindBroadcastSocket(o: PxeServiceOptions, host: string, port: number, log: PxeLogger): Promise<dgram.Socket | null> {
  if (host !== '0.0.0.0' || o.createSocket || o.broadcastAddress || o.advertiseAddress.startsWith('127.')) return null;
  const socket = defaultSocket();
  try {
    await bindSocket(socket, 'dhcp', o.advertiseAddress, port);
    socket.setBroadcast(true);
    return socket;
  } catch (e) {
    log.warn({ err: (e as Error).message, advertise: o.advertiseAddress }, 'pxe: cannot bind the advertise address; broadcast replies need a default route');
    return null;
  }
}

const closeSocket = (s: dgram.Socket) => new Promise<void>((resolve) => s.close(() => resolve()));

export async function startPxeService(options: PxeServiceOptions): Promise<PxeService> {
  const host = options.host ?? '0.0.0.0';
  const log = options.log.child({ svc: 'pxe' });
  const { dhcp, pxe } = await bindBoth(options, host);
  const loop = new Loop(options, log, options.timers ?? defaultTimers);
  loop.listen(dhcp, 'dhcp');
  loop.listen(pxe, 'pxe');
  const bcast = await bindBroadcastSocket(options, host, dhcp.address().port, log);
  if (bcast) {
    // Unicast to the advertise address (relay agents) now lands on this more specific socket.
    loop.listen(bcast, 'dhcp');
    loop.broadcastSocket = bcast;
  }
  const ports = { dhcp: dhcp.address().port, pxe: pxe.address().port };
  log.info({ host, dhcpPort: ports.dhcp, pxePort: ports.pxe, advertise: options.advertiseAddress }, 'pxe: proxyDHCP listening');
  let closing: Promise<void> | null = null;
  return {
    ports,
    stats: () => ({ ...loop.stats }),
    close() {
      closing ??= (async () => {
        loop.stop();
        await Promise.all([closeSocket(dhcp), closeSocket(pxe), ...(bcast ? [closeSocket(bcast)] : [])]);
      })();
      return closing;
    },
  };
}
