/**
 * A site ready for media: a Linux boot image that starts over the network (and from media: its
 * boot files are its own content) and an OS image,
 * both imported from small folders; a computer (qemu's default MAC) in a collection with a
 * hidden variable; a task sequence with a Join Domain password; and two deployments to the
 * collection, one visible and one hidden; the secret task sequence deployed twice,
 * once as it comes (only administrators build its standalone media) and once with
 * allowTechnicianMedia. Works with any `call`-style client.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type Call = (method: string, url: string, body?: unknown) => Promise<{ status: number; json: Record<string, unknown> & { id?: string } }>;

/** qemu's default MAC for the first NIC. */
export const QEMU_MAC = '52:54:00:12:34:56';
export const STEP_SECRET = 'Join-Pa55-Step-Secret';
export const HIDDEN_VALUE = 'Hidden-Collection-Value-77';

export interface MediaSite {
  readonly computerId: string;
  readonly collectionId: string;
  readonly bootImageId: string;
  readonly osImageId: string;
  /** A task sequence with no secrets, deployed hidden. */
  readonly hidden: string;
  readonly visible: string;
  /** A task sequence with a step secret, deployed hidden to a collection with a hidden variable. */
  readonly secretive: string;
  /** The same, deployed with allowTechnicianMedia: technicians may build its standalone media. */
  readonly forTechnicians: string;
  readonly clientsOnly: string;
}

function folder(root: string, name: string, files: Record<string, string>): string {
  const dir = path.join(root, name);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    writeFileSync(path.join(dir, p), text);
  }
  return dir;
}

async function ok(call: Call, method: string, url: string, body: unknown, want = 201): Promise<string> {
  const r = await call(method, url, body);
  if (r.status !== want) throw new Error(`${method} ${url}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json.id as string;
}

export async function mediaSite(call: Call, t: { teardown(fn: () => unknown): void }, mac = QEMU_MAC): Promise<MediaSite> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'osdeploy-media-site-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const bootImageId = await ok(call, 'POST', '/content', {
    kind: 'bootImage', name: 'Linux boot image', architecture: 'x64', os: 'linux',
    sourcePath: folder(root, 'boot', { vmlinuz: 'KERNEL-BYTES'.repeat(64), 'initrd.img': 'INITRD-BYTES'.repeat(64) }),
  });
  // Its boot files are its own content (served at /boot/content/…), so media carry them too.
  await ok(call, 'PATCH', `/content/${bootImageId}`, { boot: { os: 'linux', kernel: `content/${bootImageId}/latest/vmlinuz`, initrds: [`content/${bootImageId}/latest/initrd.img`], cmdline: 'quiet' } }, 200);
  const osImageId = await ok(call, 'POST', '/content', { kind: 'osImage', name: 'Windows 11', architecture: 'x64', sourcePath: folder(root, 'os', { 'install.wim': 'WIM-BYTES '.repeat(2048), 'sources/ei.cfg': '[Channel]\nRetail\n' }) });
  const computerId = await ok(call, 'POST', '/computers', { name: 'LAB-01', macAddresses: [mac] });
  const collectionId = await ok(call, 'POST', '/collections', { name: 'Lab', directMemberIds: [computerId] });
  const secretCollection = await ok(call, 'POST', '/collections', { name: 'Lab secrets', directMemberIds: [computerId], variables: [{ name: 'JoinKey', value: HIDDEN_VALUE, hidden: true }] });
  const ts = (name: string) => ok(call, 'POST', '/task-sequences', { type: 'installOs', name, bootImageId, osImageId });
  const [hiddenTs, visibleTs, secretTs, clientsTs] = [await ts('Hidden install'), await ts('Visible install'), await ts('Domain install'), await ts('Clients only')];
  await ok(call, 'POST', `/task-sequences/${secretTs}/edits`, { operations: [{ op: 'addStep', type: 'JoinDomainOrWorkgroup', name: 'Join', properties: { mode: 'domain', domain: 'contoso.com', account: 'CONTOSO\\join', password: STEP_SECRET } }] }, 200);
  const deploy = (taskSequenceId: string, collection: string, availability: string, extra: Record<string, unknown> = {}) => ok(call, 'POST', '/deployments', { taskSequenceId, collectionId: collection, availability, ...extra });
  return {
    computerId,
    collectionId,
    bootImageId,
    osImageId,
    hidden: await deploy(hiddenTs, collectionId, 'mediaPxeHidden'),
    visible: await deploy(visibleTs, collectionId, 'clientsMediaPxe'),
    secretive: await deploy(secretTs, secretCollection, 'mediaPxeHidden'),
    clientsOnly: await deploy(clientsTs, collectionId, 'clients'),
    forTechnicians: await deploy(secretTs, secretCollection, 'mediaPxeHidden', { allowTechnicianMedia: true }),
  };
}
