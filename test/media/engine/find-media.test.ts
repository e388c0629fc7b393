/**
 * The engine's search for the media the kernel command line names (media/engine/find-media.ts),
 * in-process with a fake system root: mounted filesystems first (wrong ids and folders without
 * media.json rejected, each with its reason), then — as root — devices whose first sectors show
 * ISO 9660 or FAT, mounted through a fake mounter that lays a media folder out in the mount
 * point; the ones that are not the media are unmounted again, and at most MAX_MOUNTS are tried.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { fsTypeOf, readHead, type MediaFsType, type Mounter } from '../../../media/engine/block-devices.js';
import { findMedia, MAX_MOUNTS, MediaNotFound, parseMounts } from '../../../media/engine/find-media.js';
import { kernelArgs, SYSROOT_ENV } from '../../../media/engine/kernel.js';
import { findTool } from '../../../media/boot-media/tools.js';
import { tempDir } from './step-env.js';
import { fakeSysroot } from './sysroot.js';

/** A folder with just the media header: all the search reads. */
function mediaFolder(dir: string, id: string): string {
  mkdirSync(path.join(dir, 'osdeploy'), { recursive: true });
  const header = { format: 'osdeploy-media', version: 1, id, type: 'standalone', siteCode: 'PS1', site: 'http://192.0.2.1', architecture: 'x64', bootImageId: 'PS100001', createdAt: '2026-03-02T09:00:00.000Z', expiresAt: null, protected: false, mediaForm: 'usb' };
  writeFileSync(path.join(dir, 'osdeploy', 'media.json'), JSON.stringify(header));
  return dir;
}

