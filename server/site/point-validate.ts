/**
 * Validating content on a point (R-07): re-hash what it holds and record the outcome on each
 * holding. A mismatch fails the holding with the damaged paths as the reason, so policy stops
 * sending machines there until a redistribute repairs it; a clean check marks it installed.
 */
import type { Holding } from '../../content/distribution.js';
import { verifyFiles } from '../../content/library.js';
import { getContentObject } from './content.js';
import { audit, transact, type SiteContext } from './context.js';
import { getPointOr404 } from './points.js';
import { RemotePointClient, type ValidateResult } from './remote-point.js';

export interface PointValidation {
  readonly pointId: string;
  readonly ok: boolean;
  readonly results: readonly ValidateResult[];
}

const describe = (r: ValidateResult): string =>
  `validation found ${r.mismatches.length} damaged file(s): ${r.mismatches
    .slice(0, 5)
    .map((m) => `${m.path} (${m.reason === 'corrupt' ? 'hash mismatch' : m.reason})`)
    .join(', ')}${r.mismatches.length > 5 ? ', …' : ''}`;

export async function validatePoint(ctx: SiteContext, actor: string, pointId: string, contentId?: string, fetchFn?: typeof fetch): Promise<PointValidation> {
  const point = await getPointOr404(ctx.store, pointId);
  if (contentId) await getContentObject(ctx, contentId);
  const held = (await ctx.store.holdings.list({ pointId, ...(contentId ? { contentId } : {}) })).filter((h) => h.state !== 'inProgress');
  let results: ValidateResult[];
  if (point.kind === 'local') {
    results = [];
    for (const h of held) {
      const v = (await ctx.library.records.get(h.contentId))?.versions.find((x) => x.version === h.version);
      const { mismatches } = v ? await verifyFiles(ctx.library.store, v.files) : { mismatches: [{ path: '*', sha256: '', reason: 'missing' as const }] };
      results.push({ id: h.contentId, version: h.version, manifestSha256: h.manifestSha256, ok: mismatches.length === 0, mismatches });
    }
  } else {
    const secret = await ctx.store.points.secret(pointId);
    if (!point.url || !secret) throw new Error(`distribution point ${pointId} has no URL or token`);
    results = await new RemotePointClient(point.url, secret.token, fetchFn).validate(contentId);
  }
  // Worked out before the transaction, which then only writes (the checks read the library).
  const outcomes: Holding[] = [];
  for (const r of results) {
    const h = held.find((x) => x.contentId === r.id && x.version === r.version);
    // A version the site never sent counts once it proves sound and is one the site knows (prestaged there).
    const known = (await ctx.library.records.get(r.id))?.versions.some((v) => v.version === r.version && v.manifestSha256 === r.manifestSha256);
    if (!h && (!r.ok || !known)) continue;
    const base = h ?? { pointId, contentId: r.id, version: r.version, manifestSha256: r.manifestSha256, jobId: null };
    if (h && h.manifestSha256 !== r.manifestSha256) continue; // same number, other files: not what the site sent
    outcomes.push({ ...base, pointId, state: r.ok ? 'installed' : 'failed', reason: r.ok ? null : describe(r), updatedAt: ctx.now() });
  }
  const bad = results.filter((r) => !r.ok).length;
  await transact(ctx, async (tx) => {
    for (const h of outcomes) await tx.holdings.put(h);
    await audit(tx, ctx, actor, { action: 'point.validated', target: pointId, message: `Content validation on ${point.name} (${pointId}): ${results.length} version(s) checked, ${bad} with damage`, details: { contentId: contentId ?? null } });
  });
  return { pointId, ok: results.every((r) => r.ok), results };
}
