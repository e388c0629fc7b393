/**
 * In-process osdeploy services for the content tests: each a real service (real HTTP on a free
 * loopback port) with its own data directory, store and admin token, so a "remote" distribution
 * point is a second service and every transfer between them is real HTTP. UDP roles are off.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONFIG_KEYS, loadConfig } from '../../../server/config.js';
import { startService, type Service } from '../../../server/main.js';
import type { Json } from '../../fixtures/api-harness.js';

export interface Teardowns {
  teardown(fn: () => unknown): void;
}

export interface Reply {
  readonly status: number;
  readonly json: Json;
  readonly text: string;
  readonly headers: Headers;
}

export interface Node {
  readonly service: Service;
  readonly url: string;
  readonly token: string;
  readonly dataDir: string;
  call(method: string, url: string, body?: unknown, token?: string | null): Promise<Reply>;
}

export function tempDir(t: Teardowns, prefix = 'osdeploy-content-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a folder of files (string or bytes; `/` in a name makes subfolders) and returns it. */
export function folder(t: Teardowns, files: Record<string, string | Buffer>): string {
  const dir = tempDir(t, 'osdeploy-source-');
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), data);
  }
  return dir;
}

export async function startNode(t: Teardowns, opts: { dataDir?: string; siteCode?: string; now?: () => number } = {}): Promise<Node> {
  const dataDir = opts.dataDir ?? tempDir(t, 'osdeploy-node-');
  const flags: Record<string, string> = { 'data-dir': dataDir, 'http-port': '0', bind: '127.0.0.1', 'log-level': 'silent', ...(opts.siteCode ? { 'site-code': opts.siteCode } : {}) };
  for (const spec of Object.values(CONFIG_KEYS)) if (spec.flag === 'pxe' || spec.flag === 'tftp') flags[spec.flag] = 'off';
  const service = await startService(loadConfig({ flags }));
  t.teardown(() => service.close());
  const token = readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
  const call = async (method: string, url: string, body?: unknown, tok: string | null = token): Promise<Reply> => {
    // Absolute URLs (content downloads) go as they are; other paths are API paths.
    const full = url.startsWith('/api/') || url.startsWith('http') ? url : `/api/v1${url}`;
    const res = await fetch(full.startsWith('http') ? full : `${service.url}${full}`, {
      method,
      headers: { ...(tok ? { authorization: `Bearer ${tok}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let json: Json;
    if (text && (res.headers.get('content-type') ?? '').includes('json')) json = JSON.parse(text);
    return { status: res.status, json, text, headers: res.headers };
  };
  return { service, url: service.url, token, dataDir, call };
}

/** Polls a distribution job until it finishes. */
export async function waitJob(node: Pick<Node, 'call'>, id: string, timeoutMs = 30_000): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await node.call('GET', `/distribution-jobs/${id}`);
    if (r.status !== 200) throw new Error(`job ${id}: ${r.status} ${r.text}`);
    if (r.json.state === 'completed' || r.json.state === 'completedWithFailures') return r.json;
    if (Date.now() > deadline) throw new Error(`job ${id} did not finish: ${r.text}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

/** Must succeed: returns the parsed body or throws with the answer. */
export async function ok(node: Pick<Node, 'call'>, method: string, url: string, body?: unknown): Promise<Json> {
  const r = await node.call(method, url, body);
  if (r.status >= 300) throw new Error(`${method} ${url} answered ${r.status}: ${r.text}`);
  return r.json;
}
