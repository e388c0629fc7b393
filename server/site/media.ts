/**
 * Boot media as a site operation (R-25, R-26): a technician asks for media; the site checks the
 * request (R-31: secrets go on a technician's media only when an administrator allowed it for
 * the deployment), records it, makes a client token for it (revocable, expiring with the media) and
 * builds it in the background into DATA_DIR/media/<id>/, one build at a time. The CLI polls
 * the progress and downloads the result.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { conflict, forbidden, notFound, refused } from '../../policy/errors.js';
import { buildMedia, type BuildEvent, type MediaBuildSpec } from '../../media/boot-media/build.js';
import { librarySource } from '../../media/boot-media/content-source.js';
import type { MediaHeader, MediaSecrets } from '../../media/boot-media/model.js';
import type { ContentToStage } from '../../media/boot-media/stage.js';
import { bootFileRoot } from './boot-files.js';
import { contentIndex } from './content.js';
import { audit, transact, type SiteContext } from './context.js';
import { planMedia, type MediaInput, type MediaPlan } from './media-input.js';
import { mediaPolicy, referencedContent, stagedContent } from './media-policy.js';
import { privateDir, restrictTree } from './private-files.js';
import type { MediaRecord } from './repositories.js';
import { createToken, revokeToken, type Role } from './tokens.js';
import { heartbeat, ownerGone, ownerStopped } from './heartbeat.js';

/** The data directory is where the site database lives (main.ts opens DATA_DIR/site.db). */
export const dataDirOf = (ctx: SiteContext): string => ctx.dataDir;
export const mediaDir = (ctx: SiteContext, id: string): string => path.join(dataDirOf(ctx), 'media', id);

interface Job {
  done: Promise<void>;
  progress: BuildEvent | null;
}
// Per site (its store): the builds this process runs, and the queue that runs them one at a time.
const jobs = new WeakMap<object, Map<string, Job>>();
const queues = new WeakMap<object, Promise<unknown>>();
const jobsOf = (ctx: SiteContext): Map<string, Job> => {
  let m = jobs.get(ctx.store);
  if (!m) jobs.set(ctx.store, (m = new Map()));
  return m;
};

export function mediaView(ctx: SiteContext, r: MediaRecord) {
  const job = jobsOf(ctx).get(r.id);
  // A build no node runs any more (this one does not, and its node's heartbeat is stale) will never finish.
  const interrupted = r.state === 'building' && !job && ownerGone(r, ctx.now());
  return {
    ...r,
    state: interrupted ? 'failed' : r.state,
    error: interrupted ? `the build was interrupted: ${ownerStopped(r)}; build the media again` : r.error,
    createdAt: new Date(r.createdAt).toISOString(),
    expiresAt: r.expiresAt === null ? null : new Date(r.expiresAt).toISOString(),
    expired: r.expiresAt !== null && ctx.now() >= r.expiresAt,
    progress: job?.progress ?? null,
  };
}
export type MediaView = ReturnType<typeof mediaView>;

const OUTPUT_NAME = { iso: 'iso', tar: 'tar', raw: 'img', folder: '' } as const;
const outputName = (r: { id: string; format: keyof typeof OUTPUT_NAME }): string => (r.format === 'folder' ? r.id : `${r.id}.${OUTPUT_NAME[r.format]}`);

function contentPlan(ctx: SiteContext, plan: MediaPlan): string[] {
  if (!plan.taskSequence) return [plan.bootImageId];
  const ids = referencedContent(ctx, plan.taskSequence);
  return ids.includes(plan.bootImageId) ? ids : [plan.bootImageId, ...ids];
}

/** Who asks for media: `actor` for the audit records, `role` for what they may put on them (R-31). */
export interface MediaRequester {
  readonly actor: string;
  readonly role: Role;
}

/**
 * R-31: step secrets and hidden variables go onto media an administrator builds, or a
 * technician builds for a deployment an administrator created with `allowTechnicianMedia`.
 * Media without them (bootable media, a task sequence with no secrets) stay a technician's.
 * Only names are reported, never values.
 */
function checkMediaSecretsFor(by: MediaRequester, plan: MediaPlan, secrets: readonly string[]): void {
  if (by.role === 'admin' || secrets.length === 0 || !plan.deployment) return;
  const d = plan.deployment;
  if (d.allowTechnicianMedia === true) return;
  throw forbidden(
    `${plan.type} media for deployment ${d.id} would carry secrets (${secrets.join(', ')}), and deployment ${d.id} does not allow technician media ` +
      '(allowTechnicianMedia is false): an administrator builds these media, or deploys with "allowTechnicianMedia": true (osdeploy deployments create --allow-technician-media)',
    'deploymentId',
  );
}

