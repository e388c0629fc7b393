/**
 * Background work owned by one node (docs/database.md, "Background jobs on several nodes"): a
 * distribution job or a media build records the node that runs it and when that node last
 * said so (`aliveAt`, refreshed at least every HEARTBEAT_MS). Another node takes the work over
 * (fails it) only once that heartbeat is older than STALE_AFTER_MS, or when the record has no
 * owner (written by a version before this one).
 */
import type { Logger } from 'pino';

export const HEARTBEAT_MS = 30_000;
export const STALE_AFTER_MS = 2 * 60_000;

/** The optional owner fields of a job document (absent on documents older versions wrote). */
export interface Owned {
  /** The node running it (SiteContext.node). */
  readonly node?: string;
  /** Epoch ms: when that node last refreshed it. */
  readonly aliveAt?: number;
}

/** True when no live node runs it: no owner recorded, or a heartbeat older than STALE_AFTER_MS. */
export function ownerGone(o: Owned, now: number): boolean {
  return !o.node || typeof o.aliveAt !== 'number' || now - o.aliveAt > STALE_AFTER_MS;
}

/** Why the work stopped, for the reason a taken-over job records. */
export function ownerStopped(o: Owned): string {
  if (!o.node || typeof o.aliveAt !== 'number') return 'the service that ran it stopped';
  return `node ${o.node} that ran it stopped (last heartbeat ${new Date(o.aliveAt).toISOString()})`;
}

export interface Heartbeat {
  /** Clears the timer and waits for a beat in flight, so no beat lands after the caller's next write. */
  stop(): Promise<void>;
}

/** Calls `beat` every HEARTBEAT_MS (unref'd: it never holds the process) until stopped; failures are logged. */
export function heartbeat(beat: () => Promise<unknown>, log: Logger, what: string): Heartbeat {
  let inFlight: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped) return;
    inFlight = inFlight.then(beat).catch((err: unknown) => log.warn({ err }, `${what}: the heartbeat could not be written`));
  }, HEARTBEAT_MS);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}
