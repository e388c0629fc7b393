/**
 * Format and Partition Disk and Apply Operating System Image on a real block device (a loop
 * device standing for /dev/vda): partitions made by sfdisk and found through sysfs, file systems
 * with the UUIDs the engine chose (read back with blkid), the image applied onto the mounted OS
 * volume, fstab, grub.cfg, host name and network written into it, and grub-install run for real
 * (BIOS: GRUB's boot code in sector 0; UEFI: EFI/BOOT/BOOTX64.EFI on the ESP). Needs root, loop
 * devices and a kernel that mounts ext4 (and vfat for UEFI); each missing piece skips with why.
 * Loop devices and mounts are released in teardown, always.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readSync, closeSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { executeStep } from '../../../media/engine/steps/index.js';
import { which } from '../../../media/engine/steps/types.js';
import { step } from './items.js';
import { FakeContent, stepEnv, tempDir, type Teardowns } from './step-env.js';

const SEARCH = `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/local/sbin:/usr/sbin:/sbin`;
const tool = (name: string) => which(name, SEARCH);
const run = (cmd: string, args: readonly string[]) => execFileSync(tool(cmd) ?? cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** A loop device over a new sparse file, detached in teardown. */
function loopDevice(t: Teardowns, mib: number): string {
  const file = path.join(tempDir(t, 'osdeploy-loop-'), 'disk.img');
  writeFileSync(file, '');
  truncateSync(file, mib * 1024 * 1024);
  const dev = run('losetup', ['-f', '--show', file]).trim();
  // A kernel without partition parsers keeps a loop device's partitions after it is detached:
  // the next user of the device would see them. Dropped on both ends.
  const dropPartitions = () => {
    try {
      if (tool('partx')) run('partx', ['-d', dev]);
    } catch {
      // none there
    }
  };
  dropPartitions();
  t.teardown(() => {
    dropPartitions();
    try {
      run('losetup', ['-d', dev]);
    } catch {
      // already gone
    }
  });
  return dev;
}

/** Whether this kernel mounts `fs` made on a loop device: the reason it cannot, or null. */
function mountProbe(fs: 'ext4' | 'vfat'): string | null {
  const probe = { teardown: (fn: () => unknown) => cleanups.push(fn) };
  const cleanups: (() => unknown)[] = [];
  try {
    const dev = loopDevice(probe, 64);
    run(fs === 'ext4' ? 'mkfs.ext4' : 'mkfs.vfat', fs === 'ext4' ? ['-q', '-F', dev] : [dev]);
    const dir = tempDir(probe, 'osdeploy-mnt-');
    run('mount', ['-t', fs, dev, dir]);
    run('umount', [dir]);
    return null;
  } catch (e) {
    return `this kernel cannot mount ${fs} on a loop device here (${String((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n')[0]})`;
  } finally {
    for (const fn of cleanups.reverse()) fn();
  }
}

