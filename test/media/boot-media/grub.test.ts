/**
 * UEFI media's GRUB: where the boot image's declared files are on the media, the
 * configuration GRUB runs for Linux and Windows PE boot images on plain and sealed media, and
 * hostile values refused before they reach it. Pure: no GRUB needed.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { MediaContentVersion } from '../../../media/boot-media/content-source.js';
import { planEfiBoot, resolveBootFile, type EfiBootPlan, type EfiBootSource } from '../../../media/boot-media/efi-boot.js';
import { EFI_TARGETS, efiTarget, requireGrub } from '../../../media/boot-media/grub.js';
import { grubConfig, kernelArgs, winpeIdentity } from '../../../media/boot-media/grub-config.js';
import type { ScriptTarget } from '../../../media/boot-media/script.js';
import { tempDir } from './fixture.js';

const sha = (c: string): string => c.repeat(64);
const content: MediaContentVersion = {
  id: 'PS100001', kind: 'bootImage', name: 'Linux', version: 3, manifestSha256: sha('m'),
  files: [{ path: 'vmlinuz', sha256: sha('a'), size: 10 }, { path: 'Initrd.img', sha256: sha('b'), size: 10 }, { path: 'sources/boot.wim', sha256: sha('c'), size: 10 }, { path: 'Boot/BCD', sha256: sha('d'), size: 10 }, { path: 'Boot/boot.sdi', sha256: sha('e'), size: 10 }],
};
const source = (o: Partial<EfiBootSource> = {}): EfiBootSource => ({
  bootImageId: 'PS100001', architecture: 'x64', content, bootFileRoot: null,
  boot: { os: 'linux', kernel: 'content/PS100001/latest/vmlinuz', initrds: ['content/PS100001/latest/initrd.img'], cmdline: 'console=ttyS0 quiet' },
  ...o,
});
const plain: ScriptTarget = { siteUrl: 'http://10.0.2.2:8080', mediaId: 'PS1M00001', architecture: 'x64', mediaForm: 'cd', route: { kind: 'plain', preferred: 'PS120001', unattended: true } };
const sealed: ScriptTarget = { ...plain, route: { kind: 'sealed' } };

t.test('boot files: content/<id>/<version|latest>/<path> is the blob on the media; other paths come from the boot-file store', async (t) => {
  t.same(planEfiBoot(source()), {
    os: 'linux', bootImageId: 'PS100001', cmdline: 'console=ttyS0 quiet',
    kernel: { media: `content/${sha('a')}` },
    initrds: [{ media: `content/${sha('b')}` }],
  }, 'by hash; a path matches case-insensitively when nothing matches exactly (as /boot/content/… does)');
  t.same(resolveBootFile(source(), 'kernel', 'Content/ps100001/3/vmlinuz'), { media: `content/${sha('a')}` }, 'the current version by number');
  t.throws(() => resolveBootFile(source(), 'kernel', 'content/PS100001/2/vmlinuz'), { code: 'invalid', message: /version 2 .*the media carry version 3/ });
  t.throws(() => resolveBootFile(source(), 'kernel', 'content/PS100009/latest/vmlinuz'), { code: 'invalid', message: /not its own content/ });
  t.throws(() => resolveBootFile(source(), 'kernel', 'content/PS100001/latest/bzImage'), { code: 'invalid', message: /has no file bzImage in version 3/ });
  for (const bad of ['../etc/passwd', '/vmlinuz', 'a//b', "k'ernel", 'a b', 'x$y']) {
    t.throws(() => resolveBootFile(source(), 'kernel', bad), { code: 'invalid', message: /not a safe boot-file path/ }, bad);
  }

  const store = tempDir(t);
  mkdirSync(path.join(store, 'e2e'));
  writeFileSync(path.join(store, 'e2e', 'vmlinuz'), 'KERNEL');
  t.same(resolveBootFile(source({ bootFileRoot: store }), 'kernel', 'e2e/vmlinuz'), { media: 'boot/files/e2e/vmlinuz', from: path.join(store, 'e2e', 'vmlinuz') });
  t.throws(() => resolveBootFile(source({ bootFileRoot: store }), 'kernel', 'e2e/missing'), { code: 'invalid', message: /e2e\/missing is not in the boot-file store/ });
  t.throws(() => resolveBootFile(source(), 'kernel', 'e2e/vmlinuz'), { code: 'invalid', message: /not in the boot-file store/ }, 'no store at all');
  t.throws(() => planEfiBoot(source({ boot: null })), { code: 'invalid', message: /declares no boot files .* UEFI machines cannot start it from the media/ });
});

t.test('Windows PE: wimboot from the boot-file store, x64 only', async (t) => {
  const winpe = { os: 'winpe', wim: 'content/PS100001/latest/sources/boot.wim', bcd: 'content/PS100001/latest/Boot/BCD', bootSdi: 'content/PS100001/latest/Boot/boot.sdi' } as const;
  t.throws(() => planEfiBoot(source({ boot: winpe })), { code: 'invalid', message: /starts through wimboot on UEFI media, and the boot-file store has none/ });
  const store = tempDir(t);
  writeFileSync(path.join(store, 'wimboot'), 'WIMBOOT');
  const plan = planEfiBoot(source({ boot: winpe, bootFileRoot: store }));
  t.same(plan, {
    os: 'winpe', bootImageId: 'PS100001',
    wimboot: { media: 'boot/files/wimboot', from: path.join(store, 'wimboot') },
    bcd: { media: `content/${sha('d')}` }, bootSdi: { media: `content/${sha('e')}` }, wim: { media: `content/${sha('c')}` },
  });
  t.throws(() => planEfiBoot(source({ boot: winpe, bootFileRoot: store, architecture: 'arm64' })), { code: 'invalid', message: /arm64; boot media start Windows PE through wimboot on x64 only/ });
});

t.test('grub.cfg for a Linux boot image on plain media: the site, the media and SMSTSPreferredAdvertID on the kernel command line', async (t) => {
  const cfg = grubConfig(plain, planEfiBoot(source()), { ipxe: true });
  t.equal(cfg, [
    '# osdeploy boot media PS1M00001 (UEFI): GRUB starts boot image PS100001 from the media.',
    "# Built into the media's EFI loader; this copy is for reading.",
    'set timeout=5',
    'set default=osdeploy',
    "echo 'osdeploy: boot media PS1M00001, site http://10.0.2.2:8080'",
    `if search --no-floppy --file --set=root '/content/${sha('a')}'; then`,
    "  echo 'osdeploy: boot image PS100001 found on the media'",
    'else',
    "  echo 'osdeploy: the files of boot image PS100001 are not on any disk; booting from the next device'",
    '  sleep 10',
    '  exit',
    'fi',
    "menuentry 'osdeploy: start boot image PS100001 (Linux) from the media' --id osdeploy {",
    "  echo 'osdeploy: starting boot image PS100001 (Linux) from the media'",
    `  linux '/content/${sha('a')}' 'console=ttyS0' 'quiet' 'osdeploy.site=http://10.0.2.2:8080' 'osdeploy.media=PS1M00001' 'osdeploy.arch=x64' 'osdeploy.preferred=PS120001' 'osdeploy.unattended=true'`,
    `  initrd '/content/${sha('b')}'`,
    '  boot',
    '}',
    "menuentry 'osdeploy: boot from the site with iPXE (needs iPXE 1.21.1 or later)' --id ipxe {",
    "  chainloader '/EFI/BOOT/ipxe.efi'",
    '}',
    '',
  ].join('\n'));
  t.same(kernelArgs({ ...plain, route: { kind: 'plain', preferred: null, unattended: false } }, ''), ['osdeploy.site=http://10.0.2.2:8080', 'osdeploy.media=PS1M00001', 'osdeploy.arch=x64', 'osdeploy.unattended=false'], 'no preferred deployment: none named');
});

t.test('sealed media: only the site and the media id, nothing the password protects', async (t) => {
  const cfg = grubConfig(sealed, planEfiBoot(source()), { ipxe: false });
  const linux = cfg.split('\n').find((l) => l.startsWith('  linux '))!;
  t.match(linux, "'osdeploy.site=http://10.0.2.2:8080' 'osdeploy.media=PS1M00001' 'osdeploy.arch=x64'");
  t.notMatch(cfg, /PS120001|preferred|unattended/);
  t.notMatch(cfg, /ipxe/i, 'no iPXE entry when the media carry no iPXE');
  t.equal(winpeIdentity(sealed), '[osdeploy]\r\nsite=http://10.0.2.2:8080\r\nmedia=PS1M00001\r\narch=x64\r\nsource=media\r\n');
});

t.test('grub.cfg for Windows PE: wimboot with BCD, boot.sdi, osdeploy.ini and boot.wim as newc files', async (t) => {
  const plan: EfiBootPlan = { os: 'winpe', bootImageId: 'PS100002', wimboot: { media: 'boot/files/wimboot', from: '/x' }, bcd: { media: `content/${sha('d')}` }, wim: { media: `content/${sha('c')}` } };
  const cfg = grubConfig(plain, plan, { ipxe: true });
  t.match(cfg, `if search --no-floppy --file --set=root '/content/${sha('c')}'; then`, 'found by its boot.wim');
  t.match(cfg, "menuentry 'osdeploy: start boot image PS100002 (Windows PE) from the media' --id osdeploy {");
  t.match(cfg, `\n  linux '/boot/files/wimboot'\n  initrd 'newc:BCD:/content/${sha('d')}' 'newc:osdeploy.ini:/boot/osdeploy.ini' 'newc:boot.wim:/content/${sha('c')}'\n  boot\n`, 'no boot.sdi declared: none given');
  t.equal(winpeIdentity(plain), '[osdeploy]\r\nsite=http://10.0.2.2:8080\r\nmedia=PS1M00001\r\narch=x64\r\npreferred=PS120001\r\nunattended=true\r\nsource=media\r\n');
});

t.test('hostile values never reach GRUB: refused, or (free text) reduced to a safe alphabet', async (t) => {
  const plan = planEfiBoot(source());
  for (const siteUrl of ['http://x/${root}', "http://x'", 'http://x y', 'http://x;reboot']) t.throws(() => grubConfig({ ...plain, siteUrl }, plan, { ipxe: false }), { code: 'invalid' }, siteUrl);
  for (const mediaId of ["PS1M'", 'PS1M${x}', 'a b', '']) t.throws(() => grubConfig({ ...plain, mediaId }, plan, { ipxe: false }), { code: 'invalid' }, mediaId);
  t.throws(() => grubConfig({ ...plain, route: { kind: 'plain', preferred: "X' 'init=/bin/sh", unattended: true } }, plan, { ipxe: false }), { code: 'invalid', message: /SMSTSPreferredAdvertID/ });
  t.throws(() => grubConfig({ ...plain, architecture: 'x64\nreboot' }, plan, { ipxe: false }), { code: 'invalid' });
  t.throws(() => grubConfig(plain, { ...plan, bootImageId: 'PS1${x}' }, { ipxe: false }), { code: 'invalid' });
  t.throws(() => grubConfig(plain, { ...plan, kernel: { media: "content/a'b" } } as EfiBootPlan, { ipxe: false }), { code: 'invalid', message: /media path/ });
  const winpe: EfiBootPlan = { os: 'winpe', bootImageId: 'PS100002', wimboot: { media: 'boot/files/wimboot' }, wim: { media: `content/${sha('c')}` } };
  t.throws(() => grubConfig({ ...plain, siteUrl: 'http://x/$(reboot)' }, winpe, { ipxe: false }), { code: 'invalid', message: /site address/ }, 'Windows PE too');
  t.throws(() => grubConfig(plain, { ...winpe, wim: { media: 'content/x y' } }, { ipxe: false }), { code: 'invalid' });

  // The boot image's own command line is free text, reduced the way the network boot's is.
  const cfg = grubConfig(plain, planEfiBoot(source({ boot: { os: 'linux', kernel: 'content/PS100001/latest/vmlinuz', initrds: [], cmdline: "quiet $(reboot) 'a' ${root} x;y\nboot" } })), { ipxe: false });
  const linux = cfg.split('\n').find((l) => l.startsWith('  linux '))!;
  t.notMatch(linux.replace(/'[^']*'/g, ''), /[^ a-z/]/, 'every argument is one quoted word');
  t.notMatch(linux, /[$;"\\]|\(|\)/, 'no $, ; or parentheses survive');
  t.notMatch(cfg, /\n {2}initrd/, 'no initrd line without initrds');
  t.equal(cfg.split('\n').filter((l) => l === '  boot').length, 1, 'the embedded line break did not add a command');
});

t.test('the UEFI loader by architecture: each its removable-media name; a missing GRUB is refused with its package', async (t) => {
  t.equal(efiTarget('x64').loader, 'EFI/BOOT/BOOTX64.EFI');
  t.equal(efiTarget('arm64').loader, 'EFI/BOOT/BOOTAA64.EFI');
  t.equal(efiTarget('x86').loader, 'EFI/BOOT/BOOTIA32.EFI');
  t.throws(() => efiTarget('mips'), { code: 'invalid', message: /no UEFI loader for architecture "mips"/ });
  for (const arch of ['arm64', 'x86']) {
    if (existsSync(EFI_TARGETS[arch]!.modules)) continue;
    t.throws(() => requireGrub(arch), { code: 'tool-missing', message: new RegExp(`install it with: ${EFI_TARGETS[arch]!.install}$`) }, `${arch} media without its GRUB are refused, never given the x64 loader`);
  }
  t.equal(EFI_TARGETS.arm64!.install, 'apt-get install grub-efi-arm64-bin grub-common');
});
