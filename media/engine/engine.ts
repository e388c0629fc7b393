/**
 * What boot mode, agent mode and standalone mode share: the engine's context (site, state,
 * outbox, log), resuming a saved run before anything else, starting a new run from a policy,
 * and waiting for a site that does not answer yet (a boot image often starts before the network
 * is fully up). A run from standalone media gets an outbox with no site and reads its content
 * from the media: nothing it does touches the network.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { RunSource } from '../../policy/status.js';
import { HttpContentFetcher } from './content/fetcher.js';
import { MediaContentFetcher } from './content/media-fetcher.js';
import { readContentPolicy, type ContentPolicy } from './content/policy.js';
import { machineFacts } from './identity.js';
import { EngineLog } from './log.js';
import { Mounts } from './mounts.js';
import { runsOffline, type EngineOptions } from './options.js';
import { Outbox } from './outbox.js';
import { ProgressReporter } from './progress.js';
import { newProgress, type RunResult } from './runner.js';
import { computerOf, runSession, type SessionDeps } from './session.js';
import { SiteClient, SiteUnreachable, type PolicyVariable, type RunPolicy } from './site-client.js';
import { StateStore, type RunState } from './state.js';
import { Variables } from './variables.js';

export const EXIT = { done: 0, failed: 1, usage: 2, restart: 3, unreachable: 4, choiceNeeded: 5 } as const;

export interface Engine {
  readonly opts: EngineOptions;
  readonly site: SiteClient;
  readonly store: StateStore;
  readonly outbox: Outbox;
  readonly log: EngineLog;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly session: SessionDeps;
  /** What the steps mounted on the target: synced and unmounted before every exit. */
  readonly mounts: Mounts;
  readonly progress: ProgressReporter;
}

export function createEngine(opts: EngineOptions, overrides: Partial<Pick<SessionDeps, 'execute'>> = {}): Engine {
  const base = Date.now();
  const now = opts.clockStart === null ? Date.now : () => opts.clockStart! + (Date.now() - base);
  const log = new EngineLog(path.join(opts.stateDir, 'engine.log'), now);
  const site = new SiteClient(opts.site, opts.token);
  mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  site.keepTokenIn(path.join(opts.stateDir, 'boot-token'));
  const store = new StateStore(opts.stateDir, opts.token);
  // Offline: the outbox only keeps; a later start with a site sends (and registers the machine).
  const outbox = new Outbox(path.join(opts.stateDir, 'outbox'), runsOffline(opts) ? null : site, log.line, now);
  // Disk tools live in sbin, which a non-root PATH often lacks.
  const searchPath = `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/local/sbin:/usr/sbin:/sbin`;
  const mounts = new Mounts(searchPath, log.line);
  const progress = new ProgressReporter(opts.progressFd, (x) => log.clean(x), log.line);
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const session: SessionDeps = {
    store,
    outbox,
    log,
    now,
    root: opts.root,
    disks: opts.disks,
    searchPath,
    mounts,
    progress,
    uefi: opts.uefi,
    arch: machineArch(opts.arch),
    bootImage: !opts.agent,
    drain: () => outbox.drain(now() + opts.flushTimeoutMs, sleep),
    fetcherFor: (content) => {
      if (!content) return null;
      if (content.onMedia) return new MediaContentFetcher(opts.media.standalone ?? null, log.line);
      return new HttpContentFetcher(site.currentToken, (id, version) => site.contentManifest(id, version), log.line);
    },
    ...overrides,
  };
  return { opts, site, store, outbox, log, now, sleep, session, mounts, progress };
}

/** x64, x86 or arm64: the flag, else this process's. */
const machineArch = (flag: string | null): string => flag ?? (process.arch === 'arm64' ? 'arm64' : process.arch === 'ia32' ? 'x86' : 'x64');

const WHY: Record<number, string> = { 2: 'usage error', 4: 'the site could not be reached', 5: 'a choice is needed (start again with --pick)' };

export const exitOf = (r: RunResult): number => (r === 'restart' ? EXIT.restart : r === 'success' ? EXIT.done : EXIT.failed);

/** Retries while the site is unreachable, up to --wait-site; other errors go to the caller. */
export async function waitForSite<T>(engine: Engine, what: string, fn: () => Promise<T>): Promise<T> {
  const deadline = engine.now() + engine.opts.waitSiteMs;
  let delay = 250;
  let told = false;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof SiteUnreachable) || engine.now() >= deadline) throw e;
      if (!told) engine.log.line(`${what}: ${e.message}; waiting up to ${Math.round(engine.opts.waitSiteMs / 1000)} s for it`);
      told = true;
      await engine.sleep(Math.min(delay, Math.max(0, deadline - engine.now())));
      delay = Math.min(delay * 2, 5000);
    }
  }
}

