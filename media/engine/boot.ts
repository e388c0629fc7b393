/**
 * Boot mode (R-15, R-17, R-20, R-24): a machine booted from PXE or media asks its site what to
 * run, chooses (a Required or unattended preferred deployment runs; a list needs a choice), is
 * registered if it was unknown, and runs the task sequence. Schedules play no part (R-15).
 */
import { createInterface } from 'node:readline/promises';
import { EXIT, exitOf, finish, resumeIfSaved, startRun, waitForSite, type Engine } from './engine.js';
import { machineFacts, type MachineFacts } from './identity.js';
import { SiteRefused, SiteUnreachable, type BootPolicyAnswer, type OfferView, type Query } from './site-client.js';

const PREFERRED = 'SMSTSPreferredAdvertID';

function bootQuery(engine: Engine, facts: MachineFacts, preferred: string | undefined, unattended: boolean): Query {
  const o = engine.opts;
  return {
    mac: facts.macAddresses,
    uuid: facts.smbiosUuid ?? undefined,
    arch: facts.architecture,
    source: o.source,
    uefi: String(o.uefi),
    unattended: String(unattended),
    ...(preferred ? { preferred } : {}),
    ...(o.source === 'media' && o.media.mediaForm ? { mediaForm: o.media.mediaForm } : {}),
  };
}

function mediaPreferred(engine: Engine): string | undefined {
  const vars = engine.opts.media.variables;
  const key = Object.keys(vars).find((k) => k.toLowerCase() === PREFERRED.toLowerCase());
  return key ? vars[key] : undefined;
}

/** The technician's choice: --pick, else a prompt on a terminal, else none (the engine says how to give one). */
export async function choose(engine: Engine, offers: readonly OfferView[]): Promise<string | null> {
  if (engine.opts.pick) return offers.some((o) => o.deploymentId === engine.opts.pick) ? engine.opts.pick : null;
  if (!process.stdin.isTTY) return null;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    offers.forEach((o, i) => process.stderr.write(`  ${i + 1}) ${o.taskSequenceName} (${o.deploymentId})\n`));
    const answer = (await rl.question('Run which task sequence? ')).trim();
    return offers[Number(answer) - 1]?.deploymentId ?? null;
  } finally {
    rl.close();
  }
}

async function policyToRun(engine: Engine, facts: MachineFacts): Promise<Extract<BootPolicyAnswer, { kind: 'run' }> | number> {
  const o = engine.opts;
  const answer = await waitForSite(engine, 'boot policy', () => engine.site.bootPolicy(bootQuery(engine, facts, mediaPreferred(engine), o.media.allowUnattended)));
  if (answer.kind !== 'nothing') engine.site.useToken(answer.bootToken);
  if (answer.kind === 'run' && answer.secretsWithheld) engine.log.line(`${answer.secretsWithheld.reason} (${answer.secretsWithheld.secrets.join(', ')})`);
  if (answer.kind === 'nothing') {
    engine.log.line(`nothing to run: ${answer.reason}`);
    return EXIT.done;
  }
  if (answer.kind === 'run') {
    if (o.pick && o.pick !== answer.deploymentId) engine.log.line(`--pick ${o.pick} ignored: ${answer.deploymentId} runs (${answer.why})`);
    return answer;
  }
  if (answer.note) engine.log.line(answer.note);
  const pick = await choose(engine, answer.offers);
  if (!pick) {
    engine.log.line(`a choice is needed; offered: ${answer.offers.map((x) => `${x.deploymentId} (${x.taskSequenceName})`).join(', ')}. Start again with --pick DEPLOYMENT`);
    return EXIT.choiceNeeded;
  }
  // The chosen deployment's full policy: naming it is what a preferred deployment does (R-20),
  // and the technician's choice is the interaction that makes it unattended from here on.
  const chosen = await engine.site.bootPolicy(bootQuery(engine, facts, pick, true));
  if (chosen.kind !== 'nothing') engine.site.useToken(chosen.bootToken);
  if (chosen.kind === 'run' && chosen.secretsWithheld) engine.log.line(`${chosen.secretsWithheld.reason} (${chosen.secretsWithheld.secrets.join(', ')})`);
  if (chosen.kind !== 'run' || chosen.deploymentId !== pick) {
    engine.log.line(`the site did not give the policy of ${pick}: ${chosen.kind === 'nothing' ? chosen.reason : chosen.kind}`);
    return EXIT.failed;
  }
  return chosen;
}

export async function bootMode(engine: Engine): Promise<number> {
  const o = engine.opts;
  try {
    await engine.outbox.flush(true);
    const resumed = await resumeIfSaved(engine);
    if (resumed) return await finish(engine, exitOf(resumed));

    const facts = machineFacts(o.macs, o.uuid, o.arch);
    engine.log.line(`machine ${facts.macAddresses.join(', ') || '-'} uuid ${facts.smbiosUuid ?? '-'} ${facts.architecture}, booted from ${o.source}`);
    const policy = await policyToRun(engine, facts);
    if (typeof policy === 'number') return await finish(engine, policy);

    let computerId = policy.identity.computerId;
    let computerName: string | undefined = policy.identity.known ? policy.identity.name : undefined;
    if (!policy.identity.known) {
      // R-17: the task sequence starts now, so the unknown machine becomes a computer of its own.
      const name = o.name ?? o.media.variables.OSDComputerName ?? policy.variables.find((v) => v.name.toLowerCase() === 'osdcomputername')?.value ?? undefined;
      const reg = await waitForSite(engine, 'registration', () =>
        engine.site.register({ macAddresses: facts.macAddresses, smbiosUuid: facts.smbiosUuid, architecture: facts.architecture, ...(name ? { name } : {}) }),
      );
      engine.site.useToken(reg.bootToken);
      computerId = reg.computer.id;
      computerName = reg.computer.name;
      engine.log.line(`registered as computer ${computerId} (${reg.computer.name})${reg.created ? '' : ', an existing record'}`);
    }
    const result = await startRun(engine, { computerId, source: o.source, policy, siteVariables: policy.variables, mediaVariables: o.media.variables, ...(computerName ? { computerName } : {}) });
    return await finish(engine, exitOf(result));
  } catch (e) {
    if (e instanceof SiteUnreachable) {
      engine.log.line(`${e.message}; gave up after ${Math.round(o.waitSiteMs / 1000)} s`);
      return await finish(engine, EXIT.unreachable);
    }
    if (e instanceof SiteRefused) {
      engine.log.line(e.message);
      return await finish(engine, EXIT.failed);
    }
    throw e;
  }
}
