/**
 * A machine booted from UEFI media: the boot image starts `osdeploy-engine` with no
 * media flags and the kernel command line names the media (`osdeploy.media=<id>`). The engine
 * as a child process, with a fake system root (OSDEPLOY_ENGINE_SYSROOT: command line, mount
 * table) over real media built by a real site: it finds the media among the mounted
 * filesystems and runs it offline as `--media DIR` would; a media of another id is not used;
 * a missing one is a clear error naming the places searched, unless the command line has
 * enough to run online; the command line's preferred/unattended never override found media.
 * As root with loop devices and a kernel that mounts FAT, it also mounts a FAT stick itself.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { findTool } from '../../../media/boot-media/tools.js';
import { SYSROOT_ENV } from '../../../media/engine/kernel.js';
import { missingFor } from '../boot-media/fixture.js';
import { runEngine } from './engine-process.js';
import { countingServer, kinds, offlineSite, outboxMessages, standaloneMedia } from './standalone-fixture.js';
import { tempDir } from './step-env.js';
import { fakeSysroot } from './sysroot.js';

const skip = missingFor('folder');
const MAC = '02:aa:bb:00:00:80';

/** Another media's folder: only its header, with another id. */
function otherMedia(dir: string): string {
  mkdirSync(path.join(dir, 'osdeploy'), { recursive: true });
  const header = { format: 'osdeploy-media', version: 1, id: 'PS1M99999', type: 'bootable', siteCode: 'PS1', site: 'http://192.0.2.1', architecture: 'x64', bootImageId: 'PS100001', createdAt: '2026-03-02T09:00:00.000Z', expiresAt: null, protected: false, mediaForm: 'usb' };
  writeFileSync(path.join(dir, 'osdeploy', 'media.json'), JSON.stringify(header));
  return dir;
}

