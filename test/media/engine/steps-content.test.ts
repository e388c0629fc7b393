/**
 * Content, image, user state and disk steps on Linux: Download Package Content,
 * Install Package, Apply Driver Package, Apply and Capture Operating System Image (tar, WIM
 * with wimlib-imagex), Capture and Restore User State, and Format and Partition Disk on a disk
 * image file with sfdisk and mkfs at offsets (no loop devices). Tools that are missing skip
 * their test with the Debian package to install (CI installs them: .ci/run).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { executeStep } from '../../../media/engine/steps/index.js';
import { layout, parseVolume, partitionType, SECTOR, sfdiskScript } from '../../../media/engine/steps/partition-table.js';
import { which } from '../../../media/engine/steps/types.js';
import { step } from './items.js';
import { FakeContent, stepEnv, tempDir } from './step-env.js';

const PATH = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin';
const has = (tool: string) => which(tool, `${PATH}:/usr/sbin:/sbin`) !== null;
const sbinEnv = { searchPath: `${PATH}:/usr/sbin:/sbin` };

t.test('R-16 Download Package Content into the cache or a custom path, with the location variables', async (t) => {
  const fake = new FakeContent(tempDir(t)).add('PS100040', { 'a.txt': 'A' }).add('PS100041', { 'b/b.txt': 'B' });
  const env = stepEnv(t, { fake });
  const r = await executeStep(step('d', 'DownloadPackageContent', { packageIds: ['PS100040', 'PS100041'], saveLocationVariable: 'Pkg' }), env);
  t.match(r, { ok: true, output: /PS100040 v1: 1 file/ });
  t.equal(env.vars.get('Pkg01'), path.join(env.cacheDir, 'PS100040'));
  t.equal(readFileSync(path.join(env.vars.get('Pkg02')!, 'b', 'b.txt'), 'utf8'), 'B');
  await executeStep(step('d', 'DownloadPackageContent', { packageIds: ['PS100040'], destination: 'customPath', customPath: 'opt/pkgs' }), env);
  t.ok(existsSync(path.join(env.root, 'opt', 'pkgs', 'PS100040', 'a.txt')), 'custom relative paths land under the root, the package id appended');
  const partial = await executeStep(step('d', 'DownloadPackageContent', { packageIds: ['PS1MISSING', 'PS100041'], continueOnDownloadError: true }), env);
  t.match(partial, { ok: false, message: /PS1MISSING is not in this deployment's content policy/ });
  t.equal(fake.fetched.at(-1), 'PS100041', 'continue on download error fetched the next one');
});

t.test('R-29 Install Package runs the named program from the package’s downloaded content', async (t) => {
  const programs = [{ name: 'Install', commandLine: 'sh install.sh %Edition%' }, { name: 'Uninstall', commandLine: 'exit 1' }];
  const fake = new FakeContent(tempDir(t)).add('PS100050', { 'install.sh': 'mkdir -p "$OSDEPLOY_ROOT/opt/app" && echo "$1" > "$OSDEPLOY_ROOT/opt/app/edition"\n' }, { programs });
  const env = stepEnv(t, { fake });
  env.vars.set('Edition', 'pro');
  t.match(await executeStep(step('i', 'InstallPackage', { packageId: 'PS100050', programName: 'install' }), env), { ok: true, exitCode: 0 });
  t.equal(readFileSync(path.join(env.root, 'opt', 'app', 'edition'), 'utf8'), 'pro\n');
  t.match(await executeStep(step('i', 'InstallPackage', { packageId: 'PS100050', programName: 'Uninstall' }), env), { ok: false, exitCode: 1 });
  t.match(await executeStep(step('i', 'InstallPackage', { packageId: 'PS100050', programName: 'Repair' }), env), { ok: false, message: 'package PS100050 has no program named Repair (programs: Install, Uninstall)' });
});

t.test('R-29 Apply Driver Package copies the drivers into the target’s drivers folder', async (t) => {
  const fake = new FakeContent(tempDir(t)).add('PS100060', { 'net/e1000.inf': 'inf', 'net/e1000.sys': 'sys' }, { kind: 'driverPackage' });
  const env = stepEnv(t, { fake });
  t.match(await executeStep(step('a', 'ApplyDriverPackage', { driverPackageId: 'PS100060' }), env), { ok: true });
  t.equal(readFileSync(path.join(env.root, 'drivers', 'PS100060', 'net', 'e1000.inf'), 'utf8'), 'inf');
});

t.test('R-29 Apply Operating System Image from a tar archive; capture the target back', { skip: !has('tar') && 'tar not found' }, async (t) => {
  const src = tempDir(t);
  mkdirSync(path.join(src, 'etc'));
  writeFileSync(path.join(src, 'etc', 'os-release'), 'NAME=TestOS\n');
  const images = tempDir(t);
  mkdirSync(path.join(images, 'img'));
  execFileSync('tar', ['-czf', path.join(images, 'img', 'install.tar.gz'), '-C', src, '.']);
  const fake = new FakeContent(tempDir(t)).addFolder('PS100070', path.join(images, 'img'), { kind: 'osImage' }).add('PS100071', { 'unattend.xml': '<unattend/>' });
  const env = stepEnv(t, { fake });
  const r = await executeStep(step('o', 'ApplyOperatingSystemImage', { osImageId: 'PS100070', unattendPackageId: 'PS100071', unattendFile: 'unattend.xml' }), env);
  t.match(r, { ok: true, message: /install.tar.gz of PS100070 applied/ });
  t.equal(readFileSync(path.join(env.root, 'etc', 'os-release'), 'utf8'), 'NAME=TestOS\n');
  t.equal(readFileSync(path.join(env.root, 'Windows', 'Panther', 'unattend.xml'), 'utf8'), '<unattend/>');
  t.equal(env.vars.get('OSDTargetSystemDrive'), env.root);

  t.match(await executeStep(step('c', 'CaptureOperatingSystemImage', { destination: 'captures/ref.tar', account: 'CORP\\cap', password: 'x' }), env), { ok: true });
  const listing = execFileSync('tar', ['-tf', path.join(env.stateDir, 'captures', 'ref.tar')], { encoding: 'utf8' });
  t.match(listing, /\.\/etc\/os-release/);
  t.match(await executeStep(step('c', 'CaptureOperatingSystemImage', { destination: '\\\\server\\share\\ref.wim', account: 'a', password: 'x' }), env), { ok: false, message: /network share destinations are not supported/ });
  const empty = new FakeContent(tempDir(t)).add('PS100072', { 'readme.txt': 'no image' });
  t.match(await executeStep(step('o', 'ApplyOperatingSystemImage', { osImageId: 'PS100072' }), stepEnv(t, { fake: empty })), { ok: false, message: /holds no .wim or tar archive/ });
});

t.test('R-29 Apply Operating System Image from a WIM with wimlib-imagex', { skip: !has('wimlib-imagex') && 'wimlib-imagex not found (Debian package wimtools)' }, async (t) => {
  const src = tempDir(t);
  writeFileSync(path.join(src, 'hello.txt'), 'from a wim');
  const images = tempDir(t);
  mkdirSync(path.join(images, 'img'));
  execFileSync('wimlib-imagex', ['capture', src, path.join(images, 'img', 'install.wim'), 'Test'], { stdio: 'ignore' });
  const fake = new FakeContent(tempDir(t)).addFolder('PS100080', path.join(images, 'img'), { kind: 'osImage' });
  const env = stepEnv(t, { fake, ...sbinEnv });
  t.match(await executeStep(step('o', 'ApplyOperatingSystemImage', { osImageId: 'PS100080', imageIndex: 1 }), env), { ok: true });
  t.equal(readFileSync(path.join(env.root, 'hello.txt'), 'utf8'), 'from a wim');
  t.match(await executeStep(step('o', 'ApplyOperatingSystemImage', { osImageId: 'PS100080' }), stepEnv(t, { fake, searchPath: tempDir(t) })), { ok: false, message: 'not supported here: wimlib-imagex not found (Debian package wimtools)' });
});

t.test('R-29 Capture User State and Restore User State survive an image applied over the root', { skip: !has('tar') && 'tar not found' }, async (t) => {
  const env = stepEnv(t);
  mkdirSync(path.join(env.root, 'home', 'ada'), { recursive: true });
  writeFileSync(path.join(env.root, 'home', 'ada', 'notes.txt'), 'keep me');
  mkdirSync(path.join(env.root, 'srv', 'data'), { recursive: true });
  writeFileSync(path.join(env.root, 'srv', 'data', 'db'), 'rows');
  t.match(await executeStep(step('c', 'CaptureUserState', { usmtPackageId: 'PS1USMT' }), env), { ok: true, message: /captured home/ });
  t.match(await executeStep(step('c', 'CaptureUserState', { usmtPackageId: 'PS1USMT', includeAllProfiles: false, configFiles: ['srv/data'], storePath: 'store2' }), env), { ok: true, message: /captured srv\/data/ });
  rmSync(env.root, { recursive: true });
  env.vars.set('OSDStateStorePath', path.join(env.stateDir, 'statestore'));
  t.match(await executeStep(step('r', 'RestoreUserState', { usmtPackageId: 'PS1USMT' }), env), { ok: true });
  t.equal(readFileSync(path.join(env.root, 'home', 'ada', 'notes.txt'), 'utf8'), 'keep me');
  t.notOk(existsSync(path.join(env.root, 'srv')), 'only the chosen paths were in that store');
  t.match(await executeStep(step('r', 'RestoreUserState', { usmtPackageId: 'PS1USMT', storePath: 'nowhere' }), env), { ok: false, message: /no captured user state/ });
});

const diskTools = ['sfdisk', 'mkfs.vfat', 'mkfs.ext4'].filter((x) => !has(x));
t.test('R-29 Format and Partition Disk on a disk image file, without loop devices', { skip: diskTools.length > 0 && `${diskTools.join(', ')} not found (Debian packages fdisk, dosfstools, e2fsprogs)` }, async (t) => {
  const dir = tempDir(t);
  const disk = path.join(dir, 'disk0.img');
  writeFileSync(disk, '');
  truncateSync(disk, 256 * 1024 * 1024);
  const env = stepEnv(t, { disks: new Map([[0, disk]]), ...sbinEnv });
  const partitions = ['name=EFI;type=efi;size=100MB;fs=fat32;variable=EfiDisk', 'name=MSR;type=msr;size=16MB;fs=none', 'name=Windows;type=primary;size=100%;fs=ntfs;variable=OSDisk'];
  const r = await executeStep(step('f', 'FormatAndPartitionDisk', { diskNumber: 0, diskType: 'gpt', partitions }), env);
  t.match(r, { ok: true, message: /disk 0 .* partitioned \(GPT\) with 3 volume/ });
  const table = JSON.parse(execFileSync(which('sfdisk', env.searchPath)!, ['-J', disk], { encoding: 'utf8' })).partitiontable;
  t.equal(table.label, 'gpt');
  t.same(table.partitions.map((p: { name: string; type: string }) => [p.name, p.type]), [
    ['EFI', 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B'],
    ['MSR', 'E3C9E316-0B5C-4DB8-817D-F92DF00215AE'],
    ['Windows', 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7'],
  ]);
  const blkid = which('blkid', env.searchPath);
  if (blkid) {
    const probe = (sector: number) => execFileSync(blkid, ['-p', '-O', String(sector * 512), disk], { encoding: 'utf8' });
    t.match(probe(table.partitions[0].start), /TYPE="vfat"/, 'the EFI volume is FAT');
    t.match(probe(table.partitions[2].start), /TYPE="ext4"/, 'the ntfs volume is ext4 on this engine');
  }
  t.same([env.vars.get('EfiDisk'), env.vars.get('OSDisk')], ['disk0p1', 'disk0p3']);
  t.match(await executeStep(step('f', 'FormatAndPartitionDisk', { diskNumber: 1, partitions }), env), { ok: false, message: 'disk 1 has no disk image here (start the engine with --disk 1=FILE)' });
  t.match(await executeStep(step('f', 'FormatAndPartitionDisk', { diskNumber: 0, partitions: ['size=1TB'] }), env), { ok: false, message: /does not fit/ });
  const mbr = await executeStep(step('f', 'FormatAndPartitionDisk', { diskNumber: 0, diskType: 'mbr', partitions: ['name=Boot;size=50MB;fs=fat32;boot=true', 'size=100%;fs=ntfs'] }), env);
  t.match(mbr, { ok: true, message: /MBR/ });
  t.equal(JSON.parse(execFileSync(which('sfdisk', env.searchPath)!, ['-J', disk], { encoding: 'utf8' })).partitiontable.label, 'dos');
});

const LINUX_DATA = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';
const BASIC_DATA = 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7';
const ESP = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
const BIOS_BOOT = '21686148-6449-6E6F-744E-656564454649';
/** The partitions of an image file as `sfdisk --json` reads them back. */
const sfdiskJson = (disk: string): { label: string; partitions: { name?: string; type: string; bootable?: boolean }[] } =>
  JSON.parse(execFileSync(which('sfdisk', sbinEnv.searchPath)!, ['--json', disk], { encoding: 'utf8' })).partitiontable;

