/**
 * The site's policy state: the snapshot boot and client resolution read (policy/site.ts), kept
 * current by applying each committed change to it (policy/site-delta.ts) instead of rebuilding it.
 *
 * - A write that touches no policy input (status, runs, tokens, audit, media, distribution)
 *   reaches nothing here: the store reports changes only for policy tables (store/change-journal.ts).
 * - A write that does is applied when its transaction commits, before `write()` returns, in time
 *   proportional to the change: the next boot decision sees it (read-your-writes).
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
import { onCommittedChanges, type StoreChange } from '../store/change-journal.js';
import type { Db } from '../store/db.js';
import { docsAfter, getDoc } from '../store/docs.js';
import { allPxeStarts, readSiteSettingsRow } from '../store/policy-rows.js';

export function readSettings(db: Db): SiteSettings {
  const row = readSiteSettingsRow(db);
  if (!row) return DEFAULT_SITE_SETTINGS;
  const stored = JSON.parse(row) as Partial<SiteSettings>;
  return {
    highRisk: { ...DEFAULT_SITE_SETTINGS.highRisk, ...stored.highRisk },
    pxe: { ...DEFAULT_SITE_SETTINGS.pxe, ...stored.pxe },
  };
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

export class SnapshotCache {
  private site: Site | null = null;
  private generation = 0;
  private building: { readonly done: Promise<void>; readonly queued: StoreChange[] } | null = null;
  private counts = { deltas: 0, builds: 0, lastBuildMs: 0, longestSliceMs: 0, lastBuildSlices: 0 };

  constructor(
    private readonly db: Db,
    private readonly siteCode: string,
    private readonly log?: Logger,
  ) {
    onCommittedChanges(db, (changes) => this.apply(changes));
  }

  /** Changes every time a policy input changes: usable as an ETag for policy answers. */
  get version(): number {
    return this.generation;
  }

  get stats(): PolicyStateStats {
    return { ...this.counts, building: this.building !== null };
  }

  /** The current state. Built at once on first use if nothing built it yet (CLI, tests). */
  get(): Site {
    if (this.site) return this.site;
    const steps = siteBuilder(this.readAll());
    for (;;) {
      const step = steps.next();
      if (step.done) {
        this.site = step.value;
        this.counts.builds++;
        return this.site;
      }
    }
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

  /** Resolves once no build is running (a write's acknowledgement can wait on it; boots never do). */
  settled(): Promise<void> {
    return this.building?.done ?? Promise.resolve();
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
    const data = await slice(this.readAllSteps());
    const site = await slice(siteBuilder(data));
    // What committed while the build ran is applied to the new state as well, in order.
    this.site = site;
    for (const change of dedupe(queued)) this.applyOne(site, change);
    this.generation++;
    this.counts.builds++;
    this.counts.lastBuildMs = performance.now() - started;
    this.counts.lastBuildSlices = slices;
    this.counts.longestSliceMs = Math.max(this.counts.longestSliceMs, longest);
    this.log?.info({ ms: Math.round(this.counts.lastBuildMs), longestSliceMs: Math.round(longest * 10) / 10, slices, computers: site.computers.size }, 'policy state built');
  }

  /** Applies committed changes to the current state (and queues them for a build in progress). */
  apply(changes: readonly StoreChange[]): void {
    if (this.building) this.building.queued.push(...changes);
    const site = this.site;
    if (!site) return; // built fresh on first use
    try {
      for (const change of dedupe(changes)) this.applyOne(site, change);
      this.generation++;
    } catch (err) {
      // A delta that cannot be applied must not leave a wrong state answering boots.
      this.log?.error({ err }, 'policy change could not be applied; rebuilding the policy state');
      this.site = null;
    }
  }

  private applyOne(site: Site, change: StoreChange): void {
    this.counts.deltas++;
    switch (change.kind) {
      case 'settings':
        (site as { settings: SiteSettings }).settings = readSettings(this.db);
        return;
      case 'pxeStart':
        return applyPxeStart(site, change.computerId, change.deploymentId, change.present);
      case 'doc':
        switch (change.table) {
          case 'computers':
            return applyComputer(site, change.id, getDoc<Computer>(this.db, 'computers', change.id));
          case 'collections':
            return applyCollection(site, change.id, getDoc<Collection>(this.db, 'collections', change.id));
          case 'deployments':
            return applyDeployment(site, change.id, getDoc<Deployment>(this.db, 'deployments', change.id));
          case 'task_sequences':
            return applyTaskSequence(site, change.id, getDoc<TaskSequence>(this.db, 'task_sequences', change.id));
        }
    }
  }

  private readAll(): SiteData {
    const steps = this.readAllSteps();
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
    }
  }

  /** Reads every policy input in pages of PAGE rows, yielding between pages. */
  private *readAllSteps(): Generator<void, SiteData, void> {
    const read = function* <T extends { id: string }>(db: Db, table: string): Generator<void, T[], void> {
      const out: T[] = [];
      let after = '';
      for (;;) {
        const page = docsAfter<T>(db, table, after, PAGE);
        out.push(...page);
        if (page.length < PAGE) return out;
        after = page[page.length - 1]!.id;
        yield;
      }
    };
    return {
      siteCode: this.siteCode,
      settings: readSettings(this.db),
      computers: yield* read<Computer>(this.db, 'computers'),
      collections: yield* read<Collection>(this.db, 'collections'),
      taskSequences: yield* read<TaskSequence>(this.db, 'task_sequences'),
      deployments: yield* read<Deployment>(this.db, 'deployments'),
      requiredPxeStarts: allPxeStarts(this.db),
    };
  }
}

/** One change per object, in the order of each object's last change. */
function dedupe(changes: readonly StoreChange[]): StoreChange[] {
  const keyOf = (c: StoreChange): string => (c.kind === 'doc' ? `d\u0000${c.table}\u0000${c.id}` : c.kind === 'settings' ? 's' : `p\u0000${c.computerId}\u0000${c.deploymentId}`);
  const last = new Map<string, StoreChange>();
  for (const c of changes) {
    const k = keyOf(c);
    last.delete(k);
    last.set(k, c);
  }
  return [...last.values()];
}
