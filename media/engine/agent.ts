/**
 * Full-OS mode (R-11, R-13, R-14): the agent polls its client policy, which the site evaluates
 * with the schedules, expiry and rerun rules against the run history its status messages
 * built, and runs each Required deployment that is due, oldest first. `--pick` starts an
 * Available (or not yet due Required) deployment as a user would.
 */
import { machineFacts } from './identity.js';
import { EXIT, exitOf, finish, resumeIfSaved, startRun, waitForSite, type Engine } from './engine.js';
import { SiteRefused, SiteUnreachable, type ClientPolicyAnswer, type RunPolicy } from './site-client.js';

/** At most this many runs per poll, so a deployment that is due again at once cannot loop forever. */
const MAX_RUNS_PER_POLL = 20;

async function runOne(engine: Engine, computerId: string, policy: ClientPolicyAnswer, offer: RunPolicy): Promise<number> {
  const r = await startRun(engine, { computerId, source: 'fullOs', policy: offer, siteVariables: policy.variables, mediaVariables: {} });
  return exitOf(r);
}

/** One poll: run the picked deployment or everything due; the first restart or failure stops it. */
async function poll(engine: Engine, computerId: string): Promise<number> {
  const o = engine.opts;
  const ran = new Set<string>();
  let code: number = EXIT.done;
  for (let i = 0; i < MAX_RUNS_PER_POLL; i++) {
    const policy = await waitForSite(engine, 'client policy', () => engine.site.clientPolicy(computerId, o.utcOffsetMinutes));
    if (o.pick) {
      const offer = policy.available.find((a) => a.deploymentId === o.pick);
      if (!offer) {
        engine.log.line(`${o.pick} is not available to this computer now; available: ${policy.available.map((a) => a.deploymentId).join(', ') || 'none'}`);
        return EXIT.choiceNeeded;
      }
      return runOne(engine, computerId, policy, offer);
    }
    const due = policy.required.find((r) => !ran.has(r.deploymentId));
    if (!due) {
      if (i === 0) {
        const next = policy.upcoming[0];
        const skipped = policy.skipped.map((s) => `${s.deploymentId}: ${s.reason}`).join('; ');
        engine.log.line(`nothing due${next ? `; next: ${next.deploymentId} ${next.what} at ${new Date(next.at).toISOString()}` : ''}${skipped ? `; not run: ${skipped}` : ''}`);
      }
      return code;
    }
    engine.log.line(`${due.deploymentId} is due: ${due.reason}`);
    ran.add(due.deploymentId);
    code = await runOne(engine, computerId, policy, due);
    if (code === EXIT.restart) return code;
  }
  return code;
}

export async function agentMode(engine: Engine): Promise<number> {
  const o = engine.opts;
  try {
    await engine.outbox.flush(true);
    const resumed = await resumeIfSaved(engine);
    if (resumed) {
      const code = exitOf(resumed);
      if (code === EXIT.restart || o.once) return await finish(engine, code);
    }
    const facts = machineFacts(o.macs, o.uuid, o.arch);
    // A managed client is normally known; registering is idempotent and tells it its id.
    const register = () => engine.site.register({ macAddresses: facts.macAddresses, smbiosUuid: facts.smbiosUuid, architecture: facts.architecture, ...(o.name ? { name: o.name } : {}) });
    const reg = await waitForSite(engine, 'registration', register);
    // An enrollment token gets this machine's own token back: its policy and status from then on.
    engine.site.useToken(reg.bootToken);
    // That token lasts 24 h; an agent running longer registers again when the site stops taking it.
    engine.site.renewWith(async () => {
      const again = await register();
      engine.log.line(`the site no longer took this machine's token; registered again as ${again.computer.id}`);
      return again.bootToken;
    });
    const computerId = reg.computer.id;
    engine.log.line(`agent for computer ${computerId} (${reg.computer.name}), local clock UTC${o.utcOffsetMinutes >= 0 ? '+' : ''}${o.utcOffsetMinutes} min`);
    for (;;) {
      const code = await poll(engine, computerId);
      if (code === EXIT.restart || o.once || o.pick) return await finish(engine, code);
      await engine.outbox.flush();
      await engine.sleep(o.intervalMs);
    }
  } catch (e) {
    if (e instanceof SiteUnreachable || e instanceof SiteRefused) {
      engine.log.line(e.message);
      return await finish(engine, e instanceof SiteUnreachable ? EXIT.unreachable : EXIT.failed);
    }
    throw e;
  }
}