/** The first sectors of a FAT16 volume, an ISO 9660 image, and a disk with only a partition table. */
function fatHead(): Buffer {
  const b = Buffer.alloc(64 * 1024);
  b[0] = 0xeb;
  b.write('FAT16   ', 54, 'latin1');
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}
function isoHead(): Buffer {
  const b = Buffer.alloc(64 * 1024);
  b.write('CD001', 16 * 2048 + 1, 'latin1');
  return b;
}
function mbrHead(): Buffer {
  const b = Buffer.alloc(64 * 1024);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

/** Mounting is laying out the media folder mapped to the device's real path; unmounting empties the folder. */
function fakeMounter(media: Map<string, string>, fail: Set<string> = new Set()) {
  const calls: string[] = [];
  const mounter: Mounter = {
    async mount(device: string, dir: string, type: MediaFsType) {
      const real = realpathSync(device);
      calls.push(`mount ${type} ${path.basename(real)}`);
      if (fail.has(real)) throw new Error(`mount: ${real}: wrong fs type`);
      const from = media.get(real);
      if (from) cpSync(from, dir, { recursive: true });
    },
    async unmount(dir: string) {
      calls.push(`umount ${path.basename(dir)}`);
      for (const e of readdirSync(dir)) rmSync(path.join(dir, e), { recursive: true, force: true });
    },
  };
  return { mounter, calls };
}

t.test('the kernel command line and the mount table are read from the system root', async (t) => {
  const root = fakeSysroot(t, { cmdline: 'BOOT_IMAGE=/vmlinuz quiet osdeploy.site=http://10.0.0.5:8080 osdeploy.media=PS1M00001 osdeploy.media=second x="quoted"' });
  const k = kernelArgs({ [SYSROOT_ENV]: root });
  t.equal(k.get('osdeploy.media'), 'PS1M00001', 'the first of a name wins');
  t.equal(k.get('osdeploy.site'), 'http://10.0.0.5:8080');
  t.equal(k.get('x'), 'quoted');
  t.same(kernelArgs({ [SYSROOT_ENV]: path.join(root, 'nothing') }).size, 0, 'no command line: no arguments');
  t.same(parseMounts('/dev/sdb1 /media/usb\\040stick vfat ro 0 0\nproc /proc proc rw 0 0\n'), [
    { device: '/dev/sdb1', dir: '/media/usb stick', type: 'vfat' },
    { device: 'proc', dir: '/proc', type: 'proc' },
  ]);
});

t.test('filesystem signatures: ISO 9660 and FAT are media, a bare partition table is not', async (t) => {
  t.equal(fsTypeOf(fatHead()), 'vfat');
  t.equal(fsTypeOf(isoHead()), 'iso9660');
  t.equal(fsTypeOf(mbrHead()), null);
  t.equal(fsTypeOf(Buffer.alloc(100)), null, 'too short for anything');
  const dir = tempDir(t);
  if (findTool('mkfs.vfat')) {
    const img = path.join(dir, 'fat.img');
    writeFileSync(img, Buffer.alloc(8 * 2 ** 20));
    execFileSync('mkfs.vfat', ['-n', 'OSDEPLOY', img], { stdio: 'ignore' });
    t.equal(fsTypeOf(await readHead(img)), 'vfat', 'a volume made by mkfs.vfat');
  }
  if (findTool('xorriso')) {
    mediaFolder(path.join(dir, 'iso-src'), 'PS1M00001');
    const iso = path.join(dir, 'media.iso');
    execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-V', 'OSDEPLOY', '-o', iso, path.join(dir, 'iso-src')], { stdio: 'ignore' });
    t.equal(fsTypeOf(await readHead(iso)), 'iso9660', 'an image made by xorriso');
  }
});

t.test('mounted filesystems: the one whose media.json names the id; every other says why not', async (t) => {
  const dir = tempDir(t);
  const other = mediaFolder(path.join(dir, 'other'), 'PS1M00002');
  const empty = path.join(dir, 'empty');
  mkdirSync(empty);
  const broken = path.join(dir, 'broken');
  mkdirSync(path.join(broken, 'osdeploy'), { recursive: true });
  writeFileSync(path.join(broken, 'osdeploy', 'media.json'), '{"format":"something-else"}');
  const wanted = mediaFolder(path.join(dir, 'with space'), 'PS1M00001');
  const env = {
    [SYSROOT_ENV]: fakeSysroot(t, {
      cmdline: 'osdeploy.media=PS1M00001',
      mounts: [
        { device: '/dev/sdc1', dir: other, type: 'vfat' },
        { device: 'tmpfs', dir: empty, type: 'tmpfs' },
        { device: '/dev/sdd1', dir: broken, type: 'vfat' },
        { device: '/dev/sr0', dir: wanted, type: 'iso9660' },
      ],
    }),
  };
  const lines: string[] = [];
  const found = await findMedia({ id: 'PS1M00001', stateDir: path.join(dir, 'state'), asRoot: false, log: (l) => lines.push(l), env });
  t.equal(found.dir, wanted, 'a mount point with a space in it (\\040 in the table)');
  t.match(found.how, /mounted at .*with space \(iso9660 \/dev\/sr0/);
  t.match(lines.join('\n'), /mounted .*other \(vfat \/dev\/sdc1\): holds media PS1M00002, not PS1M00001/);
  t.match(lines.join('\n'), /mounted .*empty \(tmpfs tmpfs\): no osdeploy\/media\.json/);
  t.match(lines.join('\n'), /mounted .*broken \(vfat \/dev\/sdd1\): osdeploy\/media\.json is not an osdeploy media header/);
  t.match(lines.join('\n'), /2 kernel filesystem\(s\) .* skipped/, 'proc and sysfs are not looked into');
});

t.test('not found and not root: a clear error naming the id and every place looked at; no device is touched', async (t) => {
  const dir = tempDir(t);
  const other = mediaFolder(path.join(dir, 'other'), 'PS1M00002');
  const env = { [SYSROOT_ENV]: fakeSysroot(t, { cmdline: 'osdeploy.media=PS1M00001', mounts: [{ device: '/dev/sdc1', dir: other, type: 'vfat' }], devices: { sr0: '/dev/null' } }) };
  const { mounter, calls } = fakeMounter(new Map());
  const err = await findMedia({ id: 'PS1M00001', stateDir: path.join(dir, 'state'), asRoot: false, log: () => {}, env, mounter }).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(err instanceof MediaNotFound);
  t.match((err as Error).message, /^media PS1M00001 \(osdeploy\.media= on the kernel command line\) was not found; searched: mounted .*other \(vfat \/dev\/sdc1\) \(holds media PS1M00002, not PS1M00001\); block devices \(not tried: only root can mount them\)$/);
  t.same(calls, [], 'nothing mounted');
});

t.test('as root: devices with ISO 9660 or FAT are mounted read-only one by one; the wrong ones are unmounted again', async (t) => {
  const dir = tempDir(t);
  const file = (name: string, head: Buffer) => {
    writeFileSync(path.join(dir, name), head);
    return path.join(dir, name);
  };
  const labelled = file('labelled.img', fatHead()); // another media, labelled OSDEPLOY
  const cd = file('cd.iso', isoHead()); // ours
  const table = file('disk.img', mbrHead()); // a disk with only a partition table
  const broken = file('broken.img', fatHead()); // mount fails
  const mountedAlready = file('root.img', fatHead());
  const media = new Map([
    [realpathSync(labelled), mediaFolder(path.join(dir, 'm-other'), 'PS1M00002')],
    [realpathSync(cd), mediaFolder(path.join(dir, 'm-ours'), 'PS1M00001')],
  ]);
  const { mounter, calls } = fakeMounter(media, new Set([realpathSync(broken)]));
  const state = path.join(dir, 'state');
  const env = {
    [SYSROOT_ENV]: fakeSysroot(t, {
      cmdline: 'osdeploy.media=PS1M00001',
      mounts: [{ device: mountedAlready, dir: path.join(dir, 'nowhere'), type: 'ext4' }],
      partitions: ['vdz', 'vdz1', 'vdz2', 'sdq'],
      devices: { 'disk/by-label/OSDEPLOY': labelled, vdz: table, vdz1: mountedAlready, vdz2: broken, sdq: cd },
    }),
  };
  const lines: string[] = [];
  const found = await findMedia({ id: 'PS1M00001', stateDir: state, asRoot: true, log: (l) => lines.push(l), env, mounter });
  t.equal(found.dir, path.join(state, 'media-mounts', 'cd.iso'), 'mounted under the state folder, named after the device');
  t.ok(existsSync(path.join(found.dir, 'osdeploy', 'media.json')), 'and left mounted for the run');
  t.same(calls, ['mount vfat labelled.img', 'umount labelled.img', 'mount vfat broken.img', 'mount iso9660 cd.iso'], 'only filesystems media are made of are mounted');
  t.notOk(existsSync(path.join(state, 'media-mounts', 'labelled.img')), 'the wrong media’s mount point is gone');
  t.notOk(existsSync(path.join(state, 'media-mounts', 'broken.img')), 'so is the failed one’s');
  const log = lines.join('\n');
  t.match(log, /by-label\/OSDEPLOY \(.*labelled\.img\): vfat: holds media PS1M00002, not PS1M00001; unmounted/);
  t.match(log, /dev\/sr0: not present/);
  t.match(log, /dev\/vdz \(.*disk\.img\): no ISO 9660 or FAT filesystem/);
  t.match(log, /dev\/vdz1 \(.*root\.img\): mounted already: looked at above/);
  t.match(log, /dev\/vdz2 \(.*broken\.img\): vfat, could not be mounted: mount: .*wrong fs type/);
});

t.test(`as root: at most ${MAX_MOUNTS} devices are mounted per search, and the error lists them all`, async (t) => {
  const dir = tempDir(t);
  const devices: Record<string, string> = {};
  const media = new Map<string, string>();
  const names = Array.from({ length: MAX_MOUNTS + 2 }, (_, i) => `sd${String.fromCharCode(97 + i)}`);
  for (const n of names) {
    writeFileSync(path.join(dir, `${n}.img`), fatHead());
    devices[n] = path.join(dir, `${n}.img`);
    media.set(realpathSync(devices[n]), mediaFolder(path.join(dir, `m-${n}`), `PS1M9${n}`));
  }
  const { mounter, calls } = fakeMounter(media);
  const env = { [SYSROOT_ENV]: fakeSysroot(t, { cmdline: 'osdeploy.media=PS1M00001', partitions: names, devices }) };
  const err = await findMedia({ id: 'PS1M00001', stateDir: path.join(dir, 'state'), asRoot: true, log: () => {}, env, mounter }).then(
    () => null,
    (e: unknown) => e as Error,
  );
  t.equal(calls.filter((c) => c.startsWith('mount ')).length, MAX_MOUNTS);
  t.equal(calls.filter((c) => c.startsWith('umount ')).length, MAX_MOUNTS, 'every one unmounted again');
  t.match(err?.message, /dev\/disk\/by-label\/OSDEPLOY \(not present\)/);
  t.match(err?.message, /dev\/sda \(.*\) \(vfat: holds media PS1M9sda, not PS1M00001; unmounted\)/);
  t.match(err?.message, new RegExp(`dev/${names.at(-1)} \\(.*\\) \\(not mounted: at most ${MAX_MOUNTS} devices are mounted per search\\)`));
  t.same(readdirSync(path.join(dir, 'state', 'media-mounts')), [], 'no mount point left behind');
});
