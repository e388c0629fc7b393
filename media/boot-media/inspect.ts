/**
 * `osdeploy media inspect FILE`: reads an ISO (xorriso extraction), a prestaged disk
 * image (mtools at the partition offset), a tar or a folder back into its type, variables
 * (masked unless the password is given), expiry and manifest, and checks every file against
 * the manifest. On standalone and prestaged media it also checks osdeploy/content.json against
 * the content list the policy carries (content-list.ts, the engine's own check): the manifest
 * is not sealed, so a blob swapped together with content.json and the manifest rewritten to fit
 * is caught only there — and only with the password, on sealed media.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { unpackTar } from './archive.js';
import { contentListProblems, policyContentOf } from './content-list.js';
import { extractDisk, firstPartition } from './disk.js';
import { extractIso } from './iso.js';
import { checkManifest, ISO_EXPECTED, type ManifestCheck } from './manifest.js';
import { LAYOUT, MediaError, type MediaContentEntry, type MediaHeader, type MediaManifest, type MediaSecrets } from './model.js';
import { isExpired, readContentList, readHeader, readManifest, readSecrets } from './read.js';

export type MediaContainer = 'iso' | 'raw' | 'tar' | 'folder';

export const MASK = '********';

export async function detectContainer(file: string): Promise<MediaContainer> {
  const st = await stat(file);
  if (st.isDirectory()) return 'folder';
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(0x8006);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead >= 0x8006 && buf.toString('latin1', 0x8001, 0x8006) === 'CD001') return 'iso';
    if (bytesRead >= 262 && buf.toString('latin1', 257, 262) === 'ustar') return 'tar';
  } finally {
    await fh.close();
  }
  if (await firstPartition(file)) return 'raw';
  throw new MediaError('not-media', `${file} is not an ISO, a tar, a disk image or a folder`);
}

/**
 * osdeploy/content.json against the policy's content list: `match` (every object as the build
 * staged it), `mismatch` (each difference), `no-list` (bootable media, which carry no policy, or
 * media built before the list was added) or `locked` (sealed media read without the password).
 */
export type ContentCheck =
  | { readonly state: 'match'; readonly objects: number }
  | { readonly state: 'mismatch'; readonly problems: readonly string[] }
  | { readonly state: 'no-list' }
  | { readonly state: 'locked' };

export interface Inspection {
  readonly container: MediaContainer;
  readonly header: MediaHeader;
  readonly expired: boolean;
  readonly protected: boolean;
  /** True when the variables could be read (plain media, or the right password). */
  readonly unlocked: boolean;
  /** Values masked unless the password (or `reveal`, for unprotected media) was given; null when locked. */
  readonly variables: Readonly<Record<string, string>> | null;
  readonly allowUnattended: boolean | null;
  readonly token: 'present' | 'absent' | 'locked';
  readonly policy: { readonly deploymentId: string; readonly taskSequenceId: string; readonly taskSequenceName: string; readonly steps: number } | null;
  readonly content: readonly { id: string; kind: string; name: string; version: number | null; files: number; bytes: number; root: string }[];
  readonly manifest: MediaManifest;
  readonly check: ManifestCheck;
  readonly contentCheck: ContentCheck;
}

export interface InspectOptions {
  readonly password?: string | null;
  /** Show the values of unprotected media (they are on it in the clear anyway). */
  readonly reveal?: boolean;
  readonly now: number;
}

/** The engine's check of content.json against the policy's list (media/engine/content/media-fetcher.ts checkContentList), as a result. */
export function contentCheckOf(header: MediaHeader, secrets: MediaSecrets | null, listed: readonly MediaContentEntry[]): ContentCheck {
  if (header.type === 'bootable') return { state: 'no-list' };
  if (secrets === null) return { state: 'locked' };
  let sealed;
  try {
    sealed = policyContentOf(secrets.policy?.content, (why) => new Error(why));
  } catch (e) {
    return { state: 'mismatch', problems: [`the policy's content list cannot be read: ${(e as Error).message}`] };
  }
  if (sealed === null) return { state: 'no-list' };
  let problems: string[];
  try {
    problems = contentListProblems(listed, sealed);
  } catch (e) {
    problems = [`${LAYOUT.content} cannot be compared with the policy's list: ${(e as Error).message}`];
  }
  return problems.length > 0 ? { state: 'mismatch', problems } : { state: 'match', objects: sealed.length };
}

const countSteps = (items: readonly unknown[]): number =>
  items.reduce<number>((n, i) => {
    const it = i as { kind?: string; children?: unknown[] };
    return n + (it.kind === 'group' ? countSteps(it.children ?? []) : 1);
  }, 0);

/** Inspects a media tree already on disk. */
export async function inspectTree(root: string, container: MediaContainer, opts: InspectOptions): Promise<Inspection> {
  const header = await readHeader(root);
  const password = opts.password ?? null;
  const { sealed, secrets } = await readSecrets(root, header, password);
  const show = secrets !== null && (password !== null || opts.reveal === true);
  const variables = secrets ? Object.fromEntries(Object.entries(secrets.variables).map(([k, v]) => [k, show ? v : MASK])) : null;
  const p = secrets?.policy;
  const manifest = await readManifest(root);
  const listed = await readContentList(root);
  const content = listed.map((c) => ({ id: c.id, kind: c.kind, name: c.name, version: c.version, files: c.files.length, bytes: c.files.reduce((n, f) => n + f.size, 0), root: c.root }));
  return {
    container,
    header,
    expired: isExpired(header, opts.now),
    protected: sealed,
    unlocked: secrets !== null,
    variables,
    allowUnattended: secrets ? secrets.allowUnattended : null,
    token: secrets ? (secrets.token ? 'present' : 'absent') : 'locked',
    policy: p ? { deploymentId: p.deploymentId, taskSequenceId: p.taskSequenceId, taskSequenceName: p.taskSequenceName, steps: countSteps(p.taskSequence.items) } : null,
    content,
    manifest,
    check: await checkManifest(root, manifest, container === 'iso' ? ISO_EXPECTED : {}),
    contentCheck: contentCheckOf(header, secrets, listed),
  };
}

export async function inspectMedia(file: string, opts: InspectOptions): Promise<Inspection> {
  const container = await detectContainer(file);
  if (container === 'folder') return inspectTree(file, container, opts);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'osdeploy-inspect-'));
  try {
    if (container === 'iso') await extractIso(file, dir);
    else if (container === 'raw') await extractDisk(file, dir);
    else await unpackTar(createReadStream(file), dir);
    return await inspectTree(dir, container, opts);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
