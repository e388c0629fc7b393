/**
 * Export/import test fixtures: a site whose task sequence uses every kind of reference and
 * several step secrets, helpers to export it, to plan an import (upload or server path), and to
 * snapshot a site's task sequences and content for "equal but for ids and secrets" checks.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ContentObject } from '../../../content/model.js';
import type { ApiHarness, ApiResponse, Json } from '../../fixtures/api-harness.js';

export interface Teardowns {
  teardown(fn: () => unknown): void;
}

/** The step secrets the fixture sets; none may ever appear in an export. */
export const SECRETS = {
  domainJoin: 'D0main-J0in-P@ss!',
  runAs: 'RunAs-S3cret#42',
  networkFolder: 'NetShare-Pw-77xyz',
  productKey: 'QWRTY-ZXCVB-PLMKO-NJIUH-BGYTF',
} as const;

export function tempDir(t: Teardowns, prefix = 'osdeploy-export-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function folder(t: Teardowns, files: Record<string, string | Buffer>): string {
  const dir = tempDir(t, 'osdeploy-export-src-');
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), data);
  }
  return dir;
}

export async function must(h: ApiHarness, method: string, url: string, body?: unknown): Promise<Json> {
  const r = await h.call(method, url, body === undefined ? {} : { body });
  if (r.status >= 300) throw new Error(`${method} ${url} answered ${r.status}: ${r.body}`);
  return r.json;
}

export interface SiteObjects {
  readonly tsId: string;
  readonly bootImage: string;
  readonly osImage: string;
  readonly driver: string;
  readonly client: string;
  readonly appA: string;
  readonly appB: string;
  readonly tools: string;
}

/**
 * Boot image, OS image, driver package, client package and two applications (A depends on B)
 * imported from source folders; a tools package without source files; an Install OS task
 * sequence in /Servers/Windows 11 that references all of them and holds four secrets.
 */
export async function richSite(t: Teardowns, h: ApiHarness, name = 'Install Windows 11'): Promise<SiteObjects> {
  const create = async (body: Record<string, unknown>, files?: Record<string, string | Buffer>) =>
    (await must(h, 'POST', '/content', { ...body, ...(files ? { sourcePath: folder(t, files) } : {}) })).id as string;
  const bootImage = await create({ kind: 'bootImage', name: 'WinPE x64', architecture: 'x64' }, { 'sources/boot.wim': Buffer.alloc(4096, 7), 'boot/bcd': 'bcd store' });
  const osImage = await create({ kind: 'osImage', name: 'Windows 11 23H2', architecture: 'x64', imageIndexCount: 3 }, { 'install.wim': Buffer.alloc(10000, 3) });
  const driver = await create({ kind: 'driverPackage', name: 'Dell Latitude drivers', allowRunFromDistributionPoint: true }, { 'net/e1000.inf': 'inf', 'net/e1000.sys': Buffer.alloc(300, 1) });
  const client = await create({ kind: 'package', name: 'ConfigMgr client', programs: [{ name: 'Install', commandLine: 'ccmsetup.exe /q' }] }, { 'ccmsetup.exe': 'MZ client' });
  const appB = await create({ kind: 'application', name: 'VC++ runtime' }, { 'vc_redist.exe': 'MZ vc' });
  const appA = await create({ kind: 'application', name: 'Office', dependencies: [appB], revision: 2 }, { 'setup.exe': 'MZ office', 'config.xml': '<Configuration/>' });
  const tools = await create({ kind: 'package', name: 'Tools (no source)' });
  const top = await must(h, 'POST', '/folders', { name: 'Servers' });
  const sub = await must(h, 'POST', '/folders', { name: 'Windows 11', parentId: top.id });
  const ts = await must(h, 'POST', '/task-sequences', {
    type: 'installOs',
    name,
    description: 'Standard build',
    folderId: sub.id,
    bootImageId: bootImage,
    osImageId: osImage,
    productKey: SECRETS.productKey,
    join: { mode: 'domain', domain: 'contoso.com', account: 'CONTOSO\\join', password: SECRETS.domainJoin },
    clientPackageId: client,
    driverPackageIds: [driver],
    applicationIds: [appA],
  });
  await must(h, 'POST', `/task-sequences/${ts.id}/edits`, {
    operations: [
      { op: 'addStep', type: 'RunCommandLine', name: 'Copy tools', properties: { commandLine: 'xcopy . C:\\Tools /s', packageId: tools, runAsUser: true, runAsAccount: 'CONTOSO\\svc', runAsPassword: SECRETS.runAs } },
      { op: 'addStep', type: 'ConnectToNetworkFolder', properties: { path: '\\\\fs\\logs', account: 'CONTOSO\\logs', password: SECRETS.networkFolder }, condition: { kind: 'variable', name: 'Collect', operator: 'equals', value: 'yes' } },
    ],
  });
  return { tsId: ts.id, bootImage, osImage, driver, client, appA, appB, tools };
}

/** Exports to DATA_DIR/exports/<rel>; returns the API answer. */
export async function exportTo(h: ApiHarness, rel: string, body: Record<string, unknown>): Promise<Json> {
  return must(h, 'POST', '/task-sequences/export', { ...body, path: rel });
}

/** Plans the zip uploaded as application/zip. */
export async function planUpload(h: ApiHarness, zip: Buffer, name = 'upload.zip'): Promise<ApiResponse> {
  const res = await h.app.inject({ method: 'POST', url: `/api/v1/task-sequences/import/plan?name=${encodeURIComponent(name)}`, headers: { authorization: `Bearer ${h.tokens.admin}`, 'content-type': 'application/zip' }, payload: zip });
  return { status: res.statusCode, body: res.body, json: res.body ? JSON.parse(res.body) : undefined, headers: res.headers };
}

/** Plans a file under the harness's DATA_DIR/imports. */
export const planPath = (h: ApiHarness, rel: string): Promise<ApiResponse> => h.call('POST', '/task-sequences/import/plan', { body: { path: rel } });

/** What a site holds, for comparisons: task sequences and content by id. */
export async function snapshot(h: ApiHarness): Promise<{ ts: Json[]; content: Json[] }> {
  const ts = (await must(h, 'GET', '/task-sequences')).items;
  const content = (await h.ctx.library.records.list()) as unknown as Json[];
  return { ts, content };
}

/** A content record as stored (the harness's SQLite rows, read past the repository). */
export function storedContent(h: ApiHarness, id: string): ContentObject | undefined {
  const row = h.db.prepare('SELECT doc FROM content WHERE id = ?').get(id) as { doc: string } | undefined;
  return row ? (JSON.parse(row.doc) as ContentObject) : undefined;
}

/** Counts of the tables an import writes: a refused import leaves them all as they were. */
export function counts(h: ApiHarness): Record<string, number> {
  const n = (table: string) => (h.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  return { task_sequences: n('task_sequences'), content: n('content'), folders: n('folders'), import_links: n('import_links') };
}
