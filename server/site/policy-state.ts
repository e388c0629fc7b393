/**
 * The site's policy state: the snapshot boot and client resolution read (policy/site.ts), kept
 * current by applying each committed change to it (policy/site-delta.ts) instead of rebuilding it.
 *
 * - A write that touches no policy input (status, runs, tokens, audit, media, distribution)
 *   reaches nothing here: the store reports changes only for policy tables (store/change-journal.ts).
 * - A write that does is applied when its transaction commits, before the write's call returns,
 *   in time proportional to the change: the next boot decision sees it (read-your-writes). The
 *   writer hands over what it wrote; a change heard from another node (PostgreSQL) carries only
 *   ids and is read from the store first, in order with the rest (`caughtUp()`).
 * - A full build (start-up, `rebuild()`) reads the database in pages and builds in slices of a
 *   few milliseconds, yielding to the event loop in between, while the previous state (if any)
 *   keeps answering boots. Changes committed during the build are applied to both states.
 */
import type { Logger } from 'pino';
import { applyCollection, applyComputer, applyDeployment, applyPxeStart, applyTaskSequence } from '../../policy/site-delta.js';
import { DEFAULT_SITE_SETTINGS, siteBuilder, type Site, type SiteData, type SiteSettings } from '../../policy/site.js';
import type { Collection } from '../../policy/collections.js';
import type { Computer } from '../../policy/computers.js';
import type { Deployment } from '../../policy/deployments/model.js';
import type { TaskSequence } from '../../policy/task-sequences/model.js';
import type { ContentInfo } from '../../policy/content-refs.js';
import { contentInfoOf, type ContentObject } from '../../content/model.js';
import { PXE_PASSWORD, SITE_SETTINGS, type StoreChange } from './repos/changes.js';
import type { SiteRepos, SiteStore } from './repos/store.js';

/** The stored site settings row over the defaults (a row from an older version may lack parts). */
export function settingsOf(stored: unknown): SiteSettings {
  if (stored === undefined || stored === null) return DEFAULT_SITE_SETTINGS;
  const s = stored as Partial<SiteSettings>;
  return {
    highRisk: { ...DEFAULT_SITE_SETTINGS.highRisk, ...s.highRisk },
    pxe: { ...DEFAULT_SITE_SETTINGS.pxe, ...s.pxe },
  };
}

/** The site settings as stored (over the defaults). */
export async function readSettings(repos: Pick<SiteRepos, 'settings'>): Promise<SiteSettings> {
  return settingsOf(await repos.settings.get(SITE_SETTINGS));
}

/** How long one slice of a sliced build may hold the event loop. */
const SLICE_MS = 4;
const PAGE = 2_000;

export interface PolicyStateStats {
  /** Changes applied as deltas since start. */
  readonly deltas: number;
  /** Full builds since start, and the last one's duration and longest slice. */
  readonly builds: number;
  readonly lastBuildMs: number;
  readonly longestSliceMs: number;
  /** How many slices the last sliced build took (1 = it never yielded). */
  readonly lastBuildSlices: number;
  readonly building: boolean;
}

/** A change with what it carries, ready to apply without reading the store. */
type Loaded = StoreChange & { readonly loaded: true; readonly data: unknown };

export class SnapshotCache {
  private site: Site | null = null;
  /** What boots read of content: each object's facts, no file lists, by id. */
  private content = new Map<string, ContentInfo>();
  private passwordSet = false;
  private generation = 0;
  private building: { readonly done: Promise<void>; readonly queued: StoreChange[] } | null = null;
  /** Changes that must be read from the store before they apply, in order (another node's). */
  private reading: Promise<void> = Promise.resolve();
  private pendingReads = 0;
  private counts = { deltas: 0, builds: 0, lastBuildMs: 0, longestSliceMs: 0, lastBuildSlices: 0 };

  constructor(
    private readonly store: SiteStore,
    private readonly siteCode: string,
    private readonly log?: Logger,
  ) {
    store.onCommitted((changes) => this.apply(changes));
  }

  /** Changes every time a policy input changes: usable as an ETag for policy answers. */
  get version(): number {
    return this.generation;
  }

  get stats(): PolicyStateStats {
    return { ...this.counts, building: this.building !== null };
  }

  /** Whether a state is in place (boots are answered from it). */
  get ready(): boolean {
    return this.site !== null;
  }

