/**
 * The boot loader configuration on media: iPXE scripts and the isolinux/syslinux menu. BIOS
 * boots isolinux → ipxe.lkrn with the script as its initrd (iPXE runs an initrd that is a
 * script). UEFI boots GRUB (grub-config.ts); its second menu entry starts ipxe.efi, whose builds
 * since 1.21.1 run the UEFI script as autoexec.ipxe from the same filesystem (Debian's 2019
 * build does not: see README). `${…}` in the scripts below are iPXE's own settings, expanded on
 * the machine.
 */
import { safeText } from '../ipxe/script.js';
import { LAYOUT, MediaError } from './model.js';

export interface ScriptTarget {
  readonly siteUrl: string;
  readonly mediaId: string;
  readonly architecture: string;
  readonly mediaForm: 'cd' | 'usb' | 'hardDisk';
  /**
   * plain and sealed (password-protected media) alike: the loader names only the media and the
   * site looks up its variables (SMSTSPreferredAdvertID, allow unattended) and expiry.
   */
  readonly route: { readonly kind: 'plain'; readonly preferred: string | null; readonly unattended: boolean } | { readonly kind: 'sealed' };
}

export const SITE_URL = /^https?:\/\/[A-Za-z0-9.\-:[\]]+$/;
/** Media ids, deployment ids, architectures: nothing a boot loader could expand or split. */
export const TOKEN = /^[A-Za-z0-9._-]{1,64}$/;

/** `value` when `re` accepts it, else an `invalid` error: media refuse what they cannot carry as it is. */
export function checked(value: string, what: string, re: RegExp): string {
  if (!re.test(value)) throw new MediaError('invalid', `${what} ${JSON.stringify(value)} cannot go into a boot script`);
  return value;
}

export function chainUrl(t: ScriptTarget, uefi: boolean): string {
  const site = checked(t.siteUrl.replace(/\/+$/, ''), 'site address', SITE_URL);
  // netX is the interface `dhcp` configured; a placeholder UUID is cleared before (see below).
  const identity = `mac=\${netX/mac}&uuid=\${osd-uuid}&arch=${checked(t.architecture, 'architecture', TOKEN)}&mediaForm=${t.mediaForm}${uefi ? '&uefi=true' : ''}`;
  // Every medium names itself and the site answers from its record: nothing in a
  // URL anyone can type widens a boot (a preferred deployment, unattended).
  if (t.route.kind === 'plain' && t.route.preferred) checked(t.route.preferred, 'SMSTSPreferredAdvertID', TOKEN);
  return `${site}/api/v1/media/${checked(t.mediaId, 'media id', TOKEN)}/boot.ipxe?${identity}`;
}

export function mediaScript(t: ScriptTarget, uefi: boolean): string {
  const site = safeText(t.siteUrl);
  return [
    '#!ipxe',
    `# osdeploy boot media ${safeText(t.mediaId)} (${uefi ? 'UEFI' : 'BIOS'})`,
    `echo osdeploy: boot media ${safeText(t.mediaId)}, site ${site}`,
    // All-zero and all-FF SMBIOS UUIDs are placeholders, not identities: send none.
    'set osd-uuid ${uuid} ||',
    'iseq ${osd-uuid} 00000000-0000-0000-0000-000000000000 && clear osd-uuid ||',
    'iseq ${osd-uuid} ffffffff-ffff-ffff-ffff-ffffffffffff && clear osd-uuid ||',
    ':retry',
    'dhcp || goto failed',
    `chain ${chainUrl(t, uefi)} || goto failed`,
    ':failed',
    `echo osdeploy: no answer from ${site}, trying again in 10 s`,
    'sleep 10',
    'goto retry',
    '',
  ].join('\n');
}

/** isolinux.cfg (ISO) and syslinux.cfg (USB stick after `syslinux -i`): boot iPXE with the script. */
export function syslinuxConfig(mediaId: string): string {
  return [
    'SERIAL 0 115200',
    'PROMPT 0',
    'TIMEOUT 0',
    'DEFAULT osdeploy',
    `SAY osdeploy boot media ${safeText(mediaId)}`,
    'LABEL osdeploy',
    `  KERNEL /${LAYOUT.ipxeLkrn}`,
    `  INITRD /${LAYOUT.biosScript}`,
    '',
  ].join('\n');
}
