/**
 * Media test fixtures: a content library over the in-memory store with a boot image and an OS
 * image imported from small folders, and a build spec for each media type. Which external
 * programs exist decides which tests run (CI installs them all: .ci/run).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createContent, importFolder } from '../../../content/library.js';
import { MemoryContentStore } from '../../../content/memory-store.js';
import { MemoryLibraryRecords } from '../../../content/records.js';
import type { MediaBuildSpec } from '../../../media/boot-media/build.js';
import { manifestHash } from '../../../media/boot-media/content-list.js';
import { writeManifest } from '../../../media/boot-media/manifest.js';
import { librarySource, type MediaContentSource } from '../../../media/boot-media/content-source.js';
import { LAYOUT, type MediaFormat, type MediaHeader, type MediaSecrets, type MediaType } from '../../../media/boot-media/model.js';
import { EFI_TARGETS } from '../../../media/boot-media/grub.js';
import { BOOT_FILES, findTool } from '../../../media/boot-media/tools.js';
import type { BootImageFiles } from '../../../policy/content-refs.js';
import { stagedContent } from '../../../server/site/media-policy.js';
import { existsSync } from 'node:fs';

export interface Teardowns {
  teardown(fn: () => unknown): void;
}

export const NOW = Date.UTC(2026, 2, 2, 9, 0, 0);

/** Why a build of `format` cannot run here, or false when everything it needs is installed. */
export function missingFor(format: MediaFormat): string | false {
  const tools = format === 'iso' ? ['xorriso', 'mkfs.vfat', 'mmd', 'mcopy'] : format === 'raw' ? ['mkfs.vfat', 'mcopy', 'sfdisk'] : [];
  const tool = tools.find((t) => !findTool(t));
  if (tool) return `${tool} is not installed (apt-get install xorriso isolinux syslinux-common mtools dosfstools fdisk)`;
  const file = Object.values(BOOT_FILES).find((f) => !existsSync(f.path));
  if (file) return `${file.path} is missing (${file.install})`;
  const grub = EFI_TARGETS.x64!;
  if (!findTool('grub-mkimage') || !existsSync(grub.modules)) return `GRUB for UEFI is not installed (${grub.install})`;
  return false;
}

/** The fixture boot image's boot files: its own content, as the site serves it at /boot/content/…. */
export const FIXTURE_BOOT: BootImageFiles = { os: 'linux', kernel: 'content/PS100001/latest/vmlinuz', initrds: ['content/PS100001/latest/initrd.img'], cmdline: 'quiet console=ttyS0' };

export function tempDir(t: Teardowns, prefix = 'osdeploy-media-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface ContentFixture {
  readonly source: MediaContentSource;
  readonly bootImageId: string;
  readonly osImageId: string;
  /** Bytes of the OS image's files, by path. */
  readonly osFiles: Readonly<Record<string, string>>;
  readonly boot: BootImageFiles;
  /** sha256 of the boot image's files, by path. */
  readonly bootFiles: Readonly<Record<string, string>>;
}

export async function contentFixture(t: Teardowns): Promise<ContentFixture> {
  const library = { store: new MemoryContentStore(), records: new MemoryLibraryRecords() };
  const root = tempDir(t, 'osdeploy-media-src-');
  const osFiles = { 'install.wim': 'WIM-IMAGE-BYTES '.repeat(4096), 'sources/setup.cfg': '[setup]\nedition=pro\n', 'readme.txt': 'prestaged' };
  const lay = (dir: string, files: Record<string, string>) => {
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
      writeFileSync(path.join(dir, p), text);
    }
    return dir;
  };
  await createContent(library, { kind: 'bootImage', id: 'PS100001', name: 'Boot image x64', sourcePath: '', os: 'linux', architecture: 'x64', boot: FIXTURE_BOOT });
  await importFolder(library, 'PS100001', lay(path.join(root, 'boot'), { 'vmlinuz': 'KERNEL'.repeat(100), 'initrd.img': 'INITRD'.repeat(100) }), new Date(NOW));
  await createContent(library, { kind: 'osImage', id: 'PS100002', name: 'Windows 11', sourcePath: '', architecture: 'x64' });
  await importFolder(library, 'PS100002', lay(path.join(root, 'os'), osFiles), new Date(NOW));
  const source = librarySource(library);
  const bootFiles = Object.fromEntries((await source.current('PS100001'))!.files.map((x) => [x.path, x.sha256]));
  return { source, bootImageId: 'PS100001', osImageId: 'PS100002', osFiles, boot: FIXTURE_BOOT, bootFiles };
}

