/**
 * Fetching content to the machine: every file is streamed to disk while it is
 * hashed, and kept only when its sha256 (and size) match the manifest; a point that fails (down,
 * 404, wrong bytes) is followed by the next one. A file already present with the right hash is
 * not fetched again, so a step re-run after a crash resumes cheaply.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { manifestHash, type ContentFile, type ContentItem, type ContentLocation, type Program } from './policy.js';

/** Copies `from` into the file `to`, hashing on the way: what a fetch checks against the manifest. */
export async function copyHashed(from: NodeJS.ReadableStream, to: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  await pipeline(from, tap, createWriteStream(to));
  return { sha256: hash.digest('hex'), size };
}

export class ContentFetchError extends Error {}

export interface FetchResult {
  readonly files: number;
  /** Bytes downloaded now (files already present and correct are not counted). */
  readonly bytes: number;
  /** Which point served each downloaded file, for the step's output. */
  readonly sources: readonly string[];
}

export interface Manifest {
  readonly files: readonly ContentFile[];
  readonly programs: readonly Program[];
}

/** Owned by the engine (DESIGN.md lesson 5): content steps depend on this, tests fake it. */
export interface ContentFetcher {
  /** The version's files (verified against the policy's manifest hash) and a package's programs. */
  manifest(item: ContentItem): Promise<Manifest>;
  /** Every file of the version into `dest`, each verified by its hash. */
  fetch(item: ContentItem, dest: string): Promise<FetchResult>;
}

/** Where the manifest comes from when the policy does not carry the file list: the site. */
export type ManifestSource = (id: string, version: number) => Promise<{ files: readonly ContentFile[]; programs?: readonly Program[] }>;

/** A manifest path as a path under `dest`; anything that could escape is refused. */
export function safeJoin(dest: string, rel: string): string {
  const parts = rel.replaceAll('\\', '/').split('/').filter((s) => s !== '' && s !== '.');
  if (rel.includes('\0') || parts.length === 0 || parts.includes('..') || /^[A-Za-z]:/.test(rel) || rel.startsWith('/'))
    throw new ContentFetchError(`refusing content path ${JSON.stringify(rel)}: it would leave the destination folder`);
  return path.join(dest, ...parts);
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

/** The file is at `target` already, with the size and sha256 the manifest gives. */
export async function present(target: string, f: ContentFile): Promise<boolean> {
  try {
    const st = statSync(target);
    if (!st.isFile() || (f.size >= 0 && st.size !== f.size)) return false;
    return (await sha256File(target)) === f.sha256;
  } catch {
    return false;
  }
}

const fileUrl = (location: ContentLocation, f: ContentFile): string => `${location.url}${f.path.split('/').map(encodeURIComponent).join('/')}`;

export class HttpContentFetcher implements ContentFetcher {
  private readonly manifests = new Map<string, Manifest>();

  constructor(
    private readonly token: string,
    private readonly manifestSource: ManifestSource | null,
    private readonly log: (line: string) => void = () => {},
    private readonly timeoutMs = 60_000,
  ) {}

  async manifest(item: ContentItem): Promise<Manifest> {
    const key = `${item.id}@${item.version}`;
    const known = this.manifests.get(key);
    if (known) return known;
    let got: { files: readonly ContentFile[]; programs?: readonly Program[] };
    if (item.files) got = { files: item.files, ...(item.programs ? { programs: item.programs } : {}) };
    else if (this.manifestSource) got = await this.manifestSource(item.id, item.version);
    else throw new ContentFetchError(`the file list of ${item.id} version ${item.version} is not known`);
    // The policy names the manifest by hash: a list that does not hash to it is not trusted.
    if (item.manifestSha256 && manifestHash(got.files) !== item.manifestSha256)
      throw new ContentFetchError(`the file list of ${item.id} version ${item.version} does not match its manifest hash ${item.manifestSha256}`);
    const m: Manifest = { files: got.files, programs: item.programs ?? got.programs ?? [] };
    this.manifests.set(key, m);
    return m;
  }

  async fetch(item: ContentItem, dest: string): Promise<FetchResult> {
    if (item.locations.length === 0) throw new ContentFetchError(`no distribution point holds ${item.id} version ${item.version}`);
    const { files } = await this.manifest(item);
    let bytes = 0;
    const sources: string[] = [];
    for (const f of files) {
      const target = safeJoin(dest, f.path);
      if (await present(target, f)) continue;
      mkdirSync(path.dirname(target), { recursive: true });
      const reasons: string[] = [];
      let ok = false;
      for (const location of item.locations) {
        const partial = `${target}.partial`;
        const where = location.name ?? location.url;
        try {
          bytes += await this.download(fileUrl(location, f), location.token ?? this.token, partial, f);
          renameSync(partial, target);
          sources.push(`${f.path} from ${where}`);
          ok = true;
          break;
        } catch (e) {
          rmSync(partial, { force: true });
          reasons.push(`${where}: ${(e as Error).message}`);
          this.log(`content: ${item.id}/${f.path} from ${where}: ${(e as Error).message}; trying the next point`);
        }
      }
      if (!ok) throw new ContentFetchError(`could not fetch ${item.id} version ${item.version} file ${f.path}: ${reasons.join('; ')}`);
    }
    return { files: files.length, bytes, sources };
  }

  private async download(url: string, token: string, partial: string, f: ContentFile): Promise<number> {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(this.timeoutMs) }).catch((e: unknown) => {
      const cause = (e as { cause?: { code?: string } }).cause;
      throw new ContentFetchError(`unreachable (${cause?.code ?? (e as Error).message})`);
    });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new ContentFetchError(`HTTP ${res.status}`);
    }
    const { sha256: got, size } = await copyHashed(Readable.fromWeb(res.body as WebReadableStream), partial);
    if (got !== f.sha256) throw new ContentFetchError(`hash mismatch (sha256 ${got}, expected ${f.sha256})`);
    if (f.size >= 0 && size !== f.size) throw new ContentFetchError(`size mismatch (${size} bytes, expected ${f.size})`);
    return size;
  }
}
