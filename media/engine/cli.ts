#!/usr/bin/env node
/**
 * `osdeploy-engine`: the task sequence engine for a Linux boot image (boot mode), a full
 * OS (`--agent`) or standalone media (offline: `--media DIR` holding a policy). Exit codes tell
 * a wrapper script what to do next; 3 means "restart the machine (or just this program) and
 * start me again": the run goes on where it stopped. `--flush-outbox` only sends kept status.
 */
import { agentMode } from './agent.js';
import { bootMode } from './boot.js';
import { createEngine, EXIT, type Engine } from './engine.js';
import { flushMode } from './flush.js';
import { flagValue, readMediaDir } from './media.js';
import { parseOptions, runsOffline, USAGE, UsageError } from './options.js';
import { standaloneMode } from './standalone.js';
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
    const mediaDir = flagValue(argv, '--media');
    if (mediaDir) {
      const nowFlag = flagValue(argv, '--now');
      const now = nowFlag === undefined ? Date.now() : /^\d+$/.test(nowFlag) ? Number(nowFlag) : Date.parse(nowFlag);
      try {
        opened = await readMediaDir(mediaDir, flagValue(argv, '--media-password') ?? process.env.OSDEPLOY_MEDIA_PASSWORD ?? null, now);
      } catch (e) {
        // Expired, wrong password, tampered, not a media: nothing runs from it.
        process.stderr.write(`osdeploy-engine: media ${mediaDir}: ${(e as Error).message}\n`);
        return EXIT.usage;
      }
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
    return EXIT.failed;
  }
}

process.exitCode = await main(process.argv.slice(2));