/** Checks, records and starts a build; the answer comes before the build ends (state `building`). */
export async function createMedia(ctx: SiteContext, by: MediaRequester, input: MediaInput, publicUrl: string): Promise<MediaView> {
  const { actor } = by;
  const plan = planMedia(ctx, input, publicUrl);
  const policy = plan.deployment && plan.taskSequence && plan.type !== 'bootable'
    ? await mediaPolicy(ctx, { deployment: plan.deployment, taskSequence: plan.taskSequence, type: plan.type, mediaForm: plan.mediaForm, architecture: plan.architecture, siteUrl: plan.siteUrl })
    : null;
  if (policy) checkMediaSecretsFor(by, plan, policy.secrets);
  if (policy && policy.secrets.length > 0 && !plan.password) {
    throw refused(`${plan.type} media would carry secrets in the clear (${policy.secrets.join(', ')}); give a media password to seal them, or remove them`, 'R-25', 'password');
  }
  const contentIds = contentPlan(ctx, plan);
  const { record, token } = await transact(ctx, async (tx) => {
    const id = await tx.ids.claim('media', (n) => `${ctx.siteCode}M${String(n).padStart(5, '0')}`);
    const t = await createToken(ctx, actor, { name: `media ${id}`, role: 'client', expiresAt: plan.expiresAt, mediaId: id }, tx);
    const r: MediaRecord = {
      id,
      type: plan.type,
      format: plan.format,
      state: 'building',
      protected: plan.password !== null,
      siteUrl: plan.siteUrl,
      architecture: plan.architecture,
      mediaForm: plan.mediaForm,
      bootImageId: plan.bootImageId,
      deploymentId: plan.deployment?.id ?? null,
      preferred: plan.preferred,
      allowUnattended: plan.allowUnattended,
      variableNames: Object.keys(plan.variables),
      tokenId: t.info.id,
      createdAt: ctx.now(),
      expiresAt: plan.expiresAt,
      createdBy: actor,
      error: null,
      output: null,
      node: ctx.node,
      aliveAt: ctx.now(),
    };
    await tx.media.insert(r);
    const details = { type: r.type, format: r.format, protected: r.protected, deploymentId: r.deploymentId, expiresAt: r.expiresAt, tokenId: r.tokenId };
    await audit(tx, ctx, actor, { action: 'media.created', target: id, message: `${r.type} media ${id} (${r.format}) requested`, details });
    return { record: r, token: t.token };
  });

  const secrets: MediaSecrets = {
    variables: plan.variables,
    allowUnattended: plan.allowUnattended,
    site: plan.siteUrl,
    token,
    mediaForm: plan.mediaForm,
    mediaId: record.id,
    expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString(),
    ...(policy ? { policy: policy.policy } : {}),
  };
  const job: Job = { progress: null, done: Promise.resolve() };
  const previous = queues.get(ctx.store) ?? Promise.resolve();
  // From the request on (a build queued behind another is this node's too); stopped before the final write.
  const beat = heartbeat(() => transact(ctx, (tx) => tx.media.update({ ...record, aliveAt: ctx.now() })), ctx.log, `media ${record.id}`);
  // runBuild records its own failures; this catches only bookkeeping that failed too (a closed database).
  const run = previous
    .then(() => runBuild(ctx, record, plan, secrets, contentIds, (e) => (job.progress = e), () => beat.stop()))
    .catch((err: unknown) => ctx.log.error({ err, media: record.id }, `media ${record.id}: the build could not be recorded`));
  queues.set(ctx.store, run);
  job.done = run.finally(async () => {
    await beat.stop();
    jobsOf(ctx).delete(record.id);
  });
  jobsOf(ctx).set(record.id, job);
  return mediaView(ctx, record);
}

