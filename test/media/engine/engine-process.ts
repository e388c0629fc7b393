/**
 * The engine as a real child process (`node --import tsx media/engine/cli.ts …`), its output
 * kept, bounded by a lifetime and killed in teardown; and a TCP proxy a test can close and
 * reopen on the same port to make the site unreachable and reachable again.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(REPO_ROOT, 'media/engine/cli.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface Teardowns {
  teardown(fn: () => unknown): void;
}

export interface EngineRun {
  readonly exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
  stderr(): string;
  /** Resolves when stderr has a line matching `re` (or rejects when the engine exits first). */
  waitFor(re: RegExp): Promise<void>;
  /** SIGKILL to the engine alone: its step processes lead their own groups and outlive it. */
  kill(): void;
}

/** Ours without tap's loader and coverage hooks, and without OSDEPLOY_* (only flags and `extra` configure it). */
function childEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('OSDEPLOY_') || k.startsWith('TAP') || k.startsWith('_TAPJS') || k === 'NODE_OPTIONS' || k === 'NODE_V8_COVERAGE') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export function spawnEngine(t: Teardowns, args: readonly string[], lifetimeMs = 90_000, env: NodeJS.ProcessEnv = {}): EngineRun {
  const proc = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd: REPO_ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  proc.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  proc.stderr.setEncoding('utf8').on('data', (s: string) => {
    err += s;
    for (const w of waiters.splice(0)) if (w.re.test(err)) w.resolve();
    else waiters.push(w);
  });
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => proc.once('close', (code) => resolve({ code, stdout: out, stderr: err })));
  const killer = setTimeout(() => proc.kill('SIGKILL'), lifetimeMs);
  void exited.then(() => clearTimeout(killer));
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
  });
  return {
    exited,
    stderr: () => err,
    kill: () => {
      proc.kill('SIGKILL');
    },
    waitFor: (re) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(err)) return resolve();
        waiters.push({ re, resolve });
        void exited.then(() => (re.test(err) ? resolve() : reject(new Error(`the engine exited before ${re}:\n${err}`))));
      }),
  };
}

/** `env`: variables the engine gets on top of ours (OSDEPLOY_ENGINE_SYSROOT, OSDEPLOY_MEDIA_PASSWORD, …). */
export const runEngine = (t: Teardowns, args: readonly string[], env: NodeJS.ProcessEnv = {}) => spawnEngine(t, args, 90_000, env).exited;

/** Forwards a fixed local port to `target`; `close()` refuses connections until `open()` again. */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async open(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}
