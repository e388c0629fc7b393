/**
 * a machine that matched no record runs as an Unknown Computer object; when its task
 * sequence starts, the engine registers it and the site creates a computer for it. Asking
 * again (a restart, a resend) returns the same computer: registration is idempotent.
 */
import type { Computer } from '../../policy/computers.js';
import { validateArchitecture } from '../../policy/computers.js';
import { forbidden, invalid, PolicyError } from '../../policy/errors.js';
import { mintBootToken } from './boot-tokens.js';
import { isBoundComputer, sameMachine, type ClientAccess } from './client-access.js';
import { normalizeMac, normalizeUuid } from '../../policy/normalize.js';
import { identify } from '../../policy/resolve-boot.js';
import { createComputer } from './computers.js';
import type { SiteContext } from './context.js';

export interface RegisterInput {
  readonly macAddresses: readonly string[];
  readonly smbiosUuid?: string | null;
  readonly architecture: string;
  readonly name?: string;
}

export interface Registration {
  readonly computer: Computer;
  readonly created: boolean;
  /** For a client's boot: its token, now bound to the registered computer. */
  readonly bootToken?: string;
}

function existing(ctx: SiteContext, macAddresses: readonly string[], smbiosUuid: string | null): Computer | null {
  const site = ctx.snapshot.get();
  const found = identify(site, { macAddresses, smbiosUuid, architecture: 'x64', source: 'media' });
  return found && found.computer.unknownArchitecture === null ? found.computer : null;
}

/** Windows PE names unregistered machines MININT-xxxxxxx; the MAC makes ours stable across retries. */
const defaultName = (macs: readonly string[], uuid: string | null): string =>
  `MININT-${(macs[0] ?? uuid ?? '').replace(/[^0-9a-f]/gi, '').slice(-7).toUpperCase()}`;

/**
 * A client registers the machine it boots: a per-boot token only the machine it was issued for
 * (a MAC or the UUID in common), a computer token only its own computer. The answer carries the
 * boot's token bound to the registered computer, so its status is accepted from then on.
 */
export async function registerComputer(ctx: SiteContext, actor: string, input: RegisterInput, access: ClientAccess | null = null): Promise<Registration> {
  const r = await register(ctx, actor, input, access);
  if (!access || access.scope === 'site' || access.scope === 'computer') return r;
  const t = mintBootToken(ctx, {
    computerId: r.computer.id,
    macAddresses: r.computer.macAddresses,
    smbiosUuid: r.computer.smbiosUuid,
    architecture: r.computer.architecture ?? 'x64',
    source: access.source ?? 'media',
    deploymentIds: access.deploymentIds ?? [],
    proven: access.proven,
    mediaId: access.mediaId,
  });
  return { ...r, bootToken: t.token };
}

async function register(ctx: SiteContext, actor: string, input: RegisterInput, access: ClientAccess | null): Promise<Registration> {
  if (!Array.isArray(input.macAddresses)) throw invalid('macAddresses must be a list', 'macAddresses');
  const macAddresses = [...new Set(input.macAddresses.map((m) => normalizeMac(m)))];
  const smbiosUuid = input.smbiosUuid ? normalizeUuid(input.smbiosUuid) : null;
  if (macAddresses.length === 0 && !smbiosUuid) throw invalid('registration needs a MAC address or an SMBIOS UUID', 'macAddresses');
  const architecture = validateArchitecture(input.architecture);
  if (access?.scope === 'boot' && !sameMachine(access, macAddresses, smbiosUuid)) throw forbidden('this boot registers only its own machine (a MAC address or the SMBIOS UUID it booted with)', 'macAddresses');
  const found = existing(ctx, macAddresses, smbiosUuid);
  if (found && access && (access.scope === 'computer' || access.scope === 'boot') && !isBoundComputer(ctx, access, found)) {
    throw forbidden(`this token was issued for another machine than ${found.id}`, 'macAddresses');
  }
  if (access?.scope === 'computer' && !found) throw forbidden('a computer token registers no other machine', 'macAddresses');
  if (found) return { computer: found, created: false };
  try {
    const computer = await createComputer(ctx, actor, { name: input.name?.trim() || defaultName(macAddresses, smbiosUuid), macAddresses, smbiosUuid, architecture });
    ctx.log.info({ computerId: computer.id, macAddresses, smbiosUuid }, 'unknown computer registered (R-17)');
    return { computer, created: true };
  } catch (e) {
    // Two registrations of one machine raced: the loser finds the winner's record.
    if (e instanceof PolicyError && e.code === 'conflict') {
      const winner = existing(ctx, macAddresses, smbiosUuid);
      if (winner) return { computer: winner, created: false };
    }
    throw e;
  }
}