t.test('R-29 Format and Partition Disk: a Linux root gets the Linux filesystem data type, Windows volumes basic data', { skip: diskTools.length > 0 && `${diskTools.join(', ')} not found (Debian packages fdisk, dosfstools, e2fsprogs)` }, async (t) => {
  const dir = tempDir(t);
  const disk = path.join(dir, 'disk0.img');
  writeFileSync(disk, '');
  truncateSync(disk, 256 * 1024 * 1024);
  const env = stepEnv(t, { disks: new Map([[0, disk]]), ...sbinEnv });
  // The install-linux template's layout, and a data volume for Windows after it.
  const gptParts = ['name=BIOS boot;type=biosboot;size=1MB;fs=none', 'name=EFI;type=efi;size=50MB;fs=fat32', 'name=Linux;type=primary;size=100MB;fs=ext4', 'name=Data;size=100%;fs=ntfs'];
  const gpt = await executeStep(step('f', 'FormatAndPartitionDisk', { diskNumber: 0, diskType: 'gpt', partitions: gptParts }), env);
  t.match(gpt, { ok: true, message: /partitioned \(GPT\) with 4 volume/ }, gpt.ok ? '' : String(gpt.output));
  const table = sfdiskJson(disk);
  t.equal(table.label, 'gpt');
  t.same(table.partitions.map((p) => [p.name, p.type]), [
    ['BIOS boot', BIOS_BOOT],
    ['EFI', ESP],
    ['Linux', LINUX_DATA],
    ['Data', BASIC_DATA],
  ], 'BIOS boot, ESP, Linux filesystem data for ext4, basic data for ntfs');

  const mbrParts = ['name=Boot;size=50MB;fs=fat32;boot=true', 'name=Linux;size=100MB;fs=ext4', 'size=100%;fs=ntfs'];
  const mbr = await executeStep(step('f', 'FormatAndPartitionDisk', { diskNumber: 0, diskType: 'mbr', partitions: mbrParts }), env);
  t.match(mbr, { ok: true, message: /MBR/ }, mbr.ok ? '' : String(mbr.output));
  const dos = sfdiskJson(disk);
  t.equal(dos.label, 'dos');
  t.same(dos.partitions.map((p) => [p.type, p.bootable ?? false]), [['7', true], ['83', false], ['7', false]], 'MBR: 0x83 for ext4, the FAT and NTFS volumes keep 0x07');
});

