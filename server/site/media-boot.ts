/**
 * The boot loader of password-protected media asks here instead of /boot.ipxe: its media
 * variables are sealed, so the loader names only the media, and the site answers with the
 * media's SMSTSPreferredAdvertID and "allow unattended" from its record — after checking
 * the media still exists, its token is not revoked and it has not expired.
 */
import { PolicyError } from '../../policy/errors.js';
import { safeText } from '../../media/ipxe/script.js';
import { factsFromQuery, type BootQuery } from './boot-policy.js';
import { bootScript } from './boot-script.js';
import type { SiteContext } from './context.js';

const refuse = (why: string): string => `#!ipxe\necho osdeploy: ${safeText(why)}\necho osdeploy: booting from the next device\nsleep 5\nexit\n`;

export async function mediaBootScript(ctx: SiteContext, id: string, q: BootQuery, siteUrl: string): Promise<{ status: number; text: string }> {
  const r = await ctx.store.media.get(id);
  if (!r) return { status: 404, text: refuse(`no media ${id} at this site (deleted?)`) };
  const token = r.tokenId ? await ctx.store.tokens.byId(r.tokenId) : null;
  if (!token || token.revokedAt !== null) return { status: 403, text: refuse(`media ${id} was revoked`) };
  if (r.expiresAt !== null && ctx.now() >= r.expiresAt) return { status: 401, text: refuse(`media expired: media ${id} expired at ${new Date(r.expiresAt).toISOString()}`) };
  const query: BootQuery = {
    ...(q.mac !== undefined ? { mac: q.mac } : {}),
    ...(q.uuid ? { uuid: q.uuid } : {}),
    ...(q.arch ? { arch: q.arch } : {}),
    ...(q.uefi ? { uefi: q.uefi } : {}),
    source: 'media',
    mediaForm: r.mediaForm,
    unattended: String(r.allowUnattended),
    ...(r.preferred ? { preferred: r.preferred } : {}),
  };
  try {
    // Public route, media id guessable: the boot's token proves nothing (the engine proves a
    // protected media boot with the media token it unseals with the password).
    return { status: 200, text: bootScript(ctx, factsFromQuery(query), siteUrl, { mediaId: r.id }) };
  } catch (e) {
    if (e instanceof PolicyError) return { status: 400, text: refuse(e.message) };
    throw e;
  }
}