t.test('R-25 the engine finds the standalone media the kernel command line names among the mounted filesystems and runs it offline', { skip }, async (t) => {
  const o = await offlineSite(t);
  const counter = await countingServer(t);
  const dep = await o.deploy('Found by id', [
    { name: 'Hello', type: 'RunCommandLine', properties: { commandLine: 'echo %Greeting% %_SMSTSMediaType% > hello.txt' } },
    { name: 'Install tools', type: 'InstallPackage', properties: { packageId: o.toolsId, programName: 'Install' } },
  ]);
  const media = await standaloneMedia(t, o.s, { deploymentId: dep, allowUnattended: true, siteUrl: counter.url });
  const other = otherMedia(path.join(tempDir(t), 'other'));
  const cmdline = `BOOT_IMAGE=/boot/files/vmlinuz quiet osdeploy.site=${counter.url} osdeploy.media=${media.id} osdeploy.arch=x64 osdeploy.preferred=${dep} osdeploy.unattended=true`;
  const env = { [SYSROOT_ENV]: fakeSysroot(t, { cmdline, mounts: [{ device: '/dev/sdc1', dir: other, type: 'vfat' }, { device: '/dev/sdb1', dir: media.dir, type: 'vfat' }] }) };
  const root = tempDir(t);
  const state = tempDir(t);
  const r = await runEngine(t, ['--root', root, '--state', state, '--mac', MAC, '--arch', 'x64'], env);
  if (r.code !== 0) t.comment(r.stderr);
  t.equal(r.code, 0, 'the run finished');
  t.match(r.stderr, new RegExp(`the kernel command line names media ${media.id} \\(osdeploy\\.media=\\): looking for it`));
  t.match(r.stderr, /media search: mounted .*other \(vfat \/dev\/sdc1\): holds media PS1M99999, not /, 'the other media was looked at and not used');
  t.match(r.stderr, new RegExp(`media ${media.id} found: mounted at ${media.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(vfat /dev/sdb1`));
  t.match(r.stderr, /osdeploy\.preferred= and osdeploy\.unattended= on the kernel command line not used: the media's own variables apply/);
  t.match(r.stderr, new RegExp(`booted from standalone media ${media.id}: runs offline, no site is asked`));
  t.match(r.stderr, /osdeploy\/content\.json of media .* matches the media's policy: \d+ content object\(s\)/);
  t.equal(readFileSync(path.join(root, 'hello.txt'), 'utf8'), 'hello-offline FullMedia\n', 'the first step ran with the media’s variables');
  t.equal(readFileSync(path.join(root, 'opt', 'tools', 'payload.txt'), 'utf8'), 'tool bits from the media\n', 'content came from the media found');
  t.same(kinds(outboxMessages(state)), ['runStarted', 'stepStarted Hello', 'stepSucceeded Hello', 'stepStarted Install tools', 'stepSucceeded Install tools', 'runFinished']);
  t.same(counter.requests, [], 'offline: no request to the site');
  t.match(readFileSync(path.join(state, 'engine.log'), 'utf8'), /media search: mounted .*other/, 'the search is in the engine log too');
});

t.test('R-25 media of another id are not used; a missing media is a clear error naming the places searched', { skip }, async (t) => {
  const other = otherMedia(path.join(tempDir(t), 'other'));
  const base = (cmdline: string, mounts = [{ device: '/dev/sdc1', dir: other, type: 'vfat' }]) => ({ [SYSROOT_ENV]: fakeSysroot(t, { cmdline, mounts }) });
  const root = tempDir(t);
  const args = ['--root', root, '--state', tempDir(t), '--mac', MAC, '--arch', 'x64'];

  const missing = await runEngine(t, args, base('quiet osdeploy.media=PS1M00042 osdeploy.arch=x64'));
  t.equal(missing.code, 2, 'nothing runs');
  t.match(missing.stderr, /osdeploy-engine: media PS1M00042 \(osdeploy\.media= on the kernel command line\) was not found; searched: mounted .*other \(vfat \/dev\/sdc1\) \(holds media PS1M99999, not PS1M00042\)/);
  // Root tries the devices (none exist under the fake root); anyone else is told it could not.
  t.match(missing.stderr, process.getuid?.() === 0 ? /dev\/disk\/by-label\/OSDEPLOY \(not present\); .*dev\/sr0 \(not present\)/ : /block devices \(not tried: only root can mount them\)/);
  t.match(missing.stderr, /the kernel command line has no osdeploy\.site= to run online instead/);
  t.same(readdirSync(root), [], 'no step ran');

  // A sealed media's command line (site, no preferred): online needs a token the media kept.
  const noToken = await runEngine(t, args, base('osdeploy.site=http://127.0.0.1:9 osdeploy.media=PS1M00042'));
  t.equal(noToken.code, 2);
  t.match(noToken.stderr, /was not found; searched: .*; it cannot run online from osdeploy\.site=http:\/\/127\.0\.0\.1:9 instead: no client token/);
  // A plain media's command line without SMSTSPreferredAdvertID says too little.
  const noPreferred = await runEngine(t, [...args, '--token', 'osd_x'], base('osdeploy.site=http://127.0.0.1:9 osdeploy.media=PS1M00042 osdeploy.unattended=true'));
  t.equal(noPreferred.code, 2);
  t.match(noPreferred.stderr, /it cannot run online instead: the kernel command line of media without a password has no osdeploy\.preferred=/);
  const badId = await runEngine(t, args, base('osdeploy.media=../../etc'));
  t.equal(badId.code, 2);
  t.match(badId.stderr, /osdeploy\.media="\.\.\/\.\.\/etc" on the kernel command line is not a media id/);
});

t.test('R-20 media not found but the command line has site, token and SMSTSPreferredAdvertID: the engine runs online, preferred and unattended from the command line', { skip }, async (t) => {
  const o = await offlineSite(t);
  const steps = [{ name: 'Hello', type: 'RunCommandLine', properties: { commandLine: 'echo online > hello.txt' } }];
  const hidden = await o.deploy('Online hidden', steps, { availability: 'mediaPxeHidden' });
  const cmdline = `quiet osdeploy.site=${o.s.url} osdeploy.media=PS1M00404 osdeploy.arch=x64 osdeploy.preferred=${hidden} osdeploy.unattended=true osdeploy.token=${o.s.clientToken}`;
  const env = { [SYSROOT_ENV]: fakeSysroot(t, { cmdline }) };
  const root = tempDir(t);
  const r = await runEngine(t, ['--root', root, '--state', tempDir(t), '--mac', '02:aa:bb:00:00:81', '--arch', 'x64'], env);
  if (r.code !== 0) t.comment(r.stderr);
  t.equal(r.code, 0, 'the hidden deployment ran: preferred and unattended came from the command line (R-20)');
  t.match(r.stderr, new RegExp(`media PS1M00404 was not found \\(searched \\d+ place\\(s\\)\\); running online from the kernel command line as a --media-vars run would: site ${o.s.url.replace(/[.]/g, '\\.')}, SMSTSPreferredAdvertID=${hidden}, unattended true`));
  t.equal(readFileSync(path.join(root, 'hello.txt'), 'utf8'), 'online\n');
  t.match(await o.s.api('GET', `/deployments/${hidden}/status`), { counts: { success: 1 } });
});

t.test('R-20 found media keep their own variables: osdeploy.preferred= and osdeploy.unattended= on the command line change nothing', { skip }, async (t) => {
  const o = await offlineSite(t);
  const counter = await countingServer(t);
  const dep = await o.deploy('Attended only', [{ name: 'Hello', type: 'RunCommandLine', properties: { commandLine: 'echo hello > hello.txt' } }]);
  const password = 'Cmdline-Pa55word';
  // Sealed media that do not allow unattended deployment; the command line claims otherwise.
  const media = await standaloneMedia(t, o.s, { deploymentId: dep, allowUnattended: false, password, siteUrl: counter.url });
  const cmdline = `osdeploy.site=${counter.url} osdeploy.media=${media.id} osdeploy.arch=x64 osdeploy.preferred=${dep} osdeploy.unattended=true`;
  const sysroot = fakeSysroot(t, { cmdline, mounts: [{ device: '/dev/sr0', dir: media.dir, type: 'iso9660' }] });
  const root = tempDir(t);
  const args = ['--root', root, '--state', tempDir(t), '--mac', '02:aa:bb:00:00:82', '--arch', 'x64'];

  const locked = await runEngine(t, args, { [SYSROOT_ENV]: sysroot });
  t.equal(locked.code, 2, 'found, but sealed: the password is needed as for --media DIR');
  t.match(locked.stderr, /password-protected; give its password/);
  const r = await runEngine(t, args, { [SYSROOT_ENV]: sysroot, OSDEPLOY_MEDIA_PASSWORD: password });
  t.equal(r.code, 5, 'an Available deployment on attended media needs a choice, whatever the command line says');
  t.match(r.stderr, /on the kernel command line not used: the media's own variables apply/);
  t.match(r.stderr, /osdeploy\/content\.json of media .* matches the sealed policy/);
  t.match(r.stderr, new RegExp(`a choice is needed; offered: ${dep}`));
  t.notOk(existsSync(path.join(root, 'hello.txt')), 'nothing ran');
  t.same(counter.requests, []);
});

/** Why the loop-device test cannot run here, or false: it needs root, the tools, and a kernel that mounts FAT. */
function loopSkip(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (losetup, mount)';
  for (const [tool, pkg] of [['mkfs.vfat', 'dosfstools'], ['mcopy', 'mtools'], ['losetup', 'mount'], ['mount', 'mount'], ['umount', 'mount']] as const) {
    if (!findTool(tool)) return `${tool} is not installed (apt-get install ${pkg})`;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'osdeploy-loop-probe-'));
  let loop = '';
  try {
    writeFileSync(path.join(dir, 'probe.img'), Buffer.alloc(2 * 2 ** 20));
    execFileSync('mkfs.vfat', [path.join(dir, 'probe.img')], { stdio: 'ignore' });
    loop = execFileSync('losetup', ['--find', '--show', path.join(dir, 'probe.img')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    mkdirSync(path.join(dir, 'mnt'));
    execFileSync('mount', ['-t', 'vfat', '-o', 'ro', loop, path.join(dir, 'mnt')], { stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('umount', [path.join(dir, 'mnt')]);
    return false;
  } catch (e) {
    const why = String((e as { stderr?: Buffer }).stderr ?? '').trim().split('\n')[0] || (e as Error).message;
    return `this machine cannot mount a FAT loop device: ${why}`;
  } finally {
    if (loop) execFileSync('losetup', ['-d', loop]);
    rmSync(dir, { recursive: true, force: true });
  }
}

t.test('R-25 as root: no media mounted, the engine mounts the FAT stick itself (loop devices), unmounting the one that is not it', { skip: skip || loopSkip() }, async (t) => {
  const o = await offlineSite(t);
  const counter = await countingServer(t);
  const dep = await o.deploy('From a stick', [
    { name: 'Hello', type: 'RunCommandLine', properties: { commandLine: 'echo stick > hello.txt' } },
    { name: 'Install tools', type: 'InstallPackage', properties: { packageId: o.toolsId, programName: 'Install' } },
  ]);
  const media = await standaloneMedia(t, o.s, { deploymentId: dep, allowUnattended: true, siteUrl: counter.url });
  const work = tempDir(t);
  const state = tempDir(t);
  const loops: string[] = [];
  t.teardown(() => {
    // Whatever the engine left mounted under the state folder, then the loop devices.
    const mountsDir = path.join(state, 'media-mounts');
    for (const m of existsSync(mountsDir) ? readdirSync(mountsDir) : []) {
      try {
        execFileSync('umount', [path.join(mountsDir, m)], { stdio: 'ignore' });
      } catch {
        // not mounted
      }
    }
    for (const l of loops) {
      try {
        execFileSync('losetup', ['-d', l], { stdio: 'ignore' });
      } catch {
        // already detached
      }
    }
  });
  /** A FAT image holding `folder` (mkfs.vfat, then mcopy: no mount needed), attached to a loop device. */
  const stick = (name: string, folder: string, label: string): string => {
    const img = path.join(work, `${name}.img`);
    const bytes = execFileSync('du', ['-sb', folder], { encoding: 'utf8' }).split('\t')[0];
    writeFileSync(img, Buffer.alloc(0));
    execFileSync('truncate', ['-s', String(Math.max(16 * 2 ** 20, Number(bytes) * 2 + 8 * 2 ** 20)), img]);
    execFileSync('mkfs.vfat', ['-n', label, img], { stdio: 'ignore' });
    execFileSync('mcopy', ['-s', '-i', img, ...readdirSync(folder).map((f) => path.join(folder, f)), '::/'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
    const loop = execFileSync('losetup', ['--find', '--show', img], { encoding: 'utf8' }).trim();
    loops.push(loop);
    return loop;
  };
  const wrong = stick('wrong', otherMedia(path.join(work, 'other')), 'OSDEPLOY');
  const right = stick('right', media.dir, 'USBSTICK');
  t.ok(statSync(right).isBlockDevice());
  // The wrong stick carries the media label; ours shows up as a partition.
  const sysroot = fakeSysroot(t, {
    cmdline: `osdeploy.site=${counter.url} osdeploy.media=${media.id} osdeploy.arch=x64`,
    partitions: ['sdz1'],
    devices: { 'disk/by-label/OSDEPLOY': wrong, sdz1: right },
  });
  const root = tempDir(t);
  const r = await runEngine(t, ['--root', root, '--state', state, '--mac', '02:aa:bb:00:00:83', '--arch', 'x64'], { [SYSROOT_ENV]: sysroot });
  if (r.code !== 0) t.comment(r.stderr);
  t.equal(r.code, 0, 'the run from the stick finished');
  t.match(r.stderr, /by-label\/OSDEPLOY \(\/dev\/loop\d+\): vfat: holds media PS1M99999, not .*; unmounted/);
  t.match(r.stderr, new RegExp(`media ${media.id} found: .*sdz1 \\(/dev/loop\\d+\\) \\(vfat\\) mounted read-only at .*media-mounts/loop\\d+; it stays mounted for the run`));
  t.equal(readFileSync(path.join(root, 'hello.txt'), 'utf8'), 'stick\n');
  t.equal(readFileSync(path.join(root, 'opt', 'tools', 'payload.txt'), 'utf8'), 'tool bits from the media\n');
  const mounted = readFileSync('/proc/self/mounts', 'utf8');
  t.notMatch(mounted, new RegExp(`^${wrong} `, 'm'), 'the wrong stick is not mounted any more');
  t.match(mounted, new RegExp(`^${right} \\S+ vfat ro`, 'm'), 'ours is, read-only');
  t.same(counter.requests, []);
});
