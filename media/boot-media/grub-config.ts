/**
 * The GRUB configuration UEFI media boot with (R-20, R-26), built into the media's EFI loader
 * (grub.ts). GRUB finds the media by a file only it carries — the first boot file, named by
 * its hash or boot-file store path — and starts the boot image from it: a Linux kernel with
 * the boot image's command line plus `osdeploy.site=` and `osdeploy.media=` (and, on media
 * without a password, `osdeploy.preferred=` for SMSTSPreferredAdvertID and
 * `osdeploy.unattended=`), or Windows PE through wimboot with the same facts in osdeploy.ini.
 * GRUB expands `$` and splits on quotes and spaces, so every value is checked against a small
 * alphabet and single-quoted: anything else is refused, never escaped.
 */
import { bootImageCmdline, safeText } from '../ipxe/script.js';
import type { EfiBootFile, EfiBootPlan } from './efi-boot.js';
import { LAYOUT, MediaError } from './model.js';
import { checked, SITE_URL, TOKEN, type ScriptTarget } from './script.js';

/** Seconds the GRUB menu waits before starting the boot image. */
export const GRUB_TIMEOUT_SECONDS = 5;

const GRUB_WORD = /^[A-Za-z0-9._:/=,+@[\]-]+$/;

/** One argument, single-quoted (nothing inside is expanded); refused unless from a safe alphabet. */
export function grubWord(value: string, what: string): string {
  if (!GRUB_WORD.test(value)) throw new MediaError('invalid', `${what} ${JSON.stringify(value.slice(0, 120))} cannot go into the GRUB configuration`);
  return `'${value}'`;
}

/** Free text for titles and `echo`: the iPXE alphabet without the quote, single-quoted. */
const grubText = (s: string): string => `'${safeText(s).replace(/'/g, ' ')}'`;

const mediaPath = (f: EfiBootFile): string => grubWord(`/${f.media}`, 'media path');

/** What the boot image learns from the media it started from: the same facts on Linux and Windows PE. */
export function mediaFacts(t: ScriptTarget): [name: string, value: string][] {
  const facts: [string, string][] = [
    ['site', checked(t.siteUrl.replace(/\/+$/, ''), 'site address', SITE_URL)],
    ['media', checked(t.mediaId, 'media id', TOKEN)],
    ['arch', checked(t.architecture, 'architecture', TOKEN)],
  ];
  // Sealed media keep SMSTSPreferredAdvertID and "allow unattended" under the password.
  if (t.route.kind === 'plain') {
    if (t.route.preferred) facts.push(['preferred', checked(t.route.preferred, 'SMSTSPreferredAdvertID', TOKEN)]);
    facts.push(['unattended', String(t.route.unattended)]);
  }
  return facts;
}

/** The Linux kernel's arguments: the boot image's own command line, then `osdeploy.NAME=VALUE` for each media fact. */
export function kernelArgs(t: ScriptTarget, cmdline: string): string[] {
  const own = bootImageCmdline(cmdline).split(' ').filter(Boolean);
  return [...own, ...mediaFacts(t).map(([k, v]) => `osdeploy.${k}=${v}`)];
}

/** osdeploy.ini for Windows PE (wimboot puts it in X:\Windows\System32), like the network boot's identity.ini. */
export function winpeIdentity(t: ScriptTarget): string {
  return `${['[osdeploy]', ...mediaFacts(t).map(([k, v]) => `${k}=${v}`), 'source=media'].join('\r\n')}\r\n`;
}

function bootLines(t: ScriptTarget, plan: EfiBootPlan): string[] {
  if (plan.os === 'linux') {
    return [
      `  linux ${mediaPath(plan.kernel)} ${kernelArgs(t, plan.cmdline).map((a) => grubWord(a, 'kernel argument')).join(' ')}`,
      ...(plan.initrds.length ? [`  initrd ${plan.initrds.map(mediaPath).join(' ')}`] : []),
    ];
  }
  // wimboot takes its files as a cpio archive; GRUB's `newc:NAME:PATH` builds it from the media.
  const newc = (name: string, f: EfiBootFile | undefined): string[] => (f ? [grubWord(`newc:${name}:/${f.media}`, 'wimboot file')] : []);
  const files = [...newc('BCD', plan.bcd), ...newc('boot.sdi', plan.bootSdi), ...newc('osdeploy.ini', { media: LAYOUT.winpeIdentity }), ...newc('boot.wim', plan.wim)];
  return [`  linux ${mediaPath(plan.wimboot)}`, `  initrd ${files.join(' ')}`];
}

export interface GrubOptions {
  /** A second menu entry that chainloads iPXE (EFI/BOOT/ipxe.efi) to boot from the site instead. */
  readonly ipxe: boolean;
}

export function grubConfig(t: ScriptTarget, plan: EfiBootPlan, o: GrubOptions): string {
  const facts = new Map(mediaFacts(t)); // checks every media value, whichever boot image kind
  const id = facts.get('media')!;
  const image = checked(plan.bootImageId, 'boot image id', TOKEN);
  const marker = mediaPath(plan.os === 'linux' ? plan.kernel : plan.wim);
  const kind = plan.os === 'linux' ? 'Linux' : 'Windows PE';
  const lines = [
    `# osdeploy boot media ${id} (UEFI): GRUB starts boot image ${image} from the media.`,
    `# Built into the media's EFI loader; this copy is for reading.`,
    `set timeout=${GRUB_TIMEOUT_SECONDS}`,
    'set default=osdeploy',
    `echo ${grubText(`osdeploy: boot media ${id}, site ${facts.get('site')!}`)}`,
    // The kernel (or boot.wim) is named by its hash (or store path): any volume holding it holds these bytes.
    `if search --no-floppy --file --set=root ${marker}; then`,
    `  echo ${grubText(`osdeploy: boot image ${image} found on the media`)}`,
    'else',
    `  echo ${grubText(`osdeploy: the files of boot image ${image} are not on any disk; booting from the next device`)}`,
    '  sleep 10',
    '  exit',
    'fi',
    `menuentry ${grubText(`osdeploy: start boot image ${image} (${kind}) from the media`)} --id osdeploy {`,
    `  echo ${grubText(`osdeploy: starting boot image ${image} (${kind}) from the media`)}`,
    ...bootLines(t, plan),
    '  boot',
    '}',
  ];
  if (o.ipxe) {
    lines.push(
      `menuentry ${grubText('osdeploy: boot from the site with iPXE (needs iPXE 1.21.1 or later)')} --id ipxe {`,
      `  chainloader ${grubWord(`/${LAYOUT.efiIpxe}`, 'media path')}`,
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}
