/**
 * Secrets-at-rest fixture: a real site (openSite + buildApp, never listening) on a data directory
 * that outlives one open (for restarts, rotations and wrong keys), with every log line captured,
 * and a site populated through the API with the three kinds of secret: a step password, hidden
 * variable values and a remote distribution point's tokens (its service faked at the fetch seam).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../../server/config.js';
import { buildApp } from '../../../server/http/app.js';
import { createLogger } from '../../../server/logger.js';
import { openSite } from '../../../server/main.js';
import type { SiteContext } from '../../../server/site/context.js';
import { createToken } from '../../../server/site/tokens.js';
import { RootedFileSource } from '../../../server/tftp/file-source.js';
import type { Db } from '../../../server/store/db.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface Teardowns {
  teardown(fn: () => unknown): void;
}

export const JOIN_PASSWORD = 'JoinDomain-Pa55-7f3a9c';
export const RUNAS_PASSWORD = 'RunAs-Pa55-e41b07';
export const HIDDEN_VALUE = 'Hidden-Collection-Value-5d21';
export const COMPUTER_HIDDEN = 'Hidden-Computer-Value-90ab';
export const POINT_TOKEN = 'osd_remote-admin-token-c0ffee';
export const POINT_CLIENT_TOKEN = 'osd_remote-client-token-beef42';
export const ALL_SECRETS = [JOIN_PASSWORD, RUNAS_PASSWORD, HIDDEN_VALUE, COMPUTER_HIDDEN, POINT_TOKEN, POINT_CLIENT_TOKEN];

export function tempDataDir(t: Teardowns): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'osdeploy-secrets-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The remote point's API as the site sees it: it accepts POINT_TOKEN and mints POINT_CLIENT_TOKEN. */
export const fakePoint: typeof fetch = async (input, init) => {
  const url = String(input);
  const auth = new Headers(init?.headers).get('authorization');
  if (auth !== `Bearer ${POINT_TOKEN}`) return new Response(JSON.stringify({ message: 'bad token' }), { status: 401 });
  const body = url.endsWith('/api/v1/point/inventory') ? { items: [] } : url.endsWith('/api/v1/tokens') ? { token: POINT_CLIENT_TOKEN } : null;
  return new Response(JSON.stringify(body), { status: body ? 200 : 404, headers: { 'content-type': 'application/json' } });
};

export interface SecretSite {
  readonly dataDir: string;
  readonly db: Db;
  readonly ctx: SiteContext;
  readonly app: FastifyInstance;
  readonly admin: string;
  call(method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; body: string; json: Json }>;
  /** Every log line written so far. */
  logs(): string;
  close(): Promise<void>;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** Opens (or reopens) the site on `dataDir`; `env` as the service's environment (OSDEPLOY_SECRET_KEY…). */
export async function openSecretSite(t: Teardowns, dataDir: string, env: Record<string, string> = {}): Promise<SecretSite> {
  let captured = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      captured += chunk.toString();
      done();
    },
  });
  const log = createLogger('trace', sink);
  const config = loadConfig({ env, flags: { 'data-dir': dataDir } });
  const site = await openSite(config, log);
  const { ctx } = site;
  const db = site.db!;
  let app: FastifyInstance;
  try {
    app = await buildApp({ ctx, log, publicUrl: () => 'http://192.0.2.10:8080', bootFiles: new RootedFileSource([path.join(dataDir, 'tftproot')]), fetch: fakePoint });
  } catch (e) {
    await site.close();
    throw e;
  }
  const admin = (await createToken(ctx, 'test', { name: 'secrets test admin', role: 'admin' })).token;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
    await site.close();
  };
  t.teardown(close);
  const call = async (method: string, url: string, body?: unknown, token = admin) => {
    const res = await app.inject({
      method: method as Method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    return { status: res.statusCode, body: res.body, json: res.body && String(res.headers['content-type']).includes('json') ? JSON.parse(res.body) : undefined };
  };
  return { dataDir, db, ctx, app, admin, call, logs: () => captured, close };
}

export interface Populated {
  readonly collectionId: string;
  readonly computerId: string;
  readonly tsId: string;
  readonly pointId: string;
}

async function must(s: SecretSite, method: string, url: string, body?: unknown): Promise<Json> {
  const res = await s.call(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${res.body}`);
  return res.json;
}

/** Every kind of secret, made through the real API. */
export async function populate(s: SecretSite): Promise<Populated> {
  const computer = await must(s, 'POST', '/computers', { name: 'PC-SECRET', macAddresses: ['02:00:00:5e:c0:01'], variables: [{ name: 'LocalAdmin', value: COMPUTER_HIDDEN, hidden: true }] });
  const collection = await must(s, 'POST', '/collections', {
    name: 'Secret collection',
    directMemberIds: [computer.id],
    variables: [
      { name: 'DomainJoinKey', value: HIDDEN_VALUE, hidden: true },
      { name: 'Visible', value: 'plain-visible-value' },
    ],
  });
  const boot = await must(s, 'POST', '/content', { kind: 'bootImage', name: 'Boot' });
  const ts = await must(s, 'POST', '/task-sequences', { type: 'custom', name: 'Join', bootImageId: boot.id });
  await must(s, 'POST', `/task-sequences/${ts.id}/edits`, {
    operations: [
      { op: 'addStep', type: 'JoinDomainOrWorkgroup', name: 'Join', properties: { mode: 'domain', domain: 'contoso.com', account: 'CONTOSO\\joiner', password: JOIN_PASSWORD } },
      { op: 'addStep', type: 'RunCommandLine', properties: { commandLine: 'cmd /c whoami', runAsUser: true, runAsAccount: 'CONTOSO\\svc', runAsPassword: RUNAS_PASSWORD } },
    ],
  });
  const point = await must(s, 'POST', '/distribution-points', { name: 'Branch', url: 'http://198.51.100.7:8080', token: POINT_TOKEN });
  return { collectionId: collection.id, computerId: computer.id, tsId: ts.id, pointId: point.id };
}

export const SITE_FILES = ['site.db', 'site.db-wal', 'site.db-shm'];

/** The raw bytes of the database and its WAL and shared-memory files (those that exist). */
export function rawDatabase(dataDir: string): Buffer {
  return Buffer.concat(
    SITE_FILES.map((f) => {
      try {
        return readFileSync(path.join(dataDir, f));
      } catch {
        return Buffer.alloc(0);
      }
    }),
  );
}

/** Secrets whose bytes appear in `raw` (UTF-8, as SQLite stores TEXT). */
export const foundIn = (raw: Buffer, secrets: readonly string[] = ALL_SECRETS): string[] => secrets.filter((s) => raw.includes(Buffer.from(s, 'utf8')));