export interface SpecOptions {
  readonly type: MediaType;
  readonly format: MediaFormat;
  readonly password?: string | null;
  readonly variables?: Record<string, string>;
  readonly expiresAt?: string | null;
  readonly site?: string;
  /** The boot image's boot files (default: the fixture's) and the boot-file store they may name. */
  readonly bootFiles?: BootImageFiles | null;
  readonly bootFileRoot?: string | null;
  /** Seal the list of staged content with the policy, as the site's build does (standalone, prestaged). */
  readonly contentList?: boolean;
}

export async function specFor(f: ContentFixture, o: SpecOptions): Promise<MediaBuildSpec> {
  const id = `PS1M${o.type.slice(0, 3).toUpperCase()}${o.format.toUpperCase()}`;
  const site = o.site ?? 'http://192.0.2.10:8080';
  const protectedMedia = (o.password ?? null) !== null;
  const variables = o.variables ?? { SMSTSPreferredAdvertID: 'PS120001', OSDComputerName: 'LAB-PC-01' };
  const mediaForm = o.format === 'iso' ? 'cd' : o.format === 'raw' ? 'hardDisk' : 'usb';
  const expiresAt = o.expiresAt ?? null;
  const header: MediaHeader = {
    format: 'osdeploy-media', version: 1, id, type: o.type, siteCode: 'PS1', site, architecture: 'x64', bootImageId: f.bootImageId,
    ...(protectedMedia ? {} : { deploymentId: 'PS120001' }), createdAt: new Date(NOW).toISOString(), expiresAt, protected: protectedMedia, mediaForm,
  };
  const withPolicy = o.type !== 'bootable';
  const ids = withPolicy ? [f.bootImageId, f.osImageId] : [f.bootImageId];
  const content = [];
  for (const cid of ids) content.push({ content: (await f.source.current(cid))!, root: o.type === 'prestaged' && cid === f.osImageId ? ('os' as const) : ('content' as const) });
  const secrets: MediaSecrets = {
    variables, allowUnattended: true, site, token: 'osd_media-token-value-for-tests', mediaForm, mediaId: id, expiresAt,
    ...(withPolicy
      ? { policy: { deploymentId: 'PS120001', taskSequenceId: 'PS100003', taskSequenceName: 'Install Windows 11', purpose: 'available', builtIns: { _SMSTSMediaType: 'FullMedia' },
          taskSequence: { id: 'PS100003', name: 'Install Windows 11', items: [{ kind: 'step', id: 's1', name: 'Join', type: 'JoinDomainWorkgroup', properties: { password: 'Step-Secret-P4ss' } }] },
          variables: [{ name: 'HiddenVar', value: 'Hidden-Value-Zz9', hidden: true }], ...(o.contentList ? { content: stagedContent(content) } : {}) } }
      : {}),
  };
  return {
    header, format: o.format, secrets, password: o.password ?? null, content,
    bootFiles: o.bootFiles === undefined ? f.boot : o.bootFiles, bootFileRoot: o.bootFileRoot ?? null,
    script: { siteUrl: site, mediaId: id, architecture: 'x64', mediaForm, route: protectedMedia ? { kind: 'sealed' } : { kind: 'plain', preferred: variables.SMSTSPreferredAdvertID ?? null, unattended: true } },
  };
}

/**
 * Tampering as someone who can write the stick but not the sealed policy would: replaces one
 * file of content object `id` with `text` — a new blob under content/<sha256>, the old one
 * removed — and rewrites osdeploy/content.json (file list and manifest hash) and
 * osdeploy/manifest.json to fit, so only the check against the policy's content list can tell.
 */
export async function swapContentFile(folder: string, id: string, file: string, text: string): Promise<{ oldSha256: string; newSha256: string }> {
  const at = (rel: string) => path.join(folder, ...rel.split('/'));
  const list = JSON.parse(readFileSync(at(LAYOUT.content), 'utf8')) as { content: { id: string; root: string; files: { path: string; sha256: string; size: number }[]; manifestSha256: string | null }[] };
  const entry = list.content.find((c) => c.id === id);
  const old = entry?.files.find((f) => f.path === file);
  if (!entry || !old || entry.root !== 'content') throw new Error(`no blob for ${id} ${file} on the media`);
  const bytes = Buffer.from(text);
  const newSha256 = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(at(`${LAYOUT.blobs}/${newSha256}`), bytes);
  rmSync(at(`${LAYOUT.blobs}/${old.sha256}`));
  entry.files = entry.files.map((f) => (f.path === file ? { path: f.path, sha256: newSha256, size: bytes.length } : f));
  entry.manifestSha256 = manifestHash(entry.files);
  writeFileSync(at(LAYOUT.content), `${JSON.stringify(list, null, 1)}\n`);
  const manifest = JSON.parse(readFileSync(at(LAYOUT.manifest), 'utf8')) as { mediaId: string };
  await writeManifest(folder, manifest.mediaId);
  return { oldSha256: old.sha256, newSha256 };
}