function whyNot(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (loop devices, mount)';
  const missing = ['losetup', 'sfdisk', 'mkfs.ext4', 'mkfs.vfat', 'blkid', 'mount', 'tar'].filter((x) => !tool(x));
  if (missing.length) return `${missing.join(', ')} not found (Debian packages mount, fdisk, e2fsprogs, dosfstools, util-linux)`;
  const cleanups: (() => unknown)[] = [];
  try {
    loopDevice({ teardown: (fn) => cleanups.push(fn) }, 1);
  } catch (e) {
    return `losetup -f --show does not work here: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    for (const fn of cleanups.reverse()) fn();
  }
  return mountProbe('ext4') ?? false;
}

/**
 * GRUB finds a partition's start with the HDIO_GETGEO ioctl, which virtio-blk, SCSI and NVMe
 * disks answer and loop devices do not: on a loop device grub-install stops with "cannot find a
 * GRUB drive". Then the test runs a stand-in grub-install that records its arguments, and says so.
 */
function grubMapsLoopPartitions(): string | null {
  const cleanups: (() => unknown)[] = [];
  try {
    const dev = loopDevice({ teardown: (fn) => cleanups.push(fn) }, 8);
    execFileSync(tool('sfdisk')!, ['-q', dev], { input: 'label: dos\nstart=2048, type=83\n', stdio: ['pipe', 'ignore', 'ignore'] });
    if (tool('partx')) run('partx', ['-u', dev]);
    run('grub-probe', ['-t', 'drive', '-d', `${dev}p1`]);
    return null;
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n').at(-1) ?? 'grub-probe failed';
  } finally {
    for (const fn of cleanups.reverse()) fn();
  }
}

/** A grub-install that only records how it was called (see above). */
function stubGrub(t: Teardowns): { dir: string; args: () => string[] } {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'grub-install'), `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\necho "stand-in grub-install"\n`, { mode: 0o755 });
  return { dir, args: () => readFileSync(path.join(dir, 'args'), 'utf8').trim().split('\n') };
}

const skip = whyNot();
const vfat = skip ? 'see above' : mountProbe('vfat');
const grubMissing = (target: string) => (!tool('grub-install') ? 'grub-install not found (Debian package grub2-common)' : !existsSync(`/usr/lib/grub/${target}`) ? `/usr/lib/grub/${target} missing (grub-pc-bin / grub-efi-amd64-bin)` : false);

/** A small Linux root as an OS image: two kernels (the newer one wins), systemd and ifupdown config folders. */
function osImage(t: Teardowns): FakeContent {
  const src = tempDir(t);
  for (const d of ['boot', 'etc/systemd/system', 'etc/network/interfaces.d', 'var/lib']) mkdirSync(path.join(src, d), { recursive: true });
  for (const f of ['vmlinuz-6.1.0-9-amd64', 'initrd.img-6.1.0-9-amd64', 'vmlinuz-6.1.0-28-amd64', 'initrd.img-6.1.0-28-amd64']) writeFileSync(path.join(src, 'boot', f), f);
  writeFileSync(path.join(src, 'etc', 'os-release'), 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
  writeFileSync(path.join(src, 'etc', 'hosts'), '127.0.0.1\tlocalhost\n127.0.1.1\timage-builder\n');
  writeFileSync(path.join(src, 'etc', 'fstab'), '# the image builder\'s fstab\n/dev/sda1 / ext4 defaults 0 1\n');
  const out = tempDir(t);
  mkdirSync(path.join(out, 'img'));
  execFileSync('tar', ['-czf', path.join(out, 'img', 'rootfs.tar.gz'), '-C', src, '.']);
  return new FakeContent(tempDir(t)).addFolder('PS100090', path.join(out, 'img'), { kind: 'osImage' });
}

const sector0 = (dev: string): Buffer => {
  const fd = openSync(dev, 'r');
  try {
    const b = Buffer.alloc(512);
    readSync(fd, b, 0, 512, 0);
    return b;
  } finally {
    closeSync(fd);
  }
};

const blkid = (dev: string, tag: string) => run('blkid', ['-p', '-s', tag, '-o', 'value', dev]).trim();

/** The engine's view of the kernel: a command line with a serial console. */
function fakeCmdline(t: Teardowns): void {
  const sys = tempDir(t);
  mkdirSync(path.join(sys, 'proc'));
  writeFileSync(path.join(sys, 'proc', 'cmdline'), 'BOOT_IMAGE=/vmlinuz console=tty0 console=ttyS0,115200n8 osdeploy.site=http://x quiet\n');
  const before = process.env.OSDEPLOY_ENGINE_SYSROOT;
  process.env.OSDEPLOY_ENGINE_SYSROOT = sys;
  t.teardown(() => {
    if (before === undefined) delete process.env.OSDEPLOY_ENGINE_SYSROOT;
    else process.env.OSDEPLOY_ENGINE_SYSROOT = before;
  });
}

t.test('R-37 BIOS on an MBR block device: partitions, UUIDs, the image applied onto the mounted volume, GRUB in the MBR', { skip }, async (t) => {
  const dev = loopDevice(t, 320);
  fakeCmdline(t);
  const realGrub = grubMissing('i386-pc') || (tool('grub-probe') ? grubMapsLoopPartitions() : 'grub-probe not found');
  const stub = realGrub ? stubGrub(t) : null;
  if (realGrub) t.comment(`grub-install replaced by a stand-in that records its arguments: ${realGrub}`);
  const env = stepEnv(t, { disks: new Map([[0, dev]]), searchPath: stub ? `${stub.dir}:${SEARCH}` : SEARCH, fake: osImage(t) });
  t.teardown(() => env.mounts.releaseAll());
  env.vars.set('OSDComputerName', 'LAB-PC_01');

  const f = await executeStep(step('f', 'FormatAndPartitionDisk', { diskNumber: 0, diskType: 'mbr', partitions: ['name=Linux;type=primary;size=200MB;fs=ntfs;boot=true;variable=OSDisk', 'name=Data;type=primary;size=100%;fs=fat32;variable=DataDisk'] }), env);
  t.match(f, { ok: true, message: /disk 0 \(.*\) partitioned \(MBR\) with 2 volume/ }, f.ok ? '' : String(f.output));
  const [os, data] = env.disk.volumes;
  t.match(os, { disk: 0, partition: 1, table: 'mbr', fs: 'ext4', type: 'primary', label: 'Linux', variable: 'OSDisk' });
  t.equal(env.vars.get('OSDisk'), os!.device, 'the volume variable holds the partition device');
  t.equal(blkid(os!.device!, 'UUID'), os!.uuid, 'ext4 carries the UUID the engine chose');
  t.equal(blkid(data!.device!, 'UUID'), data!.uuid, 'FAT carries the serial the engine chose, as XXXX-XXXX');
  t.match(data!.uuid, /^[0-9A-F]{4}-[0-9A-F]{4}$/);
  t.equal(blkid(os!.device!, 'LABEL'), 'Linux');

  const a = await executeStep(step('a', 'ApplyOperatingSystemImage', { osImageId: 'PS100090' }), env);
  t.match(a, { ok: true, message: new RegExp(`rootfs.tar.gz of PS100090 applied to ${os!.device} \\(mounted at .*\\) and made bootable \\(BIOS\\)`) }, a.ok ? '' : `${a.message}\n${a.output}`);
  t.same(env.disk.applied, ['disk0p1'], 'nextAvailable took the first formatted volume');
  const mounts = readFileSync('/proc/self/mounts', 'utf8');
  t.ok(mounts.includes(`${os!.device} ${env.root} ext4`), 'the OS volume is mounted at --root');
  const etc = (f: string) => readFileSync(path.join(env.root, 'etc', f), 'utf8');
  t.match(etc('fstab'), new RegExp(`^UUID=${os!.uuid} / ext4 errors=remount-ro 0 1$`, 'm'));
  t.notMatch(etc('fstab'), /\/dev\/sda1/, 'the image builder\'s fstab is replaced');
  const cfg = readFileSync(path.join(env.root, 'boot', 'grub', 'grub.cfg'), 'utf8');
  t.match(cfg, `search --no-floppy --fs-uuid --set=root ${os!.uuid}`);
  t.match(cfg, `linux /boot/vmlinuz-6.1.0-28-amd64 root=UUID=${os!.uuid} ro console=tty0 console=ttyS0,115200n8`);
  t.match(cfg, 'initrd /boot/initrd.img-6.1.0-28-amd64');
  t.match(cfg, 'serial --unit=0 --speed=115200');
  t.equal(etc('hostname'), 'LAB-PC-01\n');
  t.match(etc('hosts'), /^127\.0\.1\.1\tLAB-PC-01$/m);
  t.match(readFileSync(path.join(env.root, 'etc', 'systemd', 'network', '20-osdeploy-dhcp.network'), 'utf8'), /DHCP=yes/);
  t.ok(existsSync(path.join(env.root, 'etc', 'network', 'interfaces.d', 'osdeploy')));

  if (stub) {
    t.same(stub.args(), ['--target=i386-pc', `--boot-directory=${env.root}/boot`, dev], 'BIOS: GRUB goes onto the whole disk');
  } else {
    const mbr = sector0(dev);
    t.same([mbr[0x1fe], mbr[0x1ff]], [0x55, 0xaa], 'sector 0 ends with the boot signature');
    t.ok(mbr.includes(Buffer.from('GRUB ')), 'sector 0 carries GRUB\'s boot code');
    t.ok(existsSync(path.join(env.root, 'boot', 'grub', 'i386-pc', 'core.img')), 'GRUB\'s modules and core image are in /boot/grub');
  }
  await env.mounts.releaseAll();
  t.notOk(readFileSync('/proc/self/mounts', 'utf8').includes(env.root), 'released: nothing of ours stays mounted');
});

t.test('R-37 GPT block device: BIOS needs a BIOS boot partition (a clear failure without one); partitions found through sysfs', { skip }, async (t) => {
  const dev = loopDevice(t, 320);
  fakeCmdline(t);
  const realGrub = grubMissing('i386-pc') || (tool('grub-probe') ? grubMapsLoopPartitions() : 'grub-probe not found');
  const stub = realGrub ? stubGrub(t) : null;
  if (realGrub) t.comment(`grub-install replaced by a stand-in that records its arguments: ${realGrub}`);
  const env = stepEnv(t, { disks: new Map([[0, dev]]), searchPath: stub ? `${stub.dir}:${SEARCH}` : SEARCH, fake: osImage(t) });
  t.teardown(() => env.mounts.releaseAll());

  const without = await executeStep(step('f', 'FormatAndPartitionDisk', { diskNumber: 0, diskType: 'gpt', partitions: ['name=Linux;size=100%;fs=ext4'] }), env);
  t.match(without, { ok: true, message: /GPT/ });
  const failed = await executeStep(step('a', 'ApplyOperatingSystemImage', { osImageId: 'PS100090' }), env);
  t.match(failed, { ok: false, message: /booted with BIOS but disk 0 is GPT without a BIOS boot partition.*type=biosboot/ });

  const parts = ['name=BIOS boot;type=biosboot;size=1MB;fs=none', 'name=Linux;type=primary;size=100%;fs=ext4;variable=OSDisk'];
  const f = await executeStep(step('f', 'FormatAndPartitionDisk', { diskNumber: 0, diskType: 'gpt', partitions: parts }), env);
  t.match(f, { ok: true }, f.ok ? '' : String(f.output));
  t.same(env.disk.volumes.map((v) => [v.partition, v.type, v.fs, v.device]), [[1, 'biosboot', 'none', `${dev}p1`], [2, 'primary', 'ext4', `${dev}p2`]], 'the earlier volumes of disk 0 are forgotten');
  t.same(env.disk.applied, [], 'so is the Apply that used them');
  const table = JSON.parse(run('sfdisk', ['-J', dev])).partitiontable;
  t.equal(table.partitions[0].type, '21686148-6449-6E6F-744E-656564454649', 'GPT type of a BIOS boot partition');
  t.equal(table.partitions[1].type, '0FC63DAF-8483-4772-8E79-3D69D8477DE4', 'GPT type of an ext4 root: Linux filesystem data');
  t.equal(blkid(`${dev}p2`, 'UUID'), env.disk.volumes[1]!.uuid);
  const a = await executeStep(step('a', 'ApplyOperatingSystemImage', { osImageId: 'PS100090', destination: 'specificDiskAndPartition', destinationDisk: 0, destinationPartition: 2 }), env);
  t.match(a, { ok: true, message: /made bootable \(BIOS\)/ }, a.ok ? '' : `${a.message}\n${a.output}`);
  if (stub) t.same(stub.args(), ['--target=i386-pc', `--boot-directory=${env.root}/boot`, dev]);
  else t.ok(existsSync(path.join(env.root, 'boot', 'grub', 'i386-pc', 'core.img')));
});

t.test('R-37 UEFI on a GPT block device: the ESP mounted at /boot/efi, GRUB on the removable path', { skip: skip || vfat || grubMissing('x86_64-efi') }, async (t) => {
  const dev = loopDevice(t, 320);
  fakeCmdline(t);
  const env = stepEnv(t, { disks: new Map([[0, dev]]), searchPath: SEARCH, fake: osImage(t), uefi: true });
  t.teardown(() => env.mounts.releaseAll());
  const parts = ['name=EFI;type=efi;size=100MB;fs=fat32', 'name=Linux;type=primary;size=100%;fs=ext4'];
  t.match(await executeStep(step('f', 'FormatAndPartitionDisk', { diskNumber: 0, diskType: 'gpt', partitions: parts }), env), { ok: true });
  const [esp, os] = env.disk.volumes;
  t.equal(blkid(esp!.device!, 'UUID'), esp!.uuid);
  const a = await executeStep(step('a', 'ApplyOperatingSystemImage', { osImageId: 'PS100090' }), env);
  t.match(a, { ok: true, message: /made bootable \(UEFI\)/ }, a.ok ? '' : `${a.message}\n${a.output}`);
  t.match(readFileSync(path.join(env.root, 'etc', 'fstab'), 'utf8'), new RegExp(`UUID=${esp!.uuid} /boot/efi vfat umask=0077`));
  t.ok(existsSync(path.join(env.root, 'boot', 'efi', 'EFI', 'BOOT', 'BOOTX64.EFI')), 'BOOTX64.EFI on the ESP');
  t.match(readFileSync(path.join(env.root, 'boot', 'grub', 'grub.cfg'), 'utf8'), `root=UUID=${os!.uuid}`);
});
