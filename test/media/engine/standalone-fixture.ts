/**
 * Fixtures for runs from standalone media: a real site with packaged content (a package with a
 * program, a tar OS image, a driver package) and a collection with a variable; real standalone
 * media built by the site (POST /api/v1/media, buildMedia underneath) in the folder format and
 * unpacked into a temp dir as a technician would copy it onto a stick; an HTTP server that
 * only counts requests, for "no request was made"; and the engine's outbox read from disk.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { unpackTar } from '../../../media/boot-media/archive.js';
import { engineSite, type EngineSite, type StepSpec } from './site.js';
import { sourceFolder, tempDir, type Teardowns } from './step-env.js';

export interface CountingServer {
  readonly url: string;
  /** Requests received so far, as `METHOD path`. */
  readonly requests: string[];
}

/** A site stand-in that answers every request 503 and remembers it. */
export async function countingServer(t: Teardowns): Promise<CountingServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"unavailable"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const addr = server.address();
  return { url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, requests };
}

export interface OfflineSite {
  readonly s: EngineSite;
  readonly toolsId: string;
  readonly imageId: string;
  readonly driversId: string;
  /** A collection of All Unknown Computers with the variable Greeting=hello-offline. */
  readonly collectionId: string;
  /** A custom task sequence with these steps, deployed to the collection; returns the deployment. */
  deploy(name: string, steps: readonly StepSpec[], deployment?: Record<string, unknown>): Promise<string>;
}

export async function offlineSite(t: Teardowns): Promise<OfflineSite> {
  const s = await engineSite(t);
  const src = tempDir(t);
  const folder = (name: string, files: Record<string, string>) => sourceFolder(src, name, files);
  folder('tools', { 'install.sh': 'mkdir -p "$OSDEPLOY_ROOT/opt/tools" && cp payload.txt "$OSDEPLOY_ROOT/opt/tools/"\n', 'payload.txt': 'tool bits from the media\n' });
  folder('rootfs', { 'etc/os-release': 'NAME=OfflineOS\n' });
  mkdirSync(path.join(src, 'image'));
  execFileSync('tar', ['-cf', path.join(src, 'image', 'install.tar'), '-C', path.join(src, 'rootfs'), '.']);
  folder('drivers', { 'nic/nic.inf': '[Version]\nOffline\n' });
  const create = (body: Record<string, unknown>) => s.api<{ id: string }>('POST', '/content', body);
  const tools = await create({ kind: 'package', name: 'Tools', sourcePath: path.join(src, 'tools'), programs: [{ name: 'Install', commandLine: 'sh install.sh' }] });
  const image = await create({ kind: 'osImage', name: 'Offline OS', architecture: 'x64', sourcePath: path.join(src, 'image') });
  const drivers = await create({ kind: 'driverPackage', name: 'NIC drivers', sourcePath: path.join(src, 'drivers') });
  // A Linux boot image whose kernel and initrd are its own content: media carry them for UEFI boots.
  const boot = await create({ kind: 'bootImage', name: 'Linux boot image', architecture: 'x64', os: 'linux', sourcePath: folder('boot', { vmlinuz: 'KERNEL'.repeat(64), 'initrd.img': 'INITRD'.repeat(64) }) });
  const latest = (p: string) => `content/${boot.id}/latest/${p}`;
  await s.api('PATCH', `/content/${boot.id}`, { boot: { os: 'linux', kernel: latest('vmlinuz'), initrds: [latest('initrd.img')], cmdline: 'quiet' } });
  const collection = await s.api<{ id: string }>('POST', '/collections', { name: 'Offline lab', includeCollectionIds: ['SMS000US'], variables: [{ name: 'Greeting', value: 'hello-offline' }] });
  return {
    s,
    toolsId: tools.id,
    imageId: image.id,
    driversId: drivers.id,
    collectionId: collection.id,
    async deploy(name, steps, deployment = {}) {
      const ts = await s.taskSequence(name, steps);
      await s.api('PATCH', `/task-sequences/${ts.id}`, { bootImageId: boot.id });
      return s.deploy({ taskSequenceId: ts.id, collectionId: collection.id, purpose: 'available', availability: 'mediaPxe', ...deployment });
    },
  };
}

/**
 * Builds standalone media on the site (folder format unless `body` says otherwise) and unpacks it
 * into a fresh folder, the stick; a raw (prestaged) disk image is left as a file.
 */
export async function standaloneMedia(t: Teardowns, s: EngineSite, body: Record<string, unknown>): Promise<{ id: string; dir: string; file: string }> {
  const { id } = await s.api<{ id: string }>('POST', '/media', { type: 'standalone', format: 'folder', ...body });
  for (let i = 0; ; i++) {
    const m = await s.api<{ state: string; error: string | null }>('GET', `/media/${id}`);
    if (m.state === 'ready') break;
    if (m.state === 'failed' || i > 1200) throw new Error(`media ${id}: ${m.state} ${m.error}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const res = await s.site.service.app.inject({ method: 'GET', url: `/api/v1/media/${id}/file`, headers: { authorization: `Bearer ${s.site.token}` } });
  if (res.statusCode !== 200) throw new Error(`media ${id} download: ${res.statusCode} ${res.body}`);
  const dir = path.join(tempDir(t, 'osdeploy-stick-'), 'stick');
  if (body.format === 'raw') {
    const file = `${dir}.img`;
    writeFileSync(file, res.rawPayload);
    return { id, dir, file };
  }
  await unpackTar(Readable.from([res.rawPayload]), dir);
  return { id, dir, file: '' };
}

export type OutboxMessage = Record<string, unknown> & { id: string; kind: string; computerId?: string; step?: { name: string }; message?: string };

/** The status messages waiting in `<state>/outbox`, in the order they were made. */
export function outboxMessages(stateDir: string): OutboxMessage[] {
  const dir = path.join(stateDir, 'outbox');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as OutboxMessage);
}

/** `kind step-name` lines without progress notes, as tests compare them. */
export const kinds = (messages: readonly { kind: string; step?: { name: string } }[]): string[] =>
  messages.filter((m) => m.kind !== 'progress').map((m) => `${m.kind}${m.step ? ` ${m.step.name}` : ''}`);
