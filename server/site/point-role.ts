/**
 * This service as a distribution point for a site: what it holds, pulling a
 * version from the site's signed URLs (every hash verified before the version is recorded),
 * validating what it holds, and importing prestaged content files. Whatever it installs is
 * marked installed on its own local point too, so its own status views agree.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ContentError } from '../../content/errors.js';
import { verifyFiles } from '../../content/library.js';
import type { ContentObject } from '../../content/model.js';
import { importPrestaged, type PrestageImportResult } from '../../content/prestage-import.js';
import { installVersion, type BlobSource, type CopyResult } from '../../content/transfer.js';
import { invalid } from '../../policy/errors.js';
import { audit, transact, type SiteContext } from './context.js';
import { localPointIn } from './points.js';
import type { InventoryItem, PullRequest, ValidateResult } from './remote-point.js';

/** Every version of every object this point holds. */
export async function inventory(ctx: SiteContext): Promise<InventoryItem[]> {
  return (await ctx.library.records.list())
    .filter((o) => o.versions.length > 0)
    .map((o) => ({ id: o.id, kind: o.kind, name: o.name, versions: o.versions.map((v) => ({ version: v.version, manifestSha256: v.manifestSha256 })) }));
}

/** Reads blobs from the URLs the site signed; the store checks each one's hash and size. */
export function httpSource(urls: ReadonlyMap<string, string>, fetchFn: typeof fetch = fetch): BlobSource {
  return {
    async open(blob, signal) {
      const url = urls.get(blob.sha256);
      if (!url) throw new ContentError('not-found', `the site gave no URL for blob ${blob.sha256}`);
      const res = await fetchFn(url, signal ? { signal } : {});
      if (!res.ok || !res.body) {
        await res.body?.cancel().catch(() => undefined);
        throw new ContentError('not-found', `the site answered ${res.status} for blob ${blob.sha256}`);
      }
      return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    },
  };
}

async function markInstalled(ctx: SiteContext, object: ContentObject, version: number, manifestSha256: string, why: string): Promise<void> {
  await transact(ctx, async (tx) => {
    const point = await localPointIn(tx, ctx);
    await tx.holdings.put({ pointId: point.id, contentId: object.id, version, manifestSha256, state: 'installed', reason: null, jobId: null, updatedAt: ctx.now() });
    await audit(tx, ctx, 'system', { action: 'content.installed', target: object.id, message: `${object.kind} ${object.name} (${object.id}) version ${version} installed: ${why}`, details: { version } });
  });
}

export async function pullContent(ctx: SiteContext, req: PullRequest, onProgress: (bytes: number) => void, signal?: AbortSignal, fetchFn?: typeof fetch): Promise<CopyResult> {
  const version = req.object.versions?.[0];
  if (!version || req.object.versions.length !== 1) throw invalid('object must carry exactly the version to install', 'object.versions');
  const urls = new Map<string, string>();
  for (const b of req.blobs) {
    let u: URL;
    try {
      u = new URL(b.url);
    } catch {
      throw invalid(`blob ${b.sha256}: not a URL`, 'blobs');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid(`blob ${b.sha256}: only http and https URLs are pulled`, 'blobs');
    urls.set(b.sha256, b.url);
  }
  const result = await installVersion(ctx.library, req.object, version, httpSource(urls, fetchFn), {
    onProgress,
    verifyExisting: req.verifyExisting === true,
    ...(signal ? { signal } : {}),
  });
  await markInstalled(ctx, req.object, version.version, version.manifestSha256, `pulled ${result.copied} of ${result.blobs} blob(s)`);
  return result;
}

/** Re-hashes every held version (or those of one object) and reports mismatches per version. */
export async function validateHeld(ctx: SiteContext, contentId?: string): Promise<ValidateResult[]> {
  const objects = contentId ? [await ctx.library.records.get(contentId)].filter((o): o is ContentObject => o !== undefined) : await ctx.library.records.list();
  const results: ValidateResult[] = [];
  for (const o of objects) {
    for (const v of o.versions) {
      const { mismatches } = await verifyFiles(ctx.library.store, v.files);
      results.push({ id: o.id, version: v.version, manifestSha256: v.manifestSha256, ok: mismatches.length === 0, mismatches });
    }
  }
  return results;
}

/** Imports a prestaged content file here and marks each version it carries installed. */
export async function importPrestagedHere(ctx: SiteContext, input: Readable): Promise<PrestageImportResult> {
  const result = await importPrestaged(ctx.library, input);
  for (const c of result.content) {
    const object = (await ctx.library.records.get(c.id))!;
    const v = object.versions.find((x) => x.version === c.version)!;
    await markInstalled(ctx, object, v.version, v.manifestSha256, 'imported from a prestaged content file');
  }
  return result;
}
