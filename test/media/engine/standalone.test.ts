/**
 * Standalone media run offline (R-25, R-29, issue 6): real media built by the site, unpacked like
 * a USB stick, and the engine as a child process. The media's site is a server that counts
 * requests: the run (across a Restart Computer step) makes none — no policy, no content, no
 * registration — yet runs command lines, downloads and installs a package, applies an OS image
 * and drivers, all read from the media by hash. Its status messages wait in the outbox and reach
 * the real site later with `--flush-outbox`, which registers the machine first.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { PARTITION_OFFSET } from '../../../media/boot-media/disk.js';
import { LAYOUT, type MediaContentEntry } from '../../../media/boot-media/model.js';
import { missingFor } from '../boot-media/fixture.js';
import { runEngine, spawnEngine } from './engine-process.js';
import { countingServer, kinds, offlineSite, outboxMessages, standaloneMedia } from './standalone-fixture.js';
import { tempDir } from './step-env.js';

const MAC = '02:aa:bb:00:00:60';
const skip = missingFor('folder');

t.test('R-25/R-29 standalone media: the whole run, across a restart, with no request to any site; the status reaches the site later', { skip }, async (t) => {
  const o = await offlineSite(t);
  const counter = await countingServer(t);
  const dep = await o.deploy('Offline full', [
    { name: 'Hello', type: 'RunCommandLine', properties: { commandLine: 'echo %Greeting% %OSDComputerName% %_SMSTSMediaType% %_SMSTSMacAddresses% > hello.txt' } },
    { name: 'Download tools', type: 'DownloadPackageContent', properties: { packageIds: [o.toolsId], saveLocationVariable: 'ToolsPath' } },
    { name: 'Apply OS', type: 'ApplyOperatingSystemImage', properties: { osImageId: o.imageId } },
    { name: 'Install tools', type: 'InstallPackage', properties: { packageId: o.toolsId, programName: 'Install' } },
    { name: 'Reboot', type: 'RestartComputer' },
    { name: 'After restart', type: 'RunCommandLine', properties: { commandLine: 'cat "%ToolsPath01%/payload.txt" > after.txt' } },
    { name: 'Drivers', type: 'ApplyDriverPackage', properties: { driverPackageId: o.driversId } },
  ]);
  const media = await standaloneMedia(t, o.s, { deploymentId: dep, allowUnattended: true, siteUrl: counter.url, variables: { OSDComputerName: 'OFFLINE-01' } });
  const root = tempDir(t);
  const state = tempDir(t);
  const args = ['--media', media.dir, '--root', root, '--state', state, '--mac', MAC, '--arch', 'x64', '--wait-site', '30', '--flush-timeout', '30'];

  const first = await runEngine(t, args);
  if (first.code !== 3) t.comment(first.stderr);
  t.equal(first.code, 3, 'the first start ends at the Restart Computer step');
  t.match(first.stderr, /booted from standalone media .*: runs offline, no site is asked/);
  t.notOk(existsSync(path.join(root, 'after.txt')), 'nothing after the restart ran yet');
  const second = await runEngine(t, args);
  if (second.code !== 0) t.comment(second.stderr);
  t.equal(second.code, 0, 'the second start (with --media again) finishes the run');
  t.match(second.stderr, /resuming run .* after a restart/);
  t.same(counter.requests, [], 'no HTTP request reached the media’s site in either start');

  t.equal(readFileSync(path.join(root, 'hello.txt'), 'utf8'), `hello-offline OFFLINE-01 FullMedia ${MAC.toUpperCase()}\n`, 'collection, media and built-in variables (R-23, R-24)');
  t.equal(readFileSync(path.join(root, 'etc', 'os-release'), 'utf8'), 'NAME=OfflineOS\n', 'the OS image was applied from the media');
  t.equal(readFileSync(path.join(root, 'opt', 'tools', 'payload.txt'), 'utf8'), 'tool bits from the media\n', 'the package program ran from content read off the media');
  t.equal(readFileSync(path.join(root, 'after.txt'), 'utf8'), 'tool bits from the media\n', 'the download location survived the restart');
  t.equal(readFileSync(path.join(root, 'drivers', o.driversId, 'nic', 'nic.inf'), 'utf8'), '[Version]\nOffline\n');
  t.match(second.stderr, /status message\(s\) of this offline run are kept in .*outbox/);

  // every message is on disk, none sent; the machine is not registered yet.
  const kept = outboxMessages(state);
  t.same(kinds(kept), [
    'runStarted',
    'stepStarted Hello', 'stepSucceeded Hello',
    'stepStarted Download tools', 'stepSucceeded Download tools',
    'stepStarted Apply OS', 'stepSucceeded Apply OS',
    'stepStarted Install tools', 'stepSucceeded Install tools',
    'stepStarted Reboot', 'stepSucceeded Reboot',
    'stepStarted After restart', 'stepSucceeded After restart',
    'stepStarted Drivers', 'stepSucceeded Drivers',
    'runFinished',
  ]);
  t.ok(kept.every((m) => m.computerId === undefined && m.deploymentId === dep), 'no computer id yet: the machine registers when its status reaches a site');
  t.match(kept.at(-1), { kind: 'runFinished', outcome: 'success' });
  t.match(kept.find((m) => m.step?.name === 'Install tools' && m.kind === 'stepSucceeded'), { outputTail: /verified and copied from the media/ });
  t.ok(readdirSync(path.join(state, 'outbox')).includes('registration.pending'), 'the registration waits beside them');
  t.same((await o.s.api<{ items: unknown[] }>('GET', `/computers?mac=${MAC}`)).items, [], 'the site has heard nothing');

  // Later, with a site: the outbox goes, the machine is registered under the media's name.
  const flush = await runEngine(t, ['--flush-outbox', '--state', state, '--site', o.s.url, '--token', o.s.clientToken]);
  if (flush.code !== 0) t.comment(flush.stderr);
  t.equal(flush.code, 0, '--flush-outbox sent everything');
  t.match(flush.stderr, /registered now \(R-17\); \d+ status message\(s\) of an offline run go with its id/);
  t.same(outboxMessages(state), [], 'the outbox is empty');
  t.notOk(existsSync(path.join(state, 'outbox', 'registration.pending')));
  const pcs = await o.s.api<{ items: { id: string; name: string }[] }>('GET', `/computers?mac=${MAC}`);
  t.match(pcs.items, [{ name: 'OFFLINE-01' }], 'registered with the media’s OSDComputerName (R-17)');
  const history = await o.s.api<{ runs: { state: string; source: string; deploymentId: string }[]; messages: { items: { kind: string; step?: { name: string } }[] } }>('GET', `/computers/${pcs.items[0]!.id}/status?limit=1000`);
  t.match(history.runs, [{ state: 'success', source: 'media', deploymentId: dep }]);
  t.same(kinds(history.messages.items.slice().reverse()), kinds(kept), 'every message arrived, in order');
  t.match(await o.s.api('GET', `/deployments/${dep}/status`), { counts: { success: 1 } });
  t.same(counter.requests, [], 'and the media’s own site address was never used');

  const again = await runEngine(t, ['--flush-outbox', '--state', state, '--site', o.s.url, '--token', o.s.clientToken]);
  t.equal(again.code, 0);
  t.match(again.stderr, /is empty: nothing to send/);
});

t.test('R-25 password-protected standalone media run offline with the right password; a wrong one stops before any step', { skip }, async (t) => {
  const o = await offlineSite(t);
  const dep = await o.deploy('Offline sealed', [
    { name: 'Hello', type: 'RunCommandLine', properties: { commandLine: 'echo %Greeting% > hello.txt' } },
    { name: 'Install tools', type: 'InstallPackage', properties: { packageId: o.toolsId, programName: 'Install' } },
  ]);
  const password = 'Offline-Pa55word';
  const media = await standaloneMedia(t, o.s, { deploymentId: dep, allowUnattended: true, password, siteUrl: 'http://127.0.0.1:9' });
  const root = tempDir(t);
  const state = tempDir(t);
  const args = ['--media', media.dir, '--root', root, '--state', state, '--mac', '02:aa:bb:00:00:61', '--arch', 'x64'];

  const wrong = await runEngine(t, [...args, '--media-password', 'not-the-password']);
  t.equal(wrong.code, 2, 'refused');
  t.match(wrong.stderr, /wrong media password/);
  t.same(readdirSync(root), [], 'no step ran');
  t.same(outboxMessages(state), [], 'no run started');
  const none = await runEngine(t, args);
  t.equal(none.code, 2);
  t.match(none.stderr, /password-protected; give its password/);

  const right = await runEngine(t, [...args, '--media-password', password, '--flush-timeout', '30']);
  if (right.code !== 0) t.comment(right.stderr);
  t.equal(right.code, 0, 'the sealed policy ran with the site at a closed port');
  t.equal(readFileSync(path.join(root, 'hello.txt'), 'utf8'), 'hello-offline\n');
  t.equal(readFileSync(path.join(root, 'opt', 'tools', 'payload.txt'), 'utf8'), 'tool bits from the media\n');
  t.notMatch(right.stderr, /cannot reach the site/, 'it never tried');
  t.equal(outboxMessages(state).filter((m) => m.kind === 'runFinished').length, 1);

  // Any later online start sends the offline run's status first (here: a boot with nothing to run).
  const online = await runEngine(t, ['--site', o.s.url, '--token', o.s.clientToken, '--root', tempDir(t), '--state', state, '--mac', '02:aa:bb:00:00:61', '--arch', 'x64', '--source', 'media']);
  if (online.code !== 0) t.comment(online.stderr);
  t.equal(online.code, 0, 'the online start had nothing to run');
  t.match(online.stderr, /registered now \(R-17\); \d+ status message\(s\) of an offline run go with its id/);
  t.same(outboxMessages(state), [], 'delivered at the start of the online run');
  t.match(await o.s.api('GET', `/deployments/${dep}/status`), { counts: { success: 1 } });
});

t.test('R-25 prestaged media: the OS image laid out under os/ on the disk image is applied offline, verified file by file', { skip: missingFor('raw') }, async (t) => {
  const o = await offlineSite(t);
  const counter = await countingServer(t);
  const dep = await o.deploy('Factory image', [
    { name: 'Apply OS', type: 'ApplyOperatingSystemImage', properties: { osImageId: o.imageId } },
    { name: 'Install tools', type: 'InstallPackage', properties: { packageId: o.toolsId, programName: 'Install' } },
  ]);
  const img = await standaloneMedia(t, o.s, { type: 'prestaged', format: 'raw', deploymentId: dep, allowUnattended: true, siteUrl: counter.url });
  // The factory mounts the disk's FAT32 partition; mtools copies it out the same way, with no loop device.
  const mounted = tempDir(t, 'osdeploy-partition-');
  execFileSync('mcopy', ['-s', '-n', '-i', `${img.file}@@${PARTITION_OFFSET}`, '::/*', mounted], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  const list = JSON.parse(readFileSync(path.join(mounted, ...LAYOUT.content.split('/')), 'utf8')) as { content: MediaContentEntry[] };
  t.match(list.content.find((c) => c.id === o.imageId), { root: 'os', files: [{ path: 'install.tar' }] }, 'the OS image is laid out by path');
  t.ok(existsSync(path.join(mounted, 'os', 'install.tar')));

  const args = (dir: string, root: string) => ['--media', dir, '--root', root, '--state', tempDir(t), '--mac', '02:aa:bb:00:00:64', '--arch', 'x64'];
  const root = tempDir(t);
  const r = await runEngine(t, args(mounted, root));
  if (r.code !== 0) t.comment(r.stderr);
  t.equal(r.code, 0, 'the factory run finished offline');
  t.match(r.stderr, /booted from prestaged media/);
  t.equal(readFileSync(path.join(root, 'etc', 'os-release'), 'utf8'), 'NAME=OfflineOS\n', 'applied from os/install.tar');
  t.equal(readFileSync(path.join(root, 'opt', 'tools', 'payload.txt'), 'utf8'), 'tool bits from the media\n', 'other content still by hash');

  writeFileSync(path.join(mounted, 'os', 'install.tar'), 'not the image');
  const damaged = await runEngine(t, args(mounted, tempDir(t)));
  t.equal(damaged.code, 1);
  t.match(damaged.stderr, new RegExp(`content ${o.imageId} version 1 file install\\.tar: os/install\\.tar on the media is damaged \\(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\\)`));
  t.same(counter.requests, [], 'no request to the site');
});

t.test('R-29 a crash in a run from standalone media: the next start with --media resumes it, still offline', { skip }, async (t) => {
  const o = await offlineSite(t);
  const counter = await countingServer(t);
  // The long step marks its first attempt and waits to be killed; its second attempt is quick.
  const long = 'if [ -f attempt ]; then echo again >> log.txt; else echo $$ > pgid; echo first >> log.txt; touch attempt; sleep 60; fi';
  const dep = await o.deploy('Offline crashy', [
    { name: 'A', type: 'RunCommandLine', properties: { commandLine: 'echo a >> log.txt' } },
    { name: 'Long', type: 'RunCommandLine', properties: { commandLine: long } },
    { name: 'Tools', type: 'InstallPackage', properties: { packageId: o.toolsId, programName: 'Install' } },
  ], { purpose: 'required', assignments: [{ kind: 'asap' }] });
  const media = await standaloneMedia(t, o.s, { deploymentId: dep, allowUnattended: false, siteUrl: counter.url });
  const root = tempDir(t);
  const state = tempDir(t);
  const args = ['--media', media.dir, '--root', root, '--state', state, '--mac', '02:aa:bb:00:00:65', '--arch', 'x64'];

  const first = spawnEngine(t, args);
  await first.waitFor(/"Long" \(RunCommandLine\) started/);
  for (let i = 0; i < 1200 && !existsSync(path.join(root, 'attempt')); i++) await new Promise((r) => setTimeout(r, 25));
  first.kill();
  await first.exited;
  process.kill(-Number(readFileSync(path.join(root, 'pgid'), 'utf8')), 'SIGKILL');
  t.match(first.stderr(), /booted from standalone media/, 'a Required deployment runs without unattended (R-20)');

  const second = await runEngine(t, args);
  if (second.code !== 0) t.comment(second.stderr);
  t.equal(second.code, 0, 'the resumed run finished');
  t.match(second.stderr, /resuming run .* after an interruption \(step i\d+ runs again\)/);
  t.equal(readFileSync(path.join(root, 'log.txt'), 'utf8'), 'a\nfirst\nagain\n', 'A is not run again; Long is');
  t.equal(readFileSync(path.join(root, 'opt', 'tools', 'payload.txt'), 'utf8'), 'tool bits from the media\n');
  const kept = outboxMessages(state);
  t.same(kept.filter((m) => m.kind === 'stepStarted' && m.step?.name === 'Long').map((m) => m.resumed === true), [false, true], 'the re-run says so');
  t.equal(kept.filter((m) => m.kind === 'runStarted').length, 1, 'one run, not a new one');
  t.same(counter.requests, [], 'no request in either start');
});
