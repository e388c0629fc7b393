/**
 * The CLI tests' site: the REAL service started in-process on a free port with its data in a
 * temporary directory, and the `osdeploy` CLI run as a real child process against it
 * (`node --import tsx server/cli/osdeploy.ts <args>`), its stdout, stderr and exit code kept.
 * Setup that is not under test goes through `api` (fastify inject) to keep child processes few.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CONFIG_KEYS, loadConfig } from '../../../server/config.js';
import { startService, type Service } from '../../../server/main.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = path.join(REPO_ROOT, 'server/cli/osdeploy.ts');
/** tsx by absolute URL: the child runs in a scratch directory (no ./data/admin.token unless a test puts one there). */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface Teardowns {
  teardown(fn: () => unknown): void;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Extra environment; OSDEPLOY_SERVER and OSDEPLOY_TOKEN default to the site's. */
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
}

export interface Site {
  readonly service: Service;
  readonly url: string;
  readonly token: string;
  /** A scratch directory for files the CLI reads, and its working directory. */
  readonly work: string;
  cli(args: readonly string[], opts?: CliOptions): Promise<CliResult>;
  api<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown): Promise<T>;
}

/** Ours without OSDEPLOY_* and without tap's loader and coverage hooks: the child is a plain CLI. */
function baseEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('OSDEPLOY_') || k.startsWith('TAP') || k.startsWith('_TAPJS') || k === 'NODE_OPTIONS' || k.startsWith('TS_NODE') || k === 'NODE_V8_COVERAGE') continue;
    env[k] = v;
  }
  return env;
}

export function runCli(args: readonly string[], env: Record<string, string | undefined>, cwd: string): Promise<CliResult> {
  const clean = Object.fromEntries(Object.entries({ ...baseEnv(), ...env }).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TSX, BIN, ...args], { cwd, env: clean, timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export async function startSite(t: Teardowns): Promise<Site> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'osdeploy-cli-'));
  const work = mkdtempSync(path.join(os.tmpdir(), 'osdeploy-cli-work-'));
  t.teardown(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });
  const flags: Record<string, string> = { 'data-dir': dataDir, 'http-port': '0', bind: '127.0.0.1', 'log-level': 'silent' };
  // The UDP boot roles are not under test here, and parallel test files could not share their fixed ports.
  for (const spec of Object.values(CONFIG_KEYS)) if (spec.flag === 'pxe' || spec.flag === 'tftp') flags[spec.flag] = 'off';
  const service = await startService(loadConfig({ flags }));
  t.teardown(() => service.close());
  const token = readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
  return {
    service,
    url: service.url,
    token,
    work,
    cli: (args, opts = {}) => runCli(args, { OSDEPLOY_SERVER: service.url, OSDEPLOY_TOKEN: token, ...opts.env }, opts.cwd ?? work),
    async api<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown): Promise<T> {
      const r = await service.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { payload: body as object }) });
      if (r.statusCode >= 300) throw new Error(`${method} ${url} answered ${r.statusCode}: ${r.body}`);
      return (r.body ? JSON.parse(r.body) : null) as T;
    },
  };
}

/** Writes a file into the site's scratch directory and returns its path. */
export function writeWork(site: Site, name: string, text: string): string {
  const file = path.join(site.work, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** A port nobody listens on right now: bind to 0, read it, close. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** The first capture of `re` in `text`, or a failure that shows the text. */
export function capture(text: string, re: RegExp): string {
  const m = re.exec(text);
  if (!m?.[1]) throw new Error(`${re} not found in:\n${text}`);
  return m[1];
}
