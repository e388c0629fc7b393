/**
 * Boot environment builds (issue 12, R-37): `POST /api/v1/boot-images/build` starts a build of
 * osdeploy's Linux boot environment (media/boot-env) on the site host, one at a time; the
 * result is imported as a boot image content object whose network boot files point into its
 * own current version (`content/<id>/latest/…`), ready to deploy, distribute and put on media.
 * Builds are kept in memory while the service runs (their result is the content object).
 *
 * The image carries no token: anyone can fetch it from the public boot routes. A network boot
 * gets a per-boot token on its kernel command line from the iPXE script (boot-tokens.ts); a
 * media boot uses its media's token (docs/security.md "Token model").
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { buildBootEnvironment, type BootEnvArch, type BuildProgress, type BuildResult } from '../../media/boot-env/build.js';
import { conflict, invalid, notFound } from '../../policy/errors.js';
import { createContentFromSource, updateContent } from './content.js';
import { audit, type SiteContext } from './context.js';
import { dataDirOf } from './media.js';

export interface BootImageBuildInput {
  readonly arch?: BootEnvArch;
  readonly name?: string;
  /** Kernel command line arguments the boot image starts with (besides osdeploy's own). */
  readonly cmdline?: string;
}

export interface BootImageBuildView {
  readonly id: string;
  readonly arch: BootEnvArch;
  readonly name: string;
  readonly state: 'building' | 'ready' | 'failed';
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly progress: BuildProgress | null;
  readonly log: readonly string[];
  readonly error: string | null;
  readonly contentId: string | null;
  readonly result: Omit<BuildResult, 'kernel' | 'initrd' | 'packages'> & { packages: number } | null;
}

interface Job {
  view: BootImageBuildView;
  done: Promise<void>;
}

/** Serial console and screen; the screen last, so it gets the technician's shell. */
export const DEFAULT_CMDLINE = 'console=ttyS0 console=tty0 loglevel=4';

const jobs = new WeakMap<SiteContext, Map<string, Job>>();
const jobsOf = (ctx: SiteContext): Map<string, Job> => {
  let m = jobs.get(ctx);
  if (!m) jobs.set(ctx, (m = new Map()));
  return m;
};
let counter = 0;

export const OSDEPLOY_VERSION = '0.1.0';

export function startBootImageBuild(ctx: SiteContext, actor: string, input: BootImageBuildInput): BootImageBuildView {
  const arch = input.arch ?? 'x64';
  if (arch !== 'x64' && arch !== 'arm64') throw invalid('arch must be x64 or arm64', 'arch');
  const running = [...jobsOf(ctx).values()].find((j) => j.view.state === 'building');
  if (running) throw conflict(`boot environment build ${running.view.id} is still running; wait for it`, 'arch');
  const id = `B${Date.now().toString(36)}${(counter++).toString(36)}`;
  const name = input.name?.trim() || `osdeploy boot environment (${arch})`;
  const log: string[] = [];
  let view: BootImageBuildView = { id, arch, name, state: 'building', startedAt: new Date(ctx.now()).toISOString(), endedAt: null, progress: null, log, error: null, contentId: null, result: null };
  const job: Job = { view, done: Promise.resolve() };
  const set = (patch: Partial<BootImageBuildView>) => {
    view = { ...view, ...patch };
    job.view = view;
  };
  const dir = path.join(dataDirOf(ctx), 'boot-env', id);
  job.done = (async () => {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const result = await buildBootEnvironment({
        arch,
        outDir: path.join(dir, 'out'),
        workDir: path.join(dir, 'work'),
        cacheDir: path.join(dataDirOf(ctx), 'cache', 'boot-env'),
        token: null,
        version: OSDEPLOY_VERSION,
        onProgress: (p) => {
          if (view.progress?.message !== p.message) log.push(`${new Date(ctx.now()).toISOString()} ${p.phase}: ${p.message}`);
          set({ progress: p });
        },
      });
      const created = await createContentFromSource(ctx, actor, { kind: 'bootImage', name, architecture: arch, os: 'linux' }, path.join(dir, 'out'));
      const cid = created.content.id;
      const cmdline = [DEFAULT_CMDLINE, input.cmdline ?? ''].join(' ').trim();
      await updateContent(ctx, actor, cid, { kind: 'bootImage', name, boot: { os: 'linux', kernel: `content/${cid}/latest/vmlinuz`, initrds: [`content/${cid}/latest/initrd.img`], cmdline } });
      await audit(ctx.store, ctx, actor, { action: 'bootImage.built', target: cid, message: `boot environment ${name} (${cid}) built: kernel ${result.kernelVersion}, initrd ${result.initrdBytes} bytes`, details: { build: id } });
      const { kernel: _k, initrd: _i, packages, ...rest } = result;
      set({ state: 'ready', endedAt: new Date(ctx.now()).toISOString(), contentId: cid, result: { ...rest, packages: packages.length } });
      ctx.log.info({ build: id, contentId: cid, initrdBytes: result.initrdBytes, seconds: result.seconds }, `boot environment ${cid} built`);
    } catch (e) {
      const message = (e as Error).message ?? String(e);
      ctx.log.warn({ build: id, err: message }, 'boot environment build failed');
      set({ state: 'failed', endedAt: new Date(ctx.now()).toISOString(), error: message });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  jobsOf(ctx).set(id, job);
  return view;
}

export function getBootImageBuild(ctx: SiteContext, id: string): BootImageBuildView {
  const j = jobsOf(ctx).get(id);
  if (!j) throw notFound(`no boot environment build ${id} (builds are kept while the service runs)`, 'id');
  return j.view;
}

export const listBootImageBuilds = (ctx: SiteContext): BootImageBuildView[] => [...jobsOf(ctx).values()].map((j) => j.view);

/** Resolves when the build has ended (tests). */
export async function bootImageBuilt(ctx: SiteContext, id: string): Promise<BootImageBuildView> {
  await jobsOf(ctx).get(id)?.done;
  return getBootImageBuild(ctx, id);
}