async function runBuild(
  ctx: SiteContext,
  r: MediaRecord,
  plan: MediaPlan,
  secrets: MediaSecrets,
  contentIds: readonly string[],
  progress: (e: BuildEvent) => void,
  stopHeartbeat: () => Promise<void>,
): Promise<void> {
  const dir = mediaDir(ctx, r.id);
  try {
    const source = librarySource(ctx.library);
    const content: ContentToStage[] = [];
    for (const id of contentIds) {
      const c = await source.current(id);
      if (!c) throw notFound(`content ${id} disappeared before the build`);
      content.push({ content: c, root: plan.type === 'prestaged' && c.kind === 'osImage' ? 'os' : 'content' });
    }
    // The policy names exactly what is staged below, so the seal covers osdeploy/content.json too.
    const sealed: MediaSecrets = secrets.policy ? { ...secrets, policy: { ...secrets.policy, content: stagedContent(content) } } : secrets;
    const header: MediaHeader = {
      format: 'osdeploy-media',
      version: 1,
      id: r.id,
      type: r.type,
      siteCode: ctx.siteCode,
      site: r.siteUrl,
      architecture: r.architecture,
      bootImageId: r.bootImageId,
      ...(r.protected || !r.deploymentId ? {} : { deploymentId: r.deploymentId }),
      createdAt: new Date(r.createdAt).toISOString(),
      expiresAt: secrets.expiresAt,
      protected: r.protected,
      mediaForm: plan.mediaForm,
    };
    const route = r.protected ? ({ kind: 'sealed' } as const) : ({ kind: 'plain', preferred: plan.preferred, unattended: plan.allowUnattended } as const);
    const tftp = bootFileRoot(dataDirOf(ctx));
    const loaders = {
      ...(existsSync(path.join(tftp, 'ipxe.efi')) ? { ipxeEfi: path.join(tftp, 'ipxe.efi') } : {}),
      ...(existsSync(path.join(tftp, 'ipxe.lkrn')) ? { ipxeLkrn: path.join(tftp, 'ipxe.lkrn') } : {}),
    };
    // UEFI media start the boot image from the media with the boot files its record declares.
    const bootFiles = contentIndex(ctx).get(r.bootImageId)?.boot ?? null;
    const spec: MediaBuildSpec = { header, format: r.format, secrets: sealed, password: plan.password, script: { siteUrl: r.siteUrl, mediaId: r.id, architecture: r.architecture, mediaForm: plan.mediaForm, route }, content, loaders, bootFiles, bootFileRoot: tftp };
    const out = path.join(dir, outputName(r));
    // Unprotected media carry their token and variables in the clear: owner-only from the first byte (R-31).
    await privateDir(path.dirname(dir));
    await privateDir(dir);
    const result = await buildMedia(spec, source, path.join(dir, '.work'), out, progress);
    await restrictTree(dir);
    const done: MediaRecord = { ...r, state: 'ready', aliveAt: ctx.now(), output: { name: outputName(r), size: result.size, sha256: result.sha256, files: result.manifest.files.length } };
    // No heartbeat may land after the final state (it would write `building` back).
    await stopHeartbeat();
    await transact(ctx, async (tx) => {
      await tx.media.update(done);
      await audit(tx, ctx, 'system', { action: 'media.built', target: r.id, message: `${r.type} media ${r.id} built (${result.size} bytes)`, details: { sha256: result.sha256 } });
    });
  } catch (e) {
    const message = (e as Error).message ?? String(e);
    ctx.log.warn({ media: r.id, err: message }, `media ${r.id} build failed`);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    await stopHeartbeat();
    await transact(ctx, async (tx) => {
      await tx.media.update({ ...r, state: 'failed', error: message, aliveAt: ctx.now() });
      // No media carries the token now; it must not stay usable.
      if (r.tokenId) await tx.tokens.revoke(r.tokenId, ctx.now());
      await audit(tx, ctx, 'system', { action: 'media.failed', target: r.id, message: `${r.type} media ${r.id} failed: ${message}`, details: {} });
    });
  }
}

async function mediaRecord(ctx: SiteContext, id: string): Promise<MediaRecord> {
  const r = await ctx.store.media.get(id);
  if (!r) throw notFound(`no media ${id}`, 'id');
  return r;
}

export const getMedia = async (ctx: SiteContext, id: string): Promise<MediaView> => mediaView(ctx, await mediaRecord(ctx, id));

export const listMedia = async (ctx: SiteContext): Promise<MediaView[]> => (await ctx.store.media.list()).map((r) => mediaView(ctx, r));

/** Resolves when the media's build (if any) has ended; for tests and the CLI's `--wait`. */
export async function mediaBuilt(ctx: SiteContext, id: string): Promise<MediaView> {
  await jobsOf(ctx).get(id)?.done;
  return getMedia(ctx, id);
}

/** Where the result is, for the download route. */
export async function mediaOutput(ctx: SiteContext, id: string): Promise<{ path: string; view: MediaView }> {
  const view = await getMedia(ctx, id);
  if (view.state !== 'ready' || !view.output) throw conflict(`media ${id} is ${view.state}${view.error ? `: ${view.error}` : ''}`, 'id');
  const file = path.join(mediaDir(ctx, id), view.output.name);
  if (!existsSync(file)) throw notFound(`media ${id} was built but its files are gone from the data directory`, 'id');
  return { path: file, view };
}

/** Revokes the media's token (machines booted from it are refused from now on) and deletes its files. */
export async function deleteMedia(ctx: SiteContext, actor: string, id: string): Promise<void> {
  const r = await mediaRecord(ctx, id);
  // R-31: a technician manages the media they built; an administrator any media.
  if (actor.startsWith('technician:') && r.createdBy !== actor) throw forbidden(`media ${id} was built by ${r.createdBy}: a technician deletes only media they built`);
  if (jobsOf(ctx).has(id)) throw conflict(`media ${id} is still building; delete it when the build ends`, 'id');
  if (r.state === 'building' && !ownerGone(r, ctx.now())) throw conflict(`media ${id} is still building on another node (${r.node}); delete it when the build ends`, 'id');
  await transact(ctx, async (tx) => {
    if (r.tokenId) {
      const token = await tx.tokens.byId(r.tokenId);
      if (token && token.revokedAt === null) await revokeToken(ctx, actor, r.tokenId, tx);
    }
    await tx.media.delete(id);
    await audit(tx, ctx, actor, { action: 'media.deleted', target: id, message: `media ${id} deleted and its token revoked`, details: {} });
  });
  await rm(mediaDir(ctx, id), { recursive: true, force: true });
}
