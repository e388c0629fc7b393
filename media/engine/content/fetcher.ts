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
import type { ContentFile, ContentItem, ContentPoint } from './policy.js';

export class ContentFetchError extends Error {}

export interface FetchResult {
  readonly files: number;
  /** Bytes downloaded now (files already present and correct are not counted). */
  readonly bytes: number;
  /** Which point served each downloaded file, for the step's output. */
  readonly sources: readonly string[];
}

/** Owned by the engine (DESIGN.md lesson 5): content steps depend on this, tests fake it. */
export interface ContentFetcher {
  fetch(item: ContentItem, dest: string): Promise<FetchResult>;
}

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

async function present(target: string, f: ContentFile): Promise<boolean> {
  try {
    const st = statSync(target);
    if (!st.isFile() || (f.size >= 0 && st.size !== f.size)) return false;
    return (await sha256File(target)) === f.sha256;
  } catch {
    return false;
  }
}

const fileUrl = (point: ContentPoint, item: ContentItem, f: ContentFile): string =>
  `${point.url.replace(/\/+$/, '').replace(/\/content$/, '')}/content/${encodeURIComponent(item.id)}/${item.version}/${f.path.split('/').map(encodeURIComponent).join('/')}`;

export class HttpContentFetcher implements ContentFetcher {
  constructor(
    private readonly points: readonly ContentPoint[],
    private readonly token: string,
    private readonly log: (line: string) => void = () => {},
    private readonly timeoutMs = 60_000,
  ) {}

  async fetch(item: ContentItem, dest: string): Promise<FetchResult> {
    if (this.points.length === 0) throw new ContentFetchError(`no distribution point is known for ${item.id}`);
    let bytes = 0;
    const sources: string[] = [];
    for (const f of item.files) {
      const target = safeJoin(dest, f.path);
      if (await present(target, f)) continue;
      mkdirSync(path.dirname(target), { recursive: true });
      const reasons: string[] = [];
      let ok = false;
      for (const point of this.points) {
        const partial = `${target}.partial`;
        try {
          bytes += await this.download(fileUrl(point, item, f), partial, f);
          renameSync(partial, target);
          sources.push(`${f.path} from ${point.name ?? point.url}`);
          ok = true;
          break;
        } catch (e) {
          rmSync(partial, { force: true });
          const reason = `${point.name ?? point.url}: ${(e as Error).message}`;
          reasons.push(reason);
          this.log(`content: ${item.id}/${f.path} ${reason}; trying the next point`);
        }
      }
      if (!ok) throw new ContentFetchError(`could not fetch ${item.id} version ${item.version} file ${f.path}: ${reasons.join('; ')}`);
    }
    return { files: item.files.length, bytes, sources };
  }

  private async download(url: string, partial: string, f: ContentFile): Promise<number> {
    const res = await fetch(url, { headers: { authorization: `Bearer ${this.token}` }, signal: AbortSignal.timeout(this.timeoutMs) }).catch((e: unknown) => {
      const cause = (e as { cause?: { code?: string } }).cause;
      throw new ContentFetchError(`unreachable (${cause?.code ?? (e as Error).message})`);
    });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new ContentFetchError(`HTTP ${res.status}`);
    }
    const hash = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), tap, createWriteStream(partial, { mode: 0o600 }));
    const got = hash.digest('hex');
    if (got !== f.sha256) throw new ContentFetchError(`hash mismatch (sha256 ${got}, expected ${f.sha256})`);
    if (f.size >= 0 && size !== f.size) throw new ContentFetchError(`size mismatch (${size} bytes, expected ${f.size})`);
    return size;
  }
}
