/**
 * iPXE scripts generated from boot policy (R-18). iPXE expands `${…}` in every command line, so
 * nothing from outside reaches a script unchecked: identities are normalised, URLs are built
 * from validated parts, and free text (names, reasons) is reduced to a safe alphabet.
 */
import type { BootImageFiles } from '../../policy/content-refs.js';

export interface BootIdentityParams {
  readonly macAddresses: readonly string[];
  readonly smbiosUuid: string | null;
  readonly architecture: string;
}

export interface ScriptChoice {
  readonly deploymentId: string;
  readonly title: string;
  readonly bootImageId: string;
  readonly boot: BootImageFiles;
}

export type ScriptInput =
  | { readonly kind: 'boot'; readonly choice: ScriptChoice; readonly why: string }
  /** R-18: ask for the PXE password and send it back (POST, never in a URL) before anything boots. */
  | { readonly kind: 'password'; readonly message: string | null; readonly uefi: boolean }
  | { readonly kind: 'menu'; readonly choices: readonly ScriptChoice[]; readonly timeoutSeconds: number }
  | { readonly kind: 'exit'; readonly reason: string };

export interface ScriptContext {
  /** `http://host:port`, validated by the caller. */
  readonly siteUrl: string;
  readonly identity: BootIdentityParams;
  /** The per-boot token the site minted for this answer (server/site/boot-tokens.ts); the boot image hands it to the engine. */
  readonly bootToken?: string;
}

const BOOT_TOKEN = /^osdb_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const tokenOf = (ctx: ScriptContext): string | null => {
  if (ctx.bootToken === undefined) return null;
  if (!BOOT_TOKEN.test(ctx.bootToken)) throw new Error('unsafe boot token');
  return ctx.bootToken;
};