/** Ends every start: buffered status is resent for a while, then left on disk for the next start. */
export async function finish(engine: Engine, code: number): Promise<number> {
  const left = await engine.outbox.drain(engine.now() + engine.opts.flushTimeoutMs, engine.sleep);
  if (left > 0 && engine.outbox.offline) {
    engine.log.line(`${left} status message(s) of this offline run are kept in ${engine.outbox.dir}; they reach the site with the next start that has one (or osdeploy-engine --flush-outbox)`);
  } else if (left > 0) engine.log.line(`${left} status message(s) could not be sent yet; they stay in ${engine.outbox.dir} and go with the next start`);
  await engine.mounts.releaseAll();
  engine.progress.end(code, WHY[code]);
  return code;
}

/**
 * A run from standalone media cannot register the machine: the outbox does it when its
 * messages reach a site. `name` is the name it registers with (else the site's MININT-… name).
 */
export function deferRegistration(engine: Engine, name: string | undefined): void {
  const o = engine.opts;
  const facts = machineFacts(o.macs, o.uuid, o.arch);
  const chosen = o.name ?? name;
  engine.outbox.deferRegistration({ macAddresses: facts.macAddresses, smbiosUuid: facts.smbiosUuid, architecture: facts.architecture, ...(chosen ? { name: chosen } : {}) });
}

/** A run interrupted by a restart or a crash goes on before the engine asks for anything new. */
export async function resumeIfSaved(engine: Engine): Promise<RunResult | null> {
  const saved = engine.store.load();
  if (!saved) return null;
  const { state, vault } = saved;
  if (state.status === 'finished' || !vault) {
    engine.store.archive(state);
    return null;
  }
  const how = state.status === 'restarting' ? 'after a restart' : `after an interruption (step ${state.progress.current ?? 'none'} runs again)`;
  engine.log.line(`resuming run ${state.runId} of ${state.deploymentId} ${how}`);
  // Begun offline: a start in between may have registered the machine and cleared the request.
  if (state.computerId === null && !engine.outbox.registrationPending()) deferRegistration(engine, new Variables(vault.variables).get('OSDComputerName'));
  engine.outbox.add({ id: randomUUID(), at: engine.now(), ...computerOf(state), deploymentId: state.deploymentId, runId: state.runId, kind: 'progress', message: `resumed ${how}` });
  state.status = 'running';
  return runSession(engine.session, state, vault);
}

export interface NewRun {
  /** Null for a run from standalone media: registered later (deferRegistration). */
  readonly computerId: string | null;
  readonly source: RunSource;
  readonly policy: RunPolicy;
  readonly siteVariables: readonly PolicyVariable[];
  readonly mediaVariables: Readonly<Record<string, string>>;
  /** Content already read (from standalone media); else the policy's content section. */
  readonly content?: ContentPolicy;
  /** The name the site knows the computer by (_SMSTSMachineName: the deployed OS's host name without OSDComputerName). */
  readonly computerName?: string;
}

export async function startRun(engine: Engine, run: NewRun): Promise<RunResult> {
  const machine: Record<string, string> = run.computerName ? { _SMSTSMachineName: run.computerName } : {};
  // In a boot image the engine knows the firmware first hand (--uefi); Format steps' conditions test it.
  if (run.source !== 'fullOs') machine._SMSTSBootUEFI = String(engine.opts.uefi);
  const vars = Variables.merged(run.mediaVariables, run.siteVariables, { ...run.policy.builtIns, ...machine, _SMSTSClientGUID: run.computerId ?? '' });
  const state: RunState = {
    version: 1,
    runId: randomUUID(),
    deploymentId: run.policy.deploymentId,
    computerId: run.computerId,
    source: run.source,
    status: 'running',
    outcome: null,
    startedAt: engine.now(),
    progress: newProgress(),
  };
  const vault = { taskSequence: run.policy.taskSequence, variables: vars.entries(), content: run.content ?? readContentPolicy(run.policy.content) };
  engine.store.save(state, vault);
  const where = run.computerId === null ? 'this machine (registered when its status reaches the site)' : `computer ${run.computerId}`;
  engine.log.line(`run ${state.runId}: ${run.policy.taskSequenceName} (${run.policy.taskSequenceId}) for deployment ${state.deploymentId} on ${where}`);
  engine.outbox.add({
    id: randomUUID(), at: engine.now(), ...computerOf(state), deploymentId: state.deploymentId, runId: state.runId,
    kind: 'runStarted', source: run.source, message: `${run.policy.taskSequenceName} (${run.policy.taskSequenceId})`,
  });
  await engine.outbox.flush(true);
  return runSession(engine.session, state, vault);
}
