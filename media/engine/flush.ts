/**
 * `osdeploy-engine --flush-outbox`: sends the status messages kept in the state folder —
 * typically an offline run's from standalone media, whose machine it registers first —
 * and exits: 0 when the outbox is empty, 4 when the site did not take everything within
 * `--flush-timeout` (what is left stays on disk for the next try). Every online start (boot or
 * agent mode) does the same before anything else; this is for a machine that will not start
 * the engine against a site again, or a technician who wants the statuses now.
 */
import { EXIT, type Engine } from './engine.js';

export async function flushMode(engine: Engine): Promise<number> {
  const before = engine.outbox.pending().length;
  if (before === 0) {
    engine.log.line(`the outbox ${engine.outbox.dir} is empty: nothing to send`);
    return EXIT.done;
  }
  engine.log.line(`sending ${before} status message(s) from ${engine.outbox.dir}`);
  const left = await engine.outbox.drain(engine.now() + engine.opts.flushTimeoutMs, engine.sleep);
  if (left > 0) {
    engine.log.line(`${before - left} sent; ${left} status message(s) could not be sent within ${Math.round(engine.opts.flushTimeoutMs / 1000)} s and stay in ${engine.outbox.dir}`);
    return EXIT.unreachable;
  }
  engine.log.line(`${before} status message(s) sent`);
  return EXIT.done;
}