const SAFE_TEXT = /[^A-Za-z0-9 .,:;_()/'+=@-]/g;
/** Free text for `echo` and menu items: no `$`, braces, quotes or line breaks can survive. */
export const safeText = (s: string, max = 120): string => s.replace(SAFE_TEXT, ' ').replace(/\s+/g, ' ').trim().slice(0, max);

const SAFE_PATH = /^[A-Za-z0-9._\-/]+$/;
/** A boot-file path as stored: relative, no `..`, only characters iPXE and URLs carry as they are. */
export function safePath(p: string): string {
  if (!SAFE_PATH.test(p) || p.split('/').some((seg) => seg === '..' || seg === '') || p.startsWith('/'))
    throw new Error(`unsafe boot file path ${JSON.stringify(p)}`);
  return p;
}

const SITE_URL = /^https?:\/\/[A-Za-z0-9.\-:[\]]+$/;

/** The site URL with iPXE's login settings as its user and password, each URI-encoded by iPXE. */
const basicUrl = (siteUrl: string): string => siteUrl.replace(/^https?:\/\//, (scheme) => `${scheme}\${username:uristring}:\${password:uristring}@`);

export function identityQuery(id: BootIdentityParams): string {
  const parts = id.macAddresses.map((m) => `mac=${encodeURIComponent(m)}`);
  if (id.smbiosUuid) parts.push(`uuid=${encodeURIComponent(id.smbiosUuid)}`);
  parts.push(`arch=${encodeURIComponent(id.architecture)}`);
  // `%` would start nothing in iPXE, but `$` and `{` never appear after encodeURIComponent either.
  return parts.join('&');
}

/**
 * A boot image's own kernel command line as every boot loader here passes it (iPXE from the site,
 * GRUB from boot media): free text reduced to letters, digits and `.:_/=-`, so neither loader
 * can expand or split anything in it.
 */
export const bootImageCmdline = (cmdline: string): string => safeText(cmdline, 1024).replace(/[()'+=@,;]/g, (c) => (c === '=' ? '=' : ' '));

function bootCommands(ctx: ScriptContext, choice: ScriptChoice): string[] {
  const base = `${ctx.siteUrl}/boot/`;
  const identity = identityQuery(ctx.identity);
  const site = ctx.siteUrl;
  const b = choice.boot;
  if (b.os === 'linux') {
    const args = [
      bootImageCmdline(b.cmdline),
      `osdeploy.site=${site}`,
      `osdeploy.deployment=${choice.deploymentId}`,
      ...ctx.identity.macAddresses.map((m) => `osdeploy.mac=${m}`),
      ...(ctx.identity.smbiosUuid ? [`osdeploy.uuid=${ctx.identity.smbiosUuid}`] : []),
      `osdeploy.arch=${ctx.identity.architecture}`,
      ...(tokenOf(ctx) ? [`osdeploy.token=${tokenOf(ctx)}`] : []),
      // A UEFI kernel started by iPXE finds its initrds only through the EFI stub's `initrd=`
      // argument naming each loaded image (iPXE names an image after its URL's last segment);
      // BIOS kernels ignore it.
      ...b.initrds.map((i) => `initrd=${safePath(i).split('/').pop()!}`),
    ].filter(Boolean);
    return [
      `kernel ${base}${safePath(b.kernel)} ${args.join(' ')}`,
      ...b.initrds.map((i) => `initrd ${base}${safePath(i)}`),
      'boot',
    ];
  }
  // Windows PE through wimboot: BCD, boot.sdi and boot.wim over HTTP, plus the boot's identity
  // as a small file wimboot injects into X:\Windows\System32 for the engine to read.
  return [
    `kernel ${base}wimboot`,
    ...(b.bcd ? [`initrd ${base}${safePath(b.bcd)} BCD`] : []),
    ...(b.bootSdi ? [`initrd ${base}${safePath(b.bootSdi)} boot.sdi`] : []),
    `initrd ${site}/boot/identity.ini?${identity}&deployment=${encodeURIComponent(choice.deploymentId)}${tokenOf(ctx) ? `&token=${tokenOf(ctx)}` : ''} osdeploy.ini`,
    `initrd ${base}${safePath(b.wim)} boot.wim`,
    'boot',
  ];
}

export function renderIpxeScript(ctx: ScriptContext, input: ScriptInput): string {
  if (!SITE_URL.test(ctx.siteUrl)) throw new Error(`unsafe site URL ${JSON.stringify(ctx.siteUrl)}`);
  const lines = ['#!ipxe', `# osdeploy boot script for ${safeText(ctx.identity.macAddresses.join(' ') || ctx.identity.smbiosUuid || 'unknown')}`];
  switch (input.kind) {
    case 'exit':
      // `exit` returns to the firmware, which tries the next boot device.
      lines.push(`echo osdeploy: ${safeText(input.reason)}`, 'echo osdeploy: nothing to run, booting from the next device', 'sleep 3', 'exit');
      break;
    case 'password':
      // iPXE's login form masks the password; the chain sends it with HTTP Basic authentication
      // (iPXE answers the site's 401 challenge with the URL's user and password), so it is in no
      // request line, log or script. Every iPXE build has this; `params` (a POST form) is missing
      // from older ones such as Debian 12's. A wrong one comes back here with the site's message.
      lines.push(
        ...(input.message ? [`echo osdeploy: ${safeText(input.message)}`] : []),
        'echo osdeploy: this site asks for its PXE password before anything boots',
        'set username pxe',
        'clear password',
        'login || goto cancel',
        `chain --replace --autofree ${basicUrl(ctx.siteUrl)}/boot.ipxe?${identityQuery(ctx.identity)}${input.uefi ? '&uefi=true' : ''}&login=true || goto cancel`,
        ':cancel',
        'clear password',
        'echo osdeploy: no PXE password given, booting from the next device',
        'sleep 3',
        'exit',
      );
      break;
    case 'boot':
      lines.push(`echo osdeploy: starting ${safeText(input.choice.title)} (${safeText(input.choice.deploymentId)}, ${safeText(input.why)})`, ...bootCommands(ctx, input.choice));
      break;
    case 'menu': {
      lines.push('menu osdeploy: choose a task sequence');
      input.choices.forEach((c, i) => lines.push(`item c${i} ${safeText(c.title)} (${safeText(c.deploymentId)})`));
      lines.push('item exit Boot from the next device');
      lines.push(`choose --timeout ${Math.max(0, Math.floor(input.timeoutSeconds)) * 1000} --default exit target || exit`, 'goto ${target}');
      input.choices.forEach((c, i) => lines.push(`:c${i}`, ...bootCommands(ctx, c)));
      lines.push(':exit', 'exit');
      break;
    }
  }
  return `${lines.join('\n')}\n`;
}
