/**
 * What stops a run from standalone media (R-20, R-25, issue 6), with real media and the engine
 * as a child process, and never a request to the media's site: a content blob altered or deleted
 * on the media fails the step that needs it, naming the file and its hash; a content list
 * (osdeploy/content.json) that no longer matches the one the policy carries — an object dropped
 * from it, or a blob swapped together with a list rewritten to fit, on sealed media too — refuses
 * the media before any step; an Available deployment on media that do not allow unattended
 * deployment needs the technician's choice (exit 5, then `--pick`), and a hidden one does not run.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { LAYOUT, type MediaContentEntry } from '../../../media/boot-media/model.js';
import { manifestHash } from '../../../media/engine/content/policy.js';
import { missingFor } from '../boot-media/fixture.js';
import { runEngine } from './engine-process.js';
import { countingServer, kinds, offlineSite, outboxMessages, standaloneMedia } from './standalone-fixture.js';
import { tempDir } from './step-env.js';

const skip = missingFor('folder');

t.test('R-25 a blob altered or deleted on the media fails the step that needs it and says which; a content list missing an object refuses the media', { skip }, async (t) => {
  const o = await offlineSite(t);
  const counter = await countingServer(t);
  const dep = await o.deploy('Offline tamper', [
    { name: 'Hello', type: 'RunCommandLine', properties: { commandLine: 'echo hello > hello.txt' } },
    { name: 'Install tools', type: 'InstallPackage', properties: { packageId: o.toolsId, programName: 'Install' } },
  ]);
  const media = await standaloneMedia(t, o.s, { deploymentId: dep, allowUnattended: true, siteUrl: counter.url });
  const contentFile = (dir: string) => path.join(dir, ...LAYOUT.content.split('/'));
  const list = JSON.parse(readFileSync(contentFile(media.dir), 'utf8')) as { content: MediaContentEntry[] };
  const install = list.content.find((c) => c.id === o.toolsId)!.files.find((f) => f.path === 'install.sh')!;
  const blob = (dir: string) => path.join(dir, LAYOUT.blobs, install.sha256);
  t.ok(existsSync(blob(media.dir)), 'the package file is on the media by its hash');

  const variants: [string, (dir: string) => void, RegExp][] = [
    ['altered', (dir) => writeFileSync(blob(dir), 'echo pwned > "$OSDEPLOY_ROOT/pwned.txt"\n'), new RegExp(`content ${o.toolsId} version 1 file install\\.sh: content/${install.sha256} on the media is damaged \\(sha256 [0-9a-f]{64}, expected ${install.sha256}\\)`)],
    ['deleted', (dir) => rmSync(blob(dir)), new RegExp(`content ${o.toolsId} version 1 file install\\.sh: content/${install.sha256} is missing from the media`)],
  ];
  for (const [what, damage, message] of variants) {
    const dir = path.join(tempDir(t, 'osdeploy-stick-'), 'stick');
    cpSync(media.dir, dir, { recursive: true });
    damage(dir);
    const root = tempDir(t);
    const state = tempDir(t);
    const r = await runEngine(t, ['--media', dir, '--root', root, '--state', state, '--mac', '02:aa:bb:00:00:62', '--arch', 'x64']);
    t.equal(r.code, 1, `${what}: the run failed`);
    t.match(r.stderr, message, `${what}: the log names the file`);
    t.ok(existsSync(path.join(root, 'hello.txt')), `${what}: the step before it ran`);
    t.notOk(existsSync(path.join(root, 'opt')) || existsSync(path.join(root, 'pwned.txt')), `${what}: nothing of the package ran`);
    const kept = outboxMessages(state);
    t.same(kinds(kept), ['runStarted', 'stepStarted Hello', 'stepSucceeded Hello', 'stepStarted Install tools', 'stepFailed Install tools', 'runFinished'], `${what}: reported`);
    t.match(kept.find((m) => m.kind === 'stepFailed'), { message }, `${what}: the status message names the file`);
    t.match(kept.at(-1), { outcome: 'failed' });
  }

  // content.json is checked against the policy's list when the media are opened: nothing runs.
  const dropped = path.join(tempDir(t, 'osdeploy-stick-'), 'stick');
  cpSync(media.dir, dropped, { recursive: true });
  writeFileSync(contentFile(dropped), JSON.stringify({ ...list, content: list.content.filter((c) => c.id !== o.toolsId) }));
  const root = tempDir(t);
  const state = tempDir(t);
  const r = await runEngine(t, ['--media', dropped, '--root', root, '--state', state, '--mac', '02:aa:bb:00:00:62', '--arch', 'x64']);
  t.equal(r.code, 2, 'not on the media: refused');
  t.match(r.stderr, new RegExp(`osdeploy/content\\.json on the media does not match the media's policy \\(osdeploy/variables\\.json, not sealed: this catches damage, not tampering\\): content ${o.toolsId} version 1 is named by the policy but not listed`));
  t.same(readdirSync(root), [], 'not on the media: no step ran');
  t.same(outboxMessages(state), [], 'not on the media: no run started');
  t.same(counter.requests, [], 'no request in any of the runs');
});

t.test('R-25 sealed standalone media: a blob swapped together with content.json rewritten to match is refused; untouched media run', { skip }, async (t) => {
  const o = await offlineSite(t);
  const counter = await countingServer(t);
  const dep = await o.deploy('Offline sealed content', [
    { name: 'Hello', type: 'RunCommandLine', properties: { commandLine: 'echo hello > hello.txt' } },
    { name: 'Install tools', type: 'InstallPackage', properties: { packageId: o.toolsId, programName: 'Install' } },
  ]);
  const password = 'Sealed-Content-9';
  const media = await standaloneMedia(t, o.s, { deploymentId: dep, allowUnattended: true, password, siteUrl: counter.url });
  const contentFile = (dir: string) => path.join(dir, ...LAYOUT.content.split('/'));
  const run = async (dir: string) => {
    const root = tempDir(t);
    const state = tempDir(t);
    const r = await runEngine(t, ['--media', dir, '--root', root, '--state', state, '--mac', '02:aa:bb:00:00:66', '--arch', 'x64', '--media-password', password]);
    return { ...r, root, state };
  };

  // Someone with the stick but not the password: a new install.sh as a blob, the list rewritten
  // consistently (the file's hash and size, the object's manifest hash), so every hash in content.json checks out.
  const evil = 'echo pwned > "$OSDEPLOY_ROOT/pwned.txt"\n';
  const evilSha = createHash('sha256').update(evil).digest('hex');
  const forged = path.join(tempDir(t, 'osdeploy-stick-'), 'stick');
  cpSync(media.dir, forged, { recursive: true });
  writeFileSync(path.join(forged, LAYOUT.blobs, evilSha), evil);
  const list = JSON.parse(readFileSync(contentFile(forged), 'utf8')) as { content: MediaContentEntry[] };
  const content = list.content.map((c) => {
    if (c.id !== o.toolsId) return c;
    const files = c.files.map((f) => (f.path === 'install.sh' ? { ...f, sha256: evilSha, size: Buffer.byteLength(evil) } : f));
    return { ...c, files, manifestSha256: manifestHash(files) };
  });
  writeFileSync(contentFile(forged), JSON.stringify({ ...list, content }));

  const refused = await run(forged);
  t.equal(refused.code, 2, 'refused before anything runs');
  t.match(refused.stderr, new RegExp(`osdeploy/content\\.json on the media does not match the sealed policy: content ${o.toolsId}: its file list hashes to [0-9a-f]{64}, sealed [0-9a-f]{64}`));
  t.same(readdirSync(refused.root), [], 'no step ran, the forged install.sh least of all');
  t.same(outboxMessages(refused.state), [], 'no run started');

  const untouched = await run(media.dir);
  if (untouched.code !== 0) t.comment(untouched.stderr);
  t.equal(untouched.code, 0, 'the media as built run');
  t.match(untouched.stderr, /osdeploy\/content\.json of media .* matches the sealed policy: \d+ content object\(s\)/);
  t.equal(readFileSync(path.join(untouched.root, 'opt', 'tools', 'payload.txt'), 'utf8'), 'tool bits from the media\n');
  t.notOk(existsSync(path.join(untouched.root, 'pwned.txt')));
  t.same(counter.requests, [], 'no request to the site');
});

t.test('R-20 media that do not allow unattended deployment: an Available deployment needs a choice, a hidden one never runs', { skip }, async (t) => {
  const o = await offlineSite(t);
  const counter = await countingServer(t);
  const steps = [{ name: 'Hello', type: 'RunCommandLine', properties: { commandLine: 'echo hello > hello.txt' } }];
  const available = await o.deploy('Offline available', steps);
  const hidden = await o.deploy('Offline hidden', steps, { availability: 'mediaPxeHidden' });
  const args = (dir: string, root: string) => ['--media', dir, '--root', root, '--state', tempDir(t), '--mac', '02:aa:bb:00:00:63', '--arch', 'x64'];

  const attended = await standaloneMedia(t, o.s, { deploymentId: available, allowUnattended: false, siteUrl: counter.url });
  const root = tempDir(t);
  const unpicked = await runEngine(t, args(attended.dir, root));
  t.equal(unpicked.code, 5, 'a choice is needed (exit 5)');
  t.match(unpicked.stderr, new RegExp(`a choice is needed; offered: ${available} \\(Offline available\\)\\. Start again with --pick ${available}`));
  t.notOk(existsSync(path.join(root, 'hello.txt')), 'nothing ran');
  const wrongPick = await runEngine(t, [...args(attended.dir, root), '--pick', 'PS129999']);
  t.equal(wrongPick.code, 5, 'a pick of a deployment the media does not carry is no choice');
  const picked = await runEngine(t, [...args(attended.dir, root), '--pick', available]);
  t.equal(picked.code, 0, 'the technician’s choice runs it');
  t.equal(readFileSync(path.join(root, 'hello.txt'), 'utf8'), 'hello\n');

  const hiddenMedia = await standaloneMedia(t, o.s, { deploymentId: hidden, allowUnattended: false, siteUrl: counter.url });
  const hiddenRoot = tempDir(t);
  const none = await runEngine(t, [...args(hiddenMedia.dir, hiddenRoot), '--pick', hidden]);
  t.equal(none.code, 0, 'nothing to run');
  t.match(none.stderr, new RegExp(`nothing to run: deployment ${hidden} is hidden: it runs only through SMSTSPreferredAdvertID on media that allow unattended deployment`));
  t.notOk(existsSync(path.join(hiddenRoot, 'hello.txt')));
  t.same(counter.requests, [], 'no request to the site');
});
