/**
 * R-37 runtime/plan.ts, the boot environment controller's decisions before the engine runs:
 * the kernel command line, which block devices are the machine's disks and in which order, and
 * the engine's arguments, checked by the engine's own option parser (media/engine/options.ts).
 */
import fc from 'fast-check';
import t from 'tap';
import { engineLaunch, orderDisks, parseCmdline, type BlockDevice } from '../../../media/boot-env/runtime/plan.js';
import { parseOptions } from '../../../media/engine/options.js';

t.test('R-37 parseCmdline: osdeploy.* keys and every console= from a real-looking /proc/cmdline', async (t) => {
  const line =
    'BOOT_IMAGE=/vmlinuz initrd=initrd.img console=tty0 console=ttyS0,115200n8 quiet osdeploy.site=http://10.0.0.5:8080 osdeploy.deployment=PS120001 ' +
    'osdeploy.mac=52:54:00:12:34:56 osdeploy.done=poweroff osdeploy.onfail=reboot osdeploy.failtimeout=60\n';
  t.same(parseCmdline(line), {
    site: 'http://10.0.0.5:8080',
    deployment: 'PS120001',
    media: null,
    done: 'poweroff',
    onFail: 'reboot',
    failTimeout: 60,
    consoles: ['tty0', 'ttyS0,115200n8'],
    token: null,
  });
  t.equal(parseCmdline('osdeploy.media=MEDIA42 osdeploy.done=shell osdeploy.onfail=poweroff').media, 'MEDIA42');
  t.equal(parseCmdline('osdeploy.done=shell').done, 'shell');
  t.equal(parseCmdline('osdeploy.onfail=poweroff').onFail, 'poweroff');
  t.equal(parseCmdline('osdeploy.site=http://s/x?a=b&c=d').site, 'http://s/x?a=b&c=d', "a value with '=' in it is kept whole");
  t.equal(parseCmdline('osdeploy.site=http://first osdeploy.site=http://second').site, 'http://first', 'the first of a repeated key wins (as the engine reads it)');
  t.equal(parseCmdline('\tosdeploy.deployment=PS1\n  quiet').deployment, 'PS1', 'tabs and newlines separate words');
});

t.test('R-37 parseCmdline: defaults, and bad values fall back to them', async (t) => {
  const defaults = { site: null, deployment: null, media: null, done: 'reboot', onFail: 'shell', failTimeout: 900, consoles: [], token: null };
  t.same(parseCmdline(''), defaults, 'an empty command line');
  t.same(parseCmdline('quiet splash root=/dev/sda1 ro'), { ...defaults }, 'no osdeploy.* words');
  t.equal(parseCmdline('osdeploy.done=explode').done, 'reboot', 'unknown done= → reboot');
  t.equal(parseCmdline('osdeploy.done=Reboot').done, 'reboot', 'case matters: Reboot is not a value');
  t.equal(parseCmdline('osdeploy.onfail=explode').onFail, 'shell', 'unknown onfail= → shell');
  t.equal(parseCmdline('osdeploy.failtimeout=abc').failTimeout, 900, 'not a number');
  t.equal(parseCmdline('osdeploy.failtimeout=-5').failTimeout, 900, 'negative');
  t.equal(parseCmdline('osdeploy.failtimeout=Infinity').failTimeout, 900, 'not finite');
  t.equal(parseCmdline('osdeploy.failtimeout=12.7').failTimeout, 12, 'a fraction is cut to whole seconds');
  t.equal(parseCmdline('osdeploy.failtimeout=0').failTimeout, 0, '0 is allowed');
  t.equal(parseCmdline('osdeploy.site').site, null, 'a key without = is no value');
});

t.test('R-37 parseCmdline: an empty osdeploy.failtimeout= falls back to 900, not to 0 (wait forever)', async (t) => {
  t.equal(parseCmdline('osdeploy.failtimeout=').failTimeout, 900, 'empty value → default (Number("") would be 0)');
  t.equal(parseCmdline('osdeploy.failtimeout= quiet').failTimeout, 900, 'empty value followed by another word');
  t.equal(parseCmdline('osdeploy.failtimeout=0x10').failTimeout, 900, 'digits only: no hexadecimal');
  t.equal(parseCmdline('osdeploy.failtimeout=1e3').failTimeout, 900, 'digits only: no exponent');
  t.equal(parseCmdline('osdeploy.failtimeout=.5').failTimeout, 900, 'digits only: no bare fraction');
  t.equal(parseCmdline('osdeploy.failtimeout=300').failTimeout, 300, 'whole seconds');
});

const dev = (name: string, over: Partial<BlockDevice> = {}): BlockDevice => ({ name, removable: false, sizeSectors: 1 << 21, readOnly: false, ...over });

const MACHINE: BlockDevice[] = [
  dev('loop0'), dev('ram0'), dev('zram0'), dev('sr0'), dev('fd0'), dev('dm-0'), dev('md127'), dev('nbd0'), dev('mtdblock0'),
  dev('sdb', { removable: true }),
  dev('sda'),
  dev('vda'),
  dev('nvme10n1'), dev('nvme2n1'), dev('nvme0n1'), dev('nvme1n1'),
  dev('sdc', { sizeSectors: 0 }),
  dev('sdd', { readOnly: true }),
  dev('sde'),
  dev('xvda'),
  dev('hda'),
  dev('mmcblk0'),
  dev('mmcblk0boot0', { readOnly: true }),
  dev('pmem0'),
];