t.test('R-29 partition types for every Linux file system, written by sfdisk to an image file', { skip: !has('sfdisk') && 'sfdisk not found (Debian package fdisk)' }, async (t) => {
  const fss = ['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'ntfs', 'fat32', 'none'];
  for (const gpt of [true, false]) {
    const volumes = [...(gpt ? ['type=biosboot;size=1MB;fs=none'] : []), 'type=efi;size=10MB;fs=fat32', ...fss.map((fs) => `type=primary;size=10MB;fs=${fs}`)].map(parseVolume);
    if (!gpt) volumes.splice(4); // four primary partitions at most
    const disk = path.join(tempDir(t), 'disk.img');
    writeFileSync(disk, '');
    truncateSync(disk, 128 * 1024 * 1024);
    const script = sfdiskScript(volumes, layout(volumes, (128 * 1024 * 1024) / SECTOR, gpt), gpt);
    execFileSync(which('sfdisk', sbinEnv.searchPath)!, ['--no-reread', '--no-tell-kernel', '--wipe', 'always', disk], { input: script, stdio: ['pipe', 'ignore', 'pipe'] });
    const types = sfdiskJson(disk).partitions.map((p) => p.type);
    const want = gpt
      ? [BIOS_BOOT, ESP, LINUX_DATA, LINUX_DATA, LINUX_DATA, LINUX_DATA, LINUX_DATA, BASIC_DATA, BASIC_DATA, BASIC_DATA]
      : ['ef', '83', '83', '83'];
    t.same(types, want, gpt ? 'GPT' : 'MBR');
    t.same(volumes.map((v) => partitionType(v, gpt).toUpperCase()), want.map((w) => w.toUpperCase()), `partitionType agrees (${gpt ? 'GPT' : 'MBR'})`);
  }
  t.equal(partitionType(parseVolume('type=recovery;fs=ext4'), true), 'DE94BBA4-06D1-4D40-A16A-BFD50179D6AC', 'a recovery volume keeps its type whatever its file system');
  t.equal(partitionType(parseVolume('type=msr;fs=none'), true), 'E3C9E316-0B5C-4DB8-817D-F92DF00215AE');
  t.equal(partitionType(parseVolume('fs=xfs'), false), '83', 'type= defaults to primary');
  t.equal(partitionType(parseVolume('type=msr;fs=fat32'), false), 'c', 'MBR has no MSR: FAT32 as before');
});
