/**
 * Reading a media tree back: the header, the variables file (opened with the password when it
 * is sealed), the content list and the manifest. `openMedia` is what the engine calls when it
 * starts from media: it refuses expired media, so an old stick cannot run a task
 * sequence whatever the site says.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { headerAad, isSealed, openJson } from './crypto.js';
import { under } from './files.js';
import { LAYOUT, MEDIA_TYPES, MediaError, type MediaContentEntry, type MediaHeader, type MediaManifest, type MediaSecrets } from './model.js';

const MAX_JSON = 64 * 1024 * 1024;

async function readJson(root: string, rel: string): Promise<unknown> {
  const file = under(root, rel);
  if (!existsSync(file)) throw new MediaError('not-media', `no ${rel} on the media: not osdeploy media`);
  const buf = await readFile(file);
  if (buf.length > MAX_JSON) throw new MediaError('not-media', `${rel} is too large`);
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    throw new MediaError('not-media', `${rel} is not valid JSON`);
  }
}

export async function readHeader(root: string): Promise<MediaHeader> {
  const h = (await readJson(root, LAYOUT.header)) as Partial<MediaHeader>;
  if (h?.format !== 'osdeploy-media' || h.version !== 1) throw new MediaError('not-media', `${LAYOUT.header} is not an osdeploy media header (version 1)`);
  if (!MEDIA_TYPES.includes(h.type as never) || typeof h.id !== 'string' || typeof h.site !== 'string' || typeof h.createdAt !== 'string') {
    throw new MediaError('not-media', `${LAYOUT.header} lacks id, type, site or createdAt`);
  }
  if (h.expiresAt !== null && (typeof h.expiresAt !== 'string' || Number.isNaN(Date.parse(h.expiresAt)))) throw new MediaError('not-media', `${LAYOUT.header} has a bad expiresAt`);
  return h as MediaHeader;
}

export const isExpired = (h: MediaHeader, now: number): boolean => h.expiresAt !== null && now >= Date.parse(h.expiresAt);

export function checkNotExpired(h: MediaHeader, now: number): void {
  if (isExpired(h, now)) throw new MediaError('expired', `media expired: media ${h.id} expired at ${h.expiresAt}; build new media`);
}

export interface SecretsRead {
  readonly sealed: boolean;
  /** Null when sealed and no password was given. */
  readonly secrets: MediaSecrets | null;
}

export async function readSecrets(root: string, header: MediaHeader, password: string | null): Promise<SecretsRead> {
  const raw = await readJson(root, LAYOUT.variables);
  if (isSealed(raw)) {
    if (password === null) return { sealed: true, secrets: null };
    return { sealed: true, secrets: openJson(raw, password, headerAad(header)) as MediaSecrets };
  }
  const o = raw as Partial<MediaSecrets> & { format?: string };
  if (o?.format !== 'osdeploy-media-variables' || typeof o.variables !== 'object' || o.variables === null) throw new MediaError('not-media', `${LAYOUT.variables} is not an osdeploy variables file`);
  // Unsealed media cannot prove its header unchanged, so its expiry is the stricter of both copies.
  if (o.expiresAt !== header.expiresAt) throw new MediaError('tampered', 'the expiry in the media header and in the variables file differ: the media was changed');
  return { sealed: false, secrets: o as MediaSecrets };
}

export async function readContentList(root: string): Promise<MediaContentEntry[]> {
  const o = (await readJson(root, LAYOUT.content)) as { content?: MediaContentEntry[] };
  return Array.isArray(o?.content) ? o.content : [];
}

export async function readManifest(root: string): Promise<MediaManifest> {
  const m = (await readJson(root, LAYOUT.manifest)) as MediaManifest;
  if (m?.format !== 'osdeploy-media-manifest' || !Array.isArray(m.files)) throw new MediaError('not-media', `${LAYOUT.manifest} is not an osdeploy manifest`);
  return m;
}

export interface OpenedMedia {
  readonly header: MediaHeader;
  /** The variables file was sealed with a password (its policy, and what the policy names, cannot be changed unnoticed). */
  readonly sealed: boolean;
  readonly secrets: MediaSecrets;
  readonly content: readonly MediaContentEntry[];
  /** A media file's path on disk (content/<sha256>, os/<path>, …). */
  file(rel: string): string;
}

/**
 * For the engine: everything it needs from a mounted media, or a clear error — `expired`,
 * `wrong-password`, a password needed, `tampered`, `not-media`.
 */
export async function openMedia(root: string, opts: { password?: string | null; now: number }): Promise<OpenedMedia> {
  const header = await readHeader(root);
  checkNotExpired(header, opts.now);
  const { sealed, secrets } = await readSecrets(root, header, opts.password ?? null);
  if (!secrets) throw new MediaError('wrong-password', `media ${header.id} is password-protected; give its password`);
  return { header, sealed, secrets, content: await readContentList(root), file: (rel) => under(root, rel) };
}
