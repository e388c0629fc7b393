/**
 * What the engine knows about content from the policy's `content` section, which the
 * content library writes (server/site/content-policy.ts): for each package its version, the
 * hash of its manifest and its locations in order of preference (the local point first, remote
 * points after when the deployment falls back to them), each the base URL of that version and,
 * for a remote point, the token it wants.
 *
 * The section does not carry the file list: the engine asks the site for the manifest and
 * checks it against `manifestSha256` before trusting any file hash in it (content/model.ts's
 * canonical manifest). A section that does carry `files` (or `programs`) is used as it is.
 */
export interface ContentFile {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

export interface ContentLocation {
  /** The version's base URL: a file is at `<url><path>` (path segments percent-encoded). */
  readonly url: string;
  readonly name?: string;
  /** For a remote point that wants its own token; else the engine's token. */
  readonly token?: string;
}

export interface Program {
  readonly name: string;
  readonly commandLine: string;
}

export interface ContentItem {
  readonly id: string;
  readonly kind: string;
  readonly version: number;
  readonly manifestSha256: string | null;
  readonly locations: readonly ContentLocation[];
  readonly files?: readonly ContentFile[];
  readonly programs?: readonly Program[];
}

export interface ContentPolicy {
  readonly option: string;
  readonly items: readonly ContentItem[];
  /** Standalone or prestaged media: every item is read from the media by hash, never downloaded. */
  readonly onMedia?: boolean;
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);

function file(x: unknown): ContentFile | null {
  if (!isObj(x) || typeof x.path !== 'string' || typeof x.sha256 !== 'string') return null;
  return { path: x.path, sha256: x.sha256.toLowerCase(), size: typeof x.size === 'number' ? x.size : -1 };
}

function location(x: unknown): ContentLocation | null {
  if (!isObj(x) || typeof x.url !== 'string') return null;
  const name = str(x.pointId) ?? str(x.name);
  const token = str(x.token);
  return { url: x.url.endsWith('/') ? x.url : `${x.url}/`, ...(name ? { name } : {}), ...(token ? { token } : {}) };
}

function item(x: unknown): ContentItem | null {
  if (!isObj(x) || typeof x.id !== 'string' || typeof x.version !== 'number') return null;
  const locations = (Array.isArray(x.locations) ? x.locations : []).map(location).filter((l): l is ContentLocation => l !== null);
  const files = Array.isArray(x.files) ? x.files.map(file).filter((f): f is ContentFile => f !== null) : undefined;
  const programs = Array.isArray(x.programs) ? x.programs.filter((p): p is Program => isObj(p) && typeof p.name === 'string' && typeof p.commandLine === 'string') : undefined;
  return {
    id: x.id,
    kind: str(x.kind) ?? 'package',
    version: x.version,
    manifestSha256: str(x.manifestSha256)?.toLowerCase() ?? null,
    locations,
    ...(files ? { files } : {}),
    ...(programs ? { programs } : {}),
  };
}

/** Reads a `content` section; null when there is none. A package no point holds (version null) is left out. */
export function readContentPolicy(section: unknown): ContentPolicy | null {
  if (!isObj(section)) return null;
  const raw = Array.isArray(section.packages) ? section.packages : Array.isArray(section.items) ? section.items : [];
  return { option: str(section.option) ?? 'downloadAsNeeded', items: raw.map(item).filter((i): i is ContentItem => i !== null) };
}

export const contentItem = (policy: ContentPolicy | null, id: string): ContentItem | undefined => policy?.items.find((i) => i.id === id);

/** The manifest hash as the content library defines it (media/boot-media/content-list.ts, shared with `osdeploy media inspect`). */
export { manifestHash } from '../../boot-media/content-list.js';
