/**
 * Shared helpers for the TFTP tests: a silent logger, a fake clock, a raw UDP peer, a lossy
 * relay, a seeded PRNG, client runners and a temporary boot-file tree.
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { Clock } from '../../../server/tftp/io.js';
import type { BootFileSource, OpenFile } from '../../../server/tftp/file-source.js';
import { loadNativeTftp } from '../../../server/tftp/native.js';

export const silentLog = (): Logger => pino({ level: 'silent' });

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** mulberry32: a small seeded PRNG, so lossy runs drop the same way on every machine. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` pseudo-random bytes from `seed`. */
export function seededBytes(n: number, seed: number): Buffer {
  const rnd = mulberry32(seed);
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rnd() * 256);
  return out;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program; never rejects (the exit code is part of what tests check). */
export function run(cmd: string, args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000, encoding: 'utf8', maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const found = new Map<string, boolean>();
/** Whether `bin` is on PATH. */
export async function have(bin: string): Promise<boolean> {
  if (!found.has(bin)) found.set(bin, (await run('sh', ['-c', `command -v ${bin}`])).code === 0);
  return found.get(bin) as boolean;
}

/** A temporary directory holding `files` (relative path → contents); removed by `cleanup`. */
export async function tempTree(files: Record<string, Uint8Array | string>): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'osdeploy-tftp-'));
  for (const [rel, data] of Object.entries(files)) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), data);
  }
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Polls `cond` every 10 ms until true or `ms` elapse; returns the final value. */
export async function waitFor(cond: () => boolean, ms = 20_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/** A clock whose timers fire only when the test advances it. */
export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Moves time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | null = null;
      for (const e of this.timers) if (e[1].at <= end && (next === null || e[1].at < next[1].at)) next = e;
      if (next === null) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}

export interface Datagram {
  msg: Buffer;
  port: number;
  address: string;
}

/** A raw UDP peer on 127.0.0.1 that queues what it receives. */
export class RawPeer {
  private readonly inbox: Datagram[] = [];
  private waiter: (() => void) | null = null;
  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (msg, r) => {
      this.inbox.push({ msg, port: r.port, address: r.address });
      this.waiter?.();
    });
  }
  /** A peer on `port` (0: any free one). */
  static async open(port = 0): Promise<RawPeer> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(port, '127.0.0.1', () => r()));
    return new RawPeer(s);
  }
  get port(): number {
    return this.socket.address().port;
  }
  send(msg: Uint8Array, port: number): Promise<void> {
    return new Promise((r, j) => this.socket.send(msg, port, '127.0.0.1', (e) => (e ? j(e) : r())));
  }
  /** The next datagram, or null if none arrives within `ms`. */
  async next(ms = 5000): Promise<Datagram | null> {
    if (this.inbox.length === 0) {
      await new Promise<void>((r) => {
        const timer = setTimeout(r, ms);
        this.waiter = () => {
          clearTimeout(timer);
          r();
        };
      });
      this.waiter = null;
    }
    return this.inbox.shift() ?? null;
  }
  /** Everything that arrives within `ms`. */
  async drain(ms: number): Promise<Datagram[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.inbox.splice(0);
  }
  private closed = false;
  close(): void {
    if (!this.closed) this.socket.close();
    this.closed = true;
  }
}

/**
 * A UDP relay between clients and a TFTP server that drops `lossRate` of the datagrams each way
 * (seeded). Clients talk to `port`; each client gets its own upstream socket, whose first packet
 * goes to the server's request port and later ones to the transfer ID the server answered from.
 */
export class LossyRelay {
  dropped = 0;
  forwarded = 0;
  private readonly upstreams = new Map<number, { sock: dgram.Socket; tid: number }>();
  private constructor(
    private readonly front: dgram.Socket,
    private readonly serverPort: number,
    private readonly lossRate: number,
    private readonly rnd: () => number,
  ) {
    front.on('message', (msg, r) => this.fromClient(msg, r.port));
  }
  static async open(serverPort: number, lossRate: number, seed: number): Promise<LossyRelay> {
    const front = dgram.createSocket('udp4');
    await new Promise<void>((r) => front.bind(0, '127.0.0.1', () => r()));
    return new LossyRelay(front, serverPort, lossRate, mulberry32(seed));
  }
  get port(): number {
    return this.front.address().port;
  }
  private drop(): boolean {
    if (this.rnd() < this.lossRate) {
      this.dropped++;
      return true;
    }
    this.forwarded++;
    return false;
  }
  private fromClient(msg: Buffer, clientPort: number): void {
    let up = this.upstreams.get(clientPort);
    if (!up) {
      const entry = { sock: dgram.createSocket('udp4'), tid: this.serverPort };
      entry.sock.bind(0, '127.0.0.1');
      entry.sock.on('message', (m, r) => {
        entry.tid = r.port;
        if (!this.drop()) this.front.send(m, clientPort, '127.0.0.1');
      });
      this.upstreams.set(clientPort, entry);
      up = entry;
    }
    if (!this.drop()) up.sock.send(msg, up.tid, '127.0.0.1');
  }
  close(): void {
    this.front.close();
    for (const u of this.upstreams.values()) u.sock.close();
  }
}

/** A boot-file source serving generated bytes without touching the disk (large-file tests). */
export class GeneratedSource implements BootFileSource {
  opened = 0;
  closed = 0;
  constructor(private readonly files: Record<string, number>) {}
  /** Byte `i` of every generated file. */
  static byteAt(i: number): number {
    return (i * 31 + (i >>> 11)) & 0xff;
  }
  static contents(size: number): Buffer {
    const b = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i++) b[i] = GeneratedSource.byteAt(i);
    return b;
  }
  async open(path: string): Promise<OpenFile | null> {
    const size = this.files[path];
    if (size === undefined) return null;
    this.opened++;
    return {
      size,
      read: async (buf, position) => {
        const n = Math.max(0, Math.min(buf.length, size - position));
        for (let i = 0; i < n; i++) buf[i] = GeneratedSource.byteAt(position + i);
        return n;
      },
      close: async () => {
        this.closed++;
      },
    };
  }
}

/**
 * The data paths every real-client test runs against: the native one (native/tftp_transfer.c)
 * when it was built, and the JavaScript one always. CI builds the native path, so there a
 * missing build fails the run instead of quietly testing one path only.
 */
export function testEngines(): ('native' | 'js')[] {
  const { native, why } = loadNativeTftp();
  if (native === null && process.env.CI) throw new Error(`CI must test the native TFTP data path: ${why}`);
  return native ? ['native', 'js'] : ['js'];
}
