/**
 * What a client token may do (issue 13, docs/security.md "Token model"): whose boot policy it
 * reads, whether it sees secrets, which status it reports and which machines it registers.
 * Administrators' and technicians' tokens are not client tokens: they read policy with
 * secrets masked and are not bound here.
 */
import type { Computer } from '../../policy/computers.js';
import { deploymentsFor } from '../../policy/site.js';
import type { SiteContext } from './context.js';
import type { MediaRecord } from './repositories.js';
import type { ClientBinding, TokenInfo } from './tokens.js';

export interface ClientAccess extends ClientBinding {
  /** media scope (and media boots): the media's record, whose settings the boot follows. */
  readonly media: MediaRecord | null;
}

const NOBODY = { computerId: null, macAddresses: [], smbiosUuid: null, architecture: null, source: null, deploymentIds: null, mediaId: null } as const;

/** The binding of a client principal, or null for administrators and technicians. */
export async function clientAccess(ctx: SiteContext, principal: TokenInfo | null): Promise<ClientAccess | null> {
  if (!principal || principal.role !== 'client') return null;
  if (principal.binding) {
    const media = principal.binding.mediaId ? await ctx.store.media.get(principal.binding.mediaId) : null;
    return { ...principal.binding, media };
  }
  switch (principal.scope) {
    case 'site':
      return { ...NOBODY, scope: 'site', proven: true, media: null };
    case 'computer':
      return { ...NOBODY, scope: 'computer', computerId: principal.computerId, proven: true, media: null };
    case 'media': {
      const media = principal.mediaId ? await ctx.store.media.get(principal.mediaId) : null;
      // Only the media password proves a boot: whoever holds unprotected media holds its token.
      return { ...NOBODY, scope: 'media', mediaId: principal.mediaId, source: 'media', proven: media?.protected === true, media };
    }
    default:
      return { ...NOBODY, scope: 'enroll', proven: false, media: null };
  }
}

/** Whether a computer is the one a binding stands for: itself, or the record its unknown machine was registered as. */
export function isBoundComputer(ctx: SiteContext, a: ClientAccess, computer: Computer): boolean {
  if (a.scope === 'site') return true;
  if (a.computerId === computer.id) return true;
  if (a.scope !== 'boot' || !a.computerId) return false;
  const bound = ctx.snapshot.get().computers.get(a.computerId);
  // A boot of an unknown machine is bound to its Unknown Computer object; after R-17 registration
  // the new record is its machine when it carries the boot's MAC or UUID.
  if (bound && bound.unknownArchitecture === null) return false;
  return sameMachine(a, computer.macAddresses, computer.smbiosUuid);
}

/** A MAC or the SMBIOS UUID in common with the boot's identity. */
export function sameMachine(a: ClientBinding, macAddresses: readonly string[], smbiosUuid: string | null): boolean {
  if (a.smbiosUuid && smbiosUuid && a.smbiosUuid === smbiosUuid) return true;
  return macAddresses.some((m) => a.macAddresses.includes(m));
}

/** Why a status message of `computer` about `deploymentId` is refused to this client, or null. */
export function statusRefusal(ctx: SiteContext, a: ClientAccess, computer: Computer, deploymentId: string, source: string | undefined): string | null {
  if (a.scope === 'site') return null;
  if (a.scope === 'enroll') return 'an enrollment token reports no status; the engine reports with the token its boot was given';
  if (a.scope === 'media') {
    if (!a.media) return `media ${a.mediaId} no longer exist`;
    if (a.media.deploymentId !== deploymentId) return `media ${a.media.id} report only their own deployment (${a.media.deploymentId ?? 'none'})`;
    if (source === 'pxe') return 'a media boot reports source media, not pxe';
    return null;
  }
  if (!isBoundComputer(ctx, a, computer)) return `this token was issued for another machine than ${computer.id}`;
  if (a.scope === 'boot' && source === 'pxe' && a.source !== 'pxe') return 'this boot came from media: it reports source media, not pxe';
  const targets = deploymentsFor(ctx.snapshot.get(), computer.id).some((d) => d.id === deploymentId);
  if (!targets && !(a.deploymentIds ?? []).includes(deploymentId)) return `deployment ${deploymentId} does not target ${computer.id}`;
  return null;
}
