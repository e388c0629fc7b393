/**
 * A real osdeploy service for the security regression tests: started in-process on loopback
 * (HTTP on a free port, TFTP on a free port or off, PXE off unless asked), its JSON log lines
 * kept in memory so a test can assert what was logged, its admin token read from the data
 * directory, and requests made over real HTTP with or without that token.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../../server/config.js';
import { createLogger } from '../../../server/logger.js';
import { startService, type Service } from '../../../server/main.js';
import type { Json } from '../../fixtures/api-harness.js';

export interface Teardowns {
  teardown(fn: () => unknown): void;
}

export interface Reply {
  readonly status: number;
  readonly text: string;
  readonly bytes: Buffer;
  readonly json: Json;
  readonly headers: Headers;
}

export interface Site {
  readonly service: Service;
  readonly url: string;
  readonly dataDir: string;
  readonly token: string;
  /** Parsed log lines, oldest first. */
  readonly logs: Json[];
  /** The TFTP role's port, when it is up. */
  readonly tftpPort: number | null;
  /** `/api/…` paths as they are, other paths under `/api/v1`; `token: null` sends none. */
  api(method: string, url: string, body?: unknown, token?: string | null): Promise<Reply>;
  /** A plain request to a path of the service (boot routes, /content), no token unless given. */
  get(url: string, headers?: Record<string, string>, method?: string): Promise<Reply>;
}

export function tempDir(t: Teardowns, prefix = 'osdeploy-security-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function reply(res: Response): Promise<Reply> {
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  let json: Json;
  if (text && (res.headers.get('content-type') ?? '').includes('json')) json = JSON.parse(text);
  return { status: res.status, text, bytes, json, headers: res.headers };
}

export async function startSite(t: Teardowns, flags: Record<string, string> = {}, opts: { dataDir?: string } = {}): Promise<Site> {
  const dataDir = opts.dataDir ?? tempDir(t);
  const logs: Json[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      done();
    },
  });
  const config = loadConfig({
    flags: { 'data-dir': dataDir, 'http-port': '0', bind: '127.0.0.1', pxe: 'off', tftp: 'off', 'tftp-port': '0', 'log-level': 'debug', ...flags },
  });
  const service = await startService(config, createLogger(config.logLevel, sink));
  t.teardown(() => service.close());
  const token = readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
  const health = (await (await fetch(`${service.url}/healthz`)).json()) as { roles?: { role: string; state: string; detail: string }[] };
  const tftp = (health.roles ?? []).find((r) => r.role === 'tftp' && r.state === 'up');
  const tftpPort = tftp ? Number(/^UDP (\d+)/.exec(tftp.detail)?.[1]) : null;
  return {
    service,
    url: service.url,
    dataDir,
    token,
    logs,
    tftpPort,
    async api(method, url, body, tok = token) {
      const full = url.startsWith('/api/') ? url : `/api/v1${url}`;
      const res = await fetch(`${service.url}${full}`, {
        method,
        headers: { ...(tok ? { authorization: `Bearer ${tok}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
      return reply(res);
    },
    async get(url, headers = {}, method = 'GET') {
      return reply(await fetch(`${service.url}${url}`, { method, headers, signal: AbortSignal.timeout(30_000) }));
    },
  };
}

/** Must succeed: the parsed body, or an error with the answer. */
export async function ok(site: Site, method: string, url: string, body?: unknown): Promise<Json> {
  const r = await site.api(method, url, body);
  if (r.status >= 300) throw new Error(`${method} ${url} answered ${r.status}: ${r.text}`);
  return r.json;
}