t.test('R-37 orderDisks: never loop/ram/CD/floppy/device-mapper/RAID/empty/read-only/excluded devices; fixed before removable; nvme < sd < vd < xvd < hd < mmcblk; numbers naturally', async (t) => {
  const disks = orderDisks(MACHINE, ['sde']);
  t.same(disks, ['nvme0n1', 'nvme1n1', 'nvme2n1', 'nvme10n1', 'sda', 'vda', 'xvda', 'hda', 'mmcblk0', 'pmem0', 'sdb']);
  t.notOk(disks.includes('sde'), 'the media device is excluded');
  t.same(orderDisks(MACHINE).filter((d) => d === 'sde'), ['sde'], 'and included when not excluded');
  t.same(orderDisks([]), [], 'no devices, no disks');
  t.same(orderDisks([dev('sdb', { removable: true }), dev('nvme0n1', { removable: true }), dev('sda', { removable: true })]), ['nvme0n1', 'sda', 'sdb'], 'removable ones ordered among themselves too');
  t.same(orderDisks([dev('sda', { removable: true }), dev('vdb')]), ['vdb', 'sda'], 'a fixed virtio disk before a removable SATA one');
});

t.test('R-37 orderDisks (property): the order does not depend on the order sysfs lists devices in', async (t) => {
  const want = orderDisks(MACHINE, ['sde']);
  fc.assert(
    fc.property(fc.shuffledSubarray(MACHINE, { minLength: MACHINE.length, maxLength: MACHINE.length }), (devices) => JSON.stringify(orderDisks(devices, ['sde'])) === JSON.stringify(want)),
    { numRuns: 200, seed: 37 },
  );
  t.pass('200 permutations give one order');
});

t.test('R-37 orderDisks: past 26 SCSI disks the kernel names sdz, then sdaa', async (t) => {
  t.same(orderDisks([dev('sdaa'), dev('sdz'), dev('sdb')]), ['sdb', 'sdz', 'sdaa'], 'kernel order');
  t.same(orderDisks([dev('sdaaa'), dev('sdzz'), dev('sdab'), dev('sdaa'), dev('sda'), dev('sdba')]), ['sda', 'sdaa', 'sdab', 'sdba', 'sdzz', 'sdaaa'], 'shorter names first, then by letters');
  t.same(orderDisks([dev('vdaa'), dev('vdz'), dev('xvdab'), dev('xvdc'), dev('hdb'), dev('hda')]), ['vdz', 'vdaa', 'xvdc', 'xvdab', 'hda', 'hdb'], 'the same for virtio, Xen and IDE disks');
  t.same(orderDisks([dev('nvme0n10'), dev('nvme0n2'), dev('mmcblk10'), dev('mmcblk2')]), ['nvme0n2', 'nvme0n10', 'mmcblk2', 'mmcblk10'], 'numbered disks still by number');
});

const args = (cmdline: string) => parseCmdline(cmdline);
const base = { root: '/mnt/target', state: '/run/osdeploy/engine', progressFd: 3 };

t.test('R-37 engineLaunch: a network boot gets the image token, --source pxe, the disks in order, --uefi on UEFI', async (t) => {
  const l = engineLaunch({ ...base, args: args('osdeploy.site=http://10.0.0.5:8080'), disks: ['nvme0n1', 'sda'], uefi: true, token: 'tok-123' });
  t.same(l.env, { OSDEPLOY_TOKEN: 'tok-123' }, 'the token in the environment, not on the command line');
  t.notOk(l.args.includes('tok-123'), 'never in argv (visible in ps)');
  // The engine's own parser is the judge of what these arguments mean.
  const o = parseOptions(l.args, { ...l.env, OSDEPLOY_SITE: 'http://10.0.0.5:8080', OSDEPLOY_ENGINE_SYSROOT: '/nonexistent' });
  t.not(o, 'help');
  if (o === 'help') return;
  t.equal(o.source, 'pxe');
  t.equal(o.uefi, true);
  t.same([...o.disks], [[0, '/dev/nvme0n1'], [1, '/dev/sda']], 'disk 0 is the first of orderDisks');
  t.equal(o.root, '/mnt/target');
  t.equal(o.stateDir, '/run/osdeploy/engine');
  t.equal(o.progressFd, 3);
  t.equal(o.token, 'tok-123');
});

t.test('R-37 engineLaunch: a media boot never gets the image token; BIOS has no --uefi; no disks, no --disk', async (t) => {
  const l = engineLaunch({ ...base, args: args('osdeploy.media=MEDIA42'), disks: [], uefi: false, token: 'tok-123' });
  t.same(l.env, {}, 'media carry their own token');
  t.equal(l.args[l.args.indexOf('--source') + 1], 'media');
  t.notOk(l.args.includes('--uefi'), 'BIOS');
  t.notOk(l.args.includes('--disk'), 'no disks');
  const noToken = engineLaunch({ ...base, args: args('osdeploy.site=http://s'), disks: ['vda'], uefi: false, token: null });
  t.same(noToken.env, {}, 'a network boot without a token file');
  t.same(noToken.args.slice(noToken.args.indexOf('--disk')), ['--disk', '0=/dev/vda'], 'one disk');
  const o = parseOptions(l.args, { OSDEPLOY_SITE: 'http://s', OSDEPLOY_TOKEN: 'from-media', OSDEPLOY_ENGINE_SYSROOT: '/nonexistent' });
  t.ok(o !== 'help' && o.source === 'media' && o.uefi === false && o.disks.size === 0, 'the engine reads a media boot, BIOS, no disks');
});