  /** Whether a PXE password is set: PXE boots can prove themselves. */
  get pxePasswordSet(): boolean {
    return this.passwordSet;
  }

  /** A content object's facts (the content index boots and references read), from memory. */
  contentInfo(id: string): ContentInfo | undefined {
    return this.content.get(id);
  }

  /** Every boot image's facts, in id order: what the public boot routes may serve. */
  bootImageInfos(): ContentInfo[] {
    return [...this.content.values()].filter((i) => i.kind === 'bootImage').sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The current state. The service builds it before it answers anything (`rebuild()`). */
  get(): Site {
    if (!this.site) throw new Error('the policy state is not built yet (await rebuild() first)');
    return this.site;
  }

  /**
   * Builds the whole state again in slices, off the path of any boot: the old state answers
   * until the new one is complete. Resolves when the new state is in place.
   */
  rebuild(opts: { sliceMs?: number } = {}): Promise<void> {
    if (this.building) return this.building.done;
    const queued: StoreChange[] = [];
    const done = this.buildSliced(queued, opts.sliceMs ?? SLICE_MS).finally(() => {
      this.building = null;
    });
    this.building = { done, queued };
    return done;
  }

  /** Resolves once no build is running and every change heard so far is applied (a write's acknowledgement can wait on it; boots never do). */
  async caughtUp(): Promise<void> {
    for (;;) {
      const building = this.building?.done;
      const reading = this.reading;
      await Promise.all([building, reading]);
      if (this.building?.done === building && this.reading === reading) return;
    }
  }

  /** Kept for callers that want a fresh build: now a sliced rebuild, not a dropped state. */
  invalidate(): void {
    this.rebuild().catch((err: unknown) => this.log?.error({ err }, 'policy state build failed'));
  }

  private async buildSliced(queued: StoreChange[], sliceMs: number): Promise<void> {
    const started = performance.now();
    let longest = 0;
    let slices = 1;
    const slice = async <T>(steps: Generator<void, T, void>): Promise<T> => {
      for (;;) {
        const t0 = performance.now();
        for (;;) {
          const step = steps.next();
          if (step.done) {
            longest = Math.max(longest, performance.now() - t0);
            return step.value;
          }
          if (performance.now() - t0 >= sliceMs) break;
        }
        longest = Math.max(longest, performance.now() - t0);
        slices++;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    };
    const data = await this.readAll();
    const content = new Map((await this.store.content.infos()).map((i) => [i.id, i]));
    const passwordSet = (await this.store.settings.get(PXE_PASSWORD)) !== undefined;
    const site = await slice(siteBuilder(data));
    // What committed while the build ran is applied to the new state as well, in order: read
    // again now, since the pages read earlier may predate it.
    const loaded = await this.load(dedupe(queued).map(withoutCarried));
    this.site = site;
    this.content = content;
    this.passwordSet = passwordSet;
    for (const change of loaded) this.applyOne(site, change);
    this.generation++;
    this.counts.builds++;
    this.counts.lastBuildMs = performance.now() - started;
    this.counts.lastBuildSlices = slices;
    this.counts.longestSliceMs = Math.max(this.counts.longestSliceMs, longest);
    this.log?.info({ ms: Math.round(this.counts.lastBuildMs), longestSliceMs: Math.round(longest * 10) / 10, slices, computers: site.computers.size }, 'policy state built');
  }

  /**
   * Applies committed changes to the current state (and queues them for a build in progress).
   * Changes that carry what was written apply at once; the rest are read from the store first,
   * and everything after them waits its turn, so changes apply in commit order.
   */
  apply(changes: readonly StoreChange[]): void {
    if (changes.length === 0) return;
    if (this.building) this.building.queued.push(...changes);
    const all = dedupe(changes);
    if (this.pendingReads === 0 && all.every(carried)) {
      this.applyNow(all as Loaded[]);
      return;
    }
    this.pendingReads++;
    this.reading = this.reading
      .then(async () => this.applyNow(await this.load(all)))
      .catch((err: unknown) => {
        this.log?.error({ err }, 'policy changes could not be read; rebuilding the policy state');
        this.invalidate();
      })
      .finally(() => this.pendingReads--);
  }

  private applyNow(changes: readonly Loaded[]): void {
    const site = this.site;
    if (!site) return; // the first build reads everything
    try {
      for (const change of changes) this.applyOne(site, change);
      this.generation++;
    } catch (err) {
      // A delta that cannot be applied must not leave a wrong state answering boots.
      this.log?.error({ err }, 'policy change could not be applied; rebuilding the policy state');
      this.invalidate();
    }
  }

  /** Reads what each change needs that it does not carry. */
  private async load(changes: readonly StoreChange[]): Promise<Loaded[]> {
    const out: Loaded[] = [];
    for (const c of changes) {
      if (carried(c)) out.push(c as Loaded);
      else if (c.kind === 'settings') out.push({ ...c, loaded: true, data: await this.store.settings.get(SITE_SETTINGS) });
      else if (c.kind === 'doc') out.push({ ...c, loaded: true, data: await this.readDoc(c.table, c.id) });
    }
    return out;
  }

  private async readDoc(table: string, id: string): Promise<object | null> {
    switch (table) {
      case 'computers':
        return this.store.computers.get(id);
      case 'collections':
        return this.store.collections.get(id);
      case 'deployments':
        return this.store.deployments.get(id);
      case 'task_sequences':
        return this.store.taskSequences.get(id);
      case 'content':
        return this.store.content.get(id);
      default:
        throw new Error(`unknown policy table ${table}`);
    }
  }

  private applyOne(site: Site, change: StoreChange & { data?: unknown }): void {
    this.counts.deltas++;
    switch (change.kind) {
      case 'settings':
        (site as { settings: SiteSettings }).settings = settingsOf('data' in change ? change.data : change.value);
        return;
      case 'pxePassword':
        this.passwordSet = change.set;
        return;
      case 'pxeStart':
        return applyPxeStart(site, change.computerId, change.deploymentId, change.present);
      case 'doc': {
        const doc = ('data' in change ? change.data : change.doc) ?? undefined;
        switch (change.table) {
          case 'computers':
            return applyComputer(site, change.id, doc as Computer | undefined);
          case 'collections':
            return applyCollection(site, change.id, doc as Collection | undefined);
          case 'deployments':
            return applyDeployment(site, change.id, doc as Deployment | undefined);
          case 'task_sequences':
            return applyTaskSequence(site, change.id, doc as TaskSequence | undefined);
          case 'content':
            if (doc) this.content.set(change.id, contentInfoOf(doc as ContentObject));
            else this.content.delete(change.id);
            return;
        }
      }
    }
  }

  /** Reads every policy input, computers in pages of PAGE (each read lets the event loop run). */
  private async readAll(): Promise<SiteData> {
    const computers: Computer[] = [];
    for (let after = ''; ; ) {
      const page = await this.store.computers.after(after, PAGE);
      computers.push(...page);
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    return {
      siteCode: this.siteCode,
      settings: await readSettings(this.store),
      computers,
      collections: await this.store.collections.list(),
      taskSequences: await this.store.taskSequences.list(),
      deployments: await this.store.deployments.list(),
      requiredPxeStarts: await this.store.deployments.pxeStarts(),
    };
  }
}

/** Whether the change carries what it needs to apply (R-19 records always do). */
function carried(c: StoreChange): boolean {
  return c.kind === 'pxeStart' || c.kind === 'pxePassword' || (c.kind === 'doc' && c.doc !== undefined) || (c.kind === 'settings' && c.value !== undefined);
}

/** The change without its carried data (it may predate a build's read: read it again). */
function withoutCarried(c: StoreChange): StoreChange {
  if (c.kind === 'doc') return { kind: 'doc', table: c.table, id: c.id };
  if (c.kind === 'settings') return { kind: 'settings' };
  return c;
}

/** One change per object, in the order of each object's last change. */
function dedupe(changes: readonly StoreChange[]): StoreChange[] {
  const keyOf = (c: StoreChange): string =>
    c.kind === 'doc' ? `d\u0000${c.table}\u0000${c.id}` : c.kind === 'settings' ? 's' : c.kind === 'pxePassword' ? 'w' : `p\u0000${c.computerId}\u0000${c.deploymentId}`;
  const last = new Map<string, StoreChange>();
  for (const c of changes) {
    const k = keyOf(c);
    last.delete(k);
    last.set(k, c);
  }
  return [...last.values()];
}
