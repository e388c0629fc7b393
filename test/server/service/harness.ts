/**
 * Runs the real `osdeploy serve` as a child process for the service tests:
 * `node --import tsx server/cli/osdeploy.ts serve --data-dir DIR --http-port PORT --bind 127.0.0.1`.
 * Every child is bounded by a timeout and killed in teardown, so nothing outlives the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_KEYS } from '../../../server/config.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The parts of a tap test this harness uses (tap's Test satisfies it). */
export interface Teardowns {
  teardown(fn: () => unknown): void;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Child {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly url: string;
  readonly exited: Promise<Exit>;
  stdout(): string;
  stderr(): string;
  /** Sends the signal (if still running) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

/** A port nobody listens on right now: bind to 0, read it, close. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function tempDataDir(t: Teardowns, prefix = 'osdeploy-svc-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The child's environment: ours without OSDEPLOY_* (so only what a test sets reaches the
 * config) and without tap's loader and coverage hooks (so the child is a plain service).
 */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('OSDEPLOY_') || k.startsWith('TAP') || k.startsWith('_TAPJS') || k === 'NODE_OPTIONS' || k.startsWith('TS_NODE')) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

const UDP_ROLE_FLAGS = Object.values(CONFIG_KEYS)
  .map((k) => k.flag)
  .filter((f) => f === 'pxe' || f === 'tftp');

export interface SpawnOptions {
  readonly dataDir: string;
  readonly port?: number;
  readonly env?: Record<string, string>;
  /** The child is killed with SIGKILL after this long, whatever happens (ms). */
  readonly lifetimeMs?: number;
  readonly logLevel?: string;
}

/** Starts `osdeploy serve` and returns at once; see `startService` to wait until it answers. */
export async function spawnService(t: Teardowns, opts: SpawnOptions): Promise<Child> {
  const port = opts.port ?? (await freePort());
  const args = ['--import', 'tsx', 'server/cli/osdeploy.ts', 'serve', '--data-dir', opts.dataDir, '--http-port', String(port), '--bind', '127.0.0.1', '--log-level', opts.logLevel ?? 'info'];
  // The UDP boot roles (proxyDHCP on 67/4011, TFTP on 69) are off: these tests are about the API
  // and the site database, and parallel test processes could not share those fixed ports.
  for (const role of UDP_ROLE_FLAGS) args.push(`--${role}`, 'off');
  const proc = spawn(process.execPath, args, { cwd: REPO_ROOT, env: childEnv(opts.env ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<Exit>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const running = () => proc.exitCode === null && proc.signalCode === null;
  const killer = setTimeout(() => running() && proc.kill('SIGKILL'), opts.lifetimeMs ?? 60_000);
  killer.unref();
  void exited.then(() => clearTimeout(killer));
  t.teardown(async () => {
    if (running()) proc.kill('SIGKILL');
    await exited;
  });
  return {
    proc,
    port,
    url: `http://127.0.0.1:${port}`,
    exited,
    stdout: () => out,
    stderr: () => err,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (running()) proc.kill(signal);
      return exited;
    },
  };
}

export interface Service extends Child {
  /** The admin token the service wrote to DATA_DIR/admin.token ('' when it wrote none). */
  readonly adminToken: string;
}

/** Starts the service and waits until GET /healthz answers 200 (or fails with its output). */
export async function startService(t: Teardowns, opts: SpawnOptions & { readyTimeoutMs?: number }): Promise<Service> {
  const child = await spawnService(t, opts);
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  let early: Exit | null = null;
  void child.exited.then((e) => (early = e));
  for (;;) {
    if (early) throw new Error(`osdeploy exited before it answered (${JSON.stringify(early)}):\n${child.stdout()}\n${child.stderr()}`);
    try {
      const r = await fetch(`${child.url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.proc.kill('SIGKILL');
      throw new Error(`osdeploy did not answer /healthz within ${opts.readyTimeoutMs ?? 20_000} ms:\n${child.stdout()}\n${child.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  // A second node on a shared database finds an admin token there and writes none.
  const file = path.join(opts.dataDir, 'admin.token');
  const adminToken = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  return { ...child, adminToken };
}

export interface Reply<T = unknown> {
  readonly status: number;
  readonly body: T;
}

/** JSON over HTTP with a bearer token; the body is parsed when there is one. */
export async function api<T = Record<string, unknown>>(base: string, token: string, method: string, url: string, body?: unknown): Promise<Reply<T>> {
  const r = await fetch(`${base}/api/v1${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : null) as T };
}

/** The parsed pino lines a child wrote to stdout. */
export const logLines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
