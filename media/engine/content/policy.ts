/**
 * What the engine needs to know about content: the points to fetch from, in order of
 * preference (the local point first, remote ones after when fallback is allowed), and for each
 * content object the version, its files with their hashes, and a package's programs.
 *
 * The boot policy's `content` section carries this (the content library owns its shape); this
 * reader accepts the documented shape and tolerates the obvious variants (a record keyed by id
 * instead of a list, a point given as a bare URL) so the two sides can evolve separately.
 */
export interface ContentFile {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

export interface ContentItem {
  readonly id: string;
  readonly kind: string;
  readonly version: number;
  readonly files: readonly ContentFile[];
  readonly programs?: readonly { readonly name: string; readonly commandLine: string }[];
}

export interface ContentPoint {
  /** The point's HTTP base, e.g. `http://dp1:8080`; files are at `<url>/content/<id>/<version>/<path>`. */
  readonly url: string;
  readonly name?: string;
}

export interface ContentPolicy {
  readonly option: string;
  readonly points: readonly ContentPoint[];
  readonly items: readonly ContentItem[];
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

function point(x: unknown): ContentPoint | null {
  if (typeof x === 'string') return { url: x };
  if (!isObj(x)) return null;
  const url = x.url ?? x.baseUrl ?? x.httpUrl;
  return typeof url === 'string' ? { url, ...(typeof x.name === 'string' ? { name: x.name } : typeof x.id === 'string' ? { name: x.id } : {}) } : null;
}

function file(x: unknown): ContentFile | null {
  if (!isObj(x) || typeof x.path !== 'string' || typeof x.sha256 !== 'string') return null;
  return { path: x.path, sha256: x.sha256.toLowerCase(), size: typeof x.size === 'number' ? x.size : -1 };
}

function item(x: unknown, idFromKey?: string): ContentItem | null {
  if (!isObj(x)) return null;
  const id = typeof x.id === 'string' ? x.id : idFromKey;
  const version = typeof x.version === 'number' ? x.version : isObj(x.version) && typeof x.version.version === 'number' ? x.version.version : null;
  const filesRaw = Array.isArray(x.files) ? x.files : isObj(x.version) && Array.isArray(x.version.files) ? x.version.files : null;
  if (!id || version === null || !filesRaw) return null;
  const files = filesRaw.map(file).filter((f): f is ContentFile => f !== null);
  const programs = Array.isArray(x.programs)
    ? x.programs.filter((p): p is { name: string; commandLine: string } => isObj(p) && typeof p.name === 'string' && typeof p.commandLine === 'string')
    : undefined;
  return { id, kind: typeof x.kind === 'string' ? x.kind : 'package', version, files, ...(programs ? { programs } : {}) };
}

/** Reads a `content` section; null when there is none (the engine then fails content steps clearly). */
export function readContentPolicy(section: unknown): ContentPolicy | null {
  if (!isObj(section)) return null;
  const rawPoints = section.points ?? section.distributionPoints ?? [];
  const points = (Array.isArray(rawPoints) ? rawPoints : []).map(point).filter((p): p is ContentPoint => p !== null);
  const rawItems = section.items ?? section.content ?? section.packages ?? [];
  const items = Array.isArray(rawItems)
    ? rawItems.map((x) => item(x))
    : isObj(rawItems)
      ? Object.entries(rawItems).map(([k, v]) => item(v, k))
      : [];
  return {
    option: typeof section.option === 'string' ? section.option : 'downloadAsNeeded',
    points,
    items: items.filter((i): i is ContentItem => i !== null),
  };
}

export const contentItem = (policy: ContentPolicy | null, id: string): ContentItem | undefined => policy?.items.find((i) => i.id === id);
