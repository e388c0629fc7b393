#!/usr/bin/env node
/**
 * `osdeploy-engine`: the task sequence engine for a Linux boot image (boot mode), a full
 * OS (`--agent`) or standalone media (offline: `--media DIR` holding a policy). Exit codes tell
 * a wrapper script what to do next; 3 means "restart the machine (or just this program) and
 * start me again": the run goes on where it stopped. `--flush-outbox` only sends kept status.
 * Started with no media flags after a boot from media, it finds the media the kernel command
 * line names (start-media.ts).
 */
import { agentMode } from './agent.js';
import { bootMode } from './boot.js';
import { createEngine, EXIT, type Engine } from './engine.js';
import { flushMode } from './flush.js';
import { parseFlags, parseOptions, runsOffline, USAGE, UsageError } from './options.js';
import { standaloneMode } from './standalone.js';
import { MediaRefused, startMedia } from './start-media.js';
import { StateError } from './state.js';

function modeOf(engine: Engine): Promise<number> {
  const o = engine.opts;
  if (o.flushOutbox) return flushMode(engine);
  if (runsOffline(o) && o.media.standalone) return standaloneMode(engine, o.media.standalone);
  return o.agent ? agentMode(engine) : bootMode(engine);
}

async function main(argv: readonly string[]): Promise<number> {
  let opts;
  try {
    let opened;
    parseFlags(argv); // a mistyped flag stops before any media is looked for
    try {
      // --media DIR, or the media the kernel command line names (osdeploy.media=).
      opened = await startMedia(argv, process.env);
    } catch (e) {
      if (!(e instanceof MediaRefused)) throw e;
      process.stderr.write(`osdeploy-engine: ${e.message}\n`);
      return EXIT.usage;
    }
    opts = parseOptions(argv, process.env, opened);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`osdeploy-engine: ${e.message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.done;
  }
  const engine = createEngine(opts);
  try {
    return await modeOf(engine);
  } catch (e) {
    if (e instanceof StateError) {
      engine.log.line(e.message);
      return EXIT.usage;
    }
    engine.log.line(`engine error: ${(e as Error).stack ?? String(e)}`);
    // Nothing mounted on the target may stay mounted when the machine restarts.
    await engine.mounts.releaseAll();
    engine.progress.end(EXIT.failed, `engine error: ${(e as Error).message}`);
    return EXIT.failed;
  }
}

process.exitCode = await main(process.argv.slice(2));
