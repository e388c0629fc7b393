/**
 * The parts of a run from standalone media, one at a time (R-20, R-25, issue 6): reading real
 * media built with buildMedia (policy, content list), the media content fetcher (content/<sha256>
 * and the prestaged os/<path>, every file verified, nothing partial left), the R-20 decision for
 * the media's one deployment, an outbox with no site, and the options a standalone run needs.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { buildMedia } from '../../../media/boot-media/build.js';
import type { MediaContentEntry, MediaPolicyContent } from '../../../media/boot-media/model.js';
import { checkContentList, contentListProblems, MediaContentFetcher, mediaContentPolicy, mediaPathOf } from '../../../media/engine/content/media-fetcher.js';
import { manifestHash, type ContentItem } from '../../../media/engine/content/policy.js';
import { checkMediaPolicy, readMediaDir, type StandaloneMedia } from '../../../media/engine/media.js';
import { parseOptions, runsOffline } from '../../../media/engine/options.js';
import { Outbox } from '../../../media/engine/outbox.js';
import { decideStandalone } from '../../../media/engine/standalone.js';
import { contentFixture, missingFor, NOW, specFor } from '../boot-media/fixture.js';
import { tempDir } from './step-env.js';

const sha = (body: string) => createHash('sha256').update(body).digest('hex');
const POLICY = {
  deploymentId: 'PS120001', taskSequenceId: 'PS100003', taskSequenceName: 'TS', purpose: 'available', builtIns: {}, variables: [],
  taskSequence: { id: 'PS100003', name: 'TS', items: [] }, programs: { PS100004: [{ name: 'Install', commandLine: 'sh install.sh' }] },
};

/** A media folder by hand: a package by hash and a prestaged OS image by path. */
const FILES = { 'install.sh': 'echo install\n', 'sub/same.txt': 'echo install\n', 'sources/setup.cfg': '[setup]\n', 'install.wim': 'WIM'.repeat(1000) } as const;

function fakeMedia(dir: string): { media: StandaloneMedia; files: typeof FILES } {
  const files = FILES;
  const put = (rel: string, body: string) => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), body);
  };
  const ref = (p: keyof typeof files) => ({ path: p, sha256: sha(files[p]), size: Buffer.byteLength(files[p]) });
  const pkgFiles = [ref('install.sh'), ref('sub/same.txt')];
  const osFiles = [ref('install.wim'), ref('sources/setup.cfg')];
  put(`content/${sha(files['install.sh'])}`, files['install.sh']); // one blob for both files
  put('os/install.wim', files['install.wim']);
  put('os/sources/setup.cfg', files['sources/setup.cfg']);
  const content: MediaContentEntry[] = [
    { id: 'PS100004', kind: 'package', name: 'Tools', version: 2, manifestSha256: manifestHash(pkgFiles), root: 'content', files: pkgFiles },
    { id: 'PS100002', kind: 'osImage', name: 'OS', version: 1, manifestSha256: manifestHash(osFiles), root: 'os', files: osFiles },
    { id: 'PS100009', kind: 'package', name: 'No files', version: null, manifestSha256: null, root: 'content', files: [] },
  ];
  return { media: { root: dir, mediaId: 'PS1M00001', type: 'prestaged', sealed: false, policy: checkMediaPolicy(POLICY, 'PS1M00001'), content, contentCheck: '' }, files };
}

const itemOf = (media: StandaloneMedia, id: string): ContentItem => mediaContentPolicy(media).items.find((i) => i.id === id)!;

t.test('the media content fetcher copies and verifies every file, from content/<sha256> and from os/<path>', async (t) => {
  const dir = tempDir(t);
  const { media, files } = fakeMedia(path.join(dir, 'media'));
  const policy = mediaContentPolicy(media);
  t.equal(policy.onMedia, true);
  t.same(policy.items.map((i) => [i.id, i.version, i.locations.length]), [['PS100004', 2, 0], ['PS100002', 1, 0], ['PS100009', 0, 0]], 'no distribution point anywhere; no version is 0');
  t.same(itemOf(media, 'PS100004').programs, [{ name: 'Install', commandLine: 'sh install.sh' }], 'programs come from the sealed policy');
  const lines: string[] = [];
  const fetcher = new MediaContentFetcher(media, (l) => lines.push(l));

  const dest = path.join(dir, 'cache', 'PS100004');
  const r = await fetcher.fetch(itemOf(media, 'PS100004'), dest);
  t.same({ files: r.files, bytes: r.bytes }, { files: 2, bytes: 2 * Buffer.byteLength(files['install.sh']) });
  t.equal(readFileSync(path.join(dest, 'sub', 'same.txt'), 'utf8'), files['sub/same.txt'], 'a blob serves every file with its hash');
  t.match(r.sources, [/install\.sh from the media \(content\/[0-9a-f]{64}\)/]);
  t.match(lines, [/PS100004 v2: 2 file\(s\) verified from the media PS1M00001/]);
  t.equal((await fetcher.fetch(itemOf(media, 'PS100004'), dest)).bytes, 0, 'files already in place and correct are not copied again (a re-run step)');

  const os = path.join(dir, 'cache', 'PS100002');
  await fetcher.fetch(itemOf(media, 'PS100002'), os);
  t.equal(readFileSync(path.join(os, 'install.wim'), 'utf8'), files['install.wim'], 'the prestaged OS image is read from os/');
  t.same(await fetcher.fetch(itemOf(media, 'PS100009'), path.join(dir, 'cache', 'PS100009')), { files: 0, bytes: 0, sources: [] }, 'an object without files is fine');

  writeFileSync(path.join(media.root, 'os', 'sources', 'setup.cfg'), '[setup]\nedition=other\n');
  const other = path.join(dir, 'other');
  await t.rejects(fetcher.fetch(itemOf(media, 'PS100002'), other), { message: new RegExp(`^content PS100002 version 1 file sources/setup\\.cfg: os/sources/setup\\.cfg on the media is damaged \\(sha256 [0-9a-f]{64}, expected ${sha(files['sources/setup.cfg'])}\\)$`) });
  t.notOk(existsSync(path.join(other, 'sources', 'setup.cfg')), 'a damaged file never appears');
  t.same(readdirSync(path.join(other, 'sources')), [], 'nor its partial copy');
});

t.test('the media content fetcher refuses what it cannot trust, with the reason', async (t) => {
  const dir = tempDir(t);
  const { media } = fakeMedia(path.join(dir, 'media'));
  const fetcher = new MediaContentFetcher(media);
  const pkg = itemOf(media, 'PS100004');
  const dest = path.join(dir, 'dest');

  const edited = { ...pkg, files: pkg.files!.map((f) => (f.path === 'install.sh' ? { ...f, sha256: sha('other') } : f)) };
  await t.rejects(fetcher.fetch(edited, dest), { message: /the file list of PS100004 version 2 on the media does not match its manifest hash .*osdeploy\/content\.json was changed/ });
  await t.rejects(fetcher.fetch({ ...pkg, version: 1 }, dest), { message: /holds version 2 of PS100004, but this run started with version 1/ });
  await t.rejects(fetcher.fetch({ ...pkg, id: 'PS10000X' }, dest), { message: /content PS10000X is not on the media at .* \(osdeploy\/content\.json does not list it\)/ });
  await t.rejects(new MediaContentFetcher(null).fetch(pkg, dest), { message: /start the engine again with --media DIR/ });
  t.throws(() => mediaPathOf({ root: 'os' }, { path: '../../etc/passwd', sha256: sha('x'), size: 1 }), /refusing media path/);
  t.throws(() => mediaPathOf({ root: 'content' }, { path: 'a', sha256: '../../etc/passwd', size: 1 }), /names no sha256 blob/);
  t.notOk(existsSync(dest), 'nothing was written');
});

t.test('R-25 content.json is checked against the content list the policy carries: every difference is named', async (t) => {
  const dir = tempDir(t);
  const { media } = fakeMedia(path.join(dir, 'media'));
  const sealedOf = (c: MediaContentEntry): MediaPolicyContent => ({ id: c.id, kind: c.kind, version: c.version, root: c.root, filesSha256: manifestHash(c.files) });
  const sealed = media.content.map(sealedOf);
  t.same(contentListProblems(media.content, sealed), [], 'as built: no difference');
  const [pkg, os, empty] = media.content as [MediaContentEntry, MediaContentEntry, MediaContentEntry];
  const swapped = { ...pkg, files: pkg.files.map((f) => (f.path === 'install.sh' ? { ...f, sha256: sha('evil'), size: 4 } : f)) };
  const forged = { ...swapped, manifestSha256: manifestHash(swapped.files) };
  t.match(contentListProblems([forged, os, empty], sealed), [/^content PS100004: its file list hashes to [0-9a-f]{64}, sealed [0-9a-f]{64}/, /^content PS100004: manifest hash [0-9a-f]{64}, sealed/]);
  t.same(contentListProblems([pkg, os], sealed), ['content PS100009 version none is named by the policy but not listed']);
  t.same(contentListProblems([pkg, os, empty, { ...empty, id: 'PS100077' }], sealed), ['content PS100077 is listed but the policy does not name it']);
  t.same(contentListProblems([pkg, pkg, os, empty], sealed), ['content PS100004 is listed twice']);
  t.same(contentListProblems([{ ...pkg, version: 3 }, { ...os, root: 'content' }, empty], sealed), ['content PS100004: version 3, sealed 2', 'content PS100002: under content/, sealed under os/']);

  const policy = { ...media.policy, content: sealed };
  t.match(checkContentList({ ...media, sealed: true, policy }), /^osdeploy\/content\.json of media PS1M00001 matches the sealed policy: 3 content object\(s\)$/);
  t.throws(() => checkContentList({ ...media, sealed: true, policy, content: [forged, os, empty] }), { code: 'tampered', message: /^osdeploy\/content\.json on the media does not match the sealed policy: content PS100004: its file list hashes to/ });
  t.throws(() => checkContentList({ ...media, sealed: false, policy, content: [pkg, os] }), { message: /does not match the media's policy \(osdeploy\/variables\.json, not sealed: this catches damage, not tampering\): content PS100009/ });
  t.match(checkContentList(media), /the policy names no content list \(media built before it was added\)/, 'older media: the check says what it could not do');

  // The fetcher checks again: media that reached it with a list differing from the sealed one get nothing.
  writeFileSync(path.join(dir, 'media', 'content', sha('evil')), 'evil');
  const fetcher = new MediaContentFetcher({ ...media, sealed: true, policy, content: [forged, os, empty] });
  await t.rejects(fetcher.fetch(itemOf({ ...media, content: [forged, os, empty] }, 'PS100004'), path.join(dir, 'dest')), { message: /^osdeploy\/content\.json on the media does not match the sealed policy: content PS100004/ });
  t.notOk(existsSync(path.join(dir, 'dest', 'install.sh')));
  t.throws(() => checkMediaPolicy({ ...POLICY, content: [{ id: 'x' }] }, 'M1'), /media M1: its policy cannot run: content\[0\] of its content list is malformed/);
  t.same(checkMediaPolicy({ ...POLICY, content: sealed }, 'M1').content, sealed);
});

t.test('R-20 the media’s one deployment runs as the site would decide a media boot', async (t) => {
  const preferred = { SMSTSPreferredAdvertID: 'PS120001' };
  const p = (purpose: 'available' | 'required', hidden: boolean) => ({ deploymentId: 'PS120001', purpose, hidden });
  t.same(decideStandalone(p('available', false), { variables: preferred, allowUnattended: true }), { kind: 'run', why: 'preferred' });
  t.same(decideStandalone(p('available', true), { variables: preferred, allowUnattended: true }), { kind: 'run', why: 'preferred' }, 'hidden runs unattended through SMSTSPreferredAdvertID');
  t.same(decideStandalone(p('required', false), { variables: preferred, allowUnattended: false }), { kind: 'run', why: 'required' }, 'Required runs without a choice');
  t.match(decideStandalone(p('available', false), { variables: preferred, allowUnattended: false }), { kind: 'offer', note: /does not allow unattended deployment/ });
  t.match(decideStandalone(p('available', false), { variables: {}, allowUnattended: true }), { kind: 'offer', note: null }, 'unattended needs SMSTSPreferredAdvertID');
  t.match(decideStandalone(p('available', false), { variables: { smstspreferredadvertid: 'PS129999' }, allowUnattended: true }), { kind: 'offer', note: /does not name the deployment this media carries \(PS120001\)/ });
  t.match(decideStandalone(p('required', true), { variables: preferred, allowUnattended: false }), { kind: 'nothing', reason: /hidden: it runs only through SMSTSPreferredAdvertID/ }, 'hidden and attended: never');
});

t.test('an outbox with no site keeps every message and returns at once', async (t) => {
  const dir = path.join(tempDir(t), 'outbox');
  const outbox = new Outbox(dir, null, () => t.fail('nothing to log'));
  t.equal(outbox.offline, true);
  outbox.add({ id: 'm1', kind: 'runStarted' });
  outbox.deferRegistration({ macAddresses: ['02:aa:bb:00:00:70'], smbiosUuid: null, architecture: 'x64', name: 'PC' });
  t.equal(await outbox.flush(true), 1);
  const started = Date.now();
  t.equal(await outbox.drain(Date.now() + 60_000, () => Promise.reject(new Error('no waiting offline'))), 1);
  t.ok(Date.now() - started < 1000, 'drain does not wait for a site it does not have');
  t.equal(outbox.pending().length, 1, 'the message is kept');
  t.equal(outbox.registrationPending(), true);
  t.same(JSON.parse(readFileSync(path.join(dir, 'registration.pending'), 'utf8')), { macAddresses: ['02:aa:bb:00:00:70'], smbiosUuid: null, architecture: 'x64', name: 'PC' });
});

t.test('R-25 real standalone media open into a policy and a content list; bootable media have none', { skip: missingFor('folder') }, async (t) => {
  const f = await contentFixture(t);
  const dir = tempDir(t);
  const password = 'Correct horse 42';
  const standalone = path.join(dir, 'standalone');
  await buildMedia(await specFor(f, { type: 'standalone', format: 'folder', password }), f.source, path.join(dir, 'w1'), standalone);
  const bootable = path.join(dir, 'bootable');
  await buildMedia(await specFor(f, { type: 'bootable', format: 'folder' }), f.source, path.join(dir, 'w2'), bootable);

  const opened = await readMediaDir(standalone, password, NOW);
  const media = opened.standalone!;
  t.match(media, { root: standalone, type: 'standalone', sealed: true, policy: { deploymentId: 'PS120001', purpose: 'available', hidden: false, variables: [{ name: 'HiddenVar', hidden: true }] } });
  t.same(media.content.map((c) => [c.id, c.root, c.files.length]), [['PS100001', 'content', 2], ['PS100002', 'content', 3]]);
  for (const c of media.content) t.equal(manifestHash(c.files), c.manifestSha256, `${c.id}: content.json's list hashes to its manifest hash`);
  const wim = path.join(dir, 'wim');
  await new MediaContentFetcher(media).fetch(itemOf(media, 'PS100002'), wim);
  t.equal(readFileSync(path.join(wim, 'install.wim'), 'utf8'), f.osFiles['install.wim'], 'read back by hash from the built media');

  t.equal((await readMediaDir(bootable, null, NOW)).standalone, undefined, 'bootable media ask their site');
  t.throws(() => checkMediaPolicy({ ...POLICY, taskSequence: { id: 'x', name: 'x', items: [{ kind: 'step', id: 's1' }] } }, 'M1'), /media M1: its policy cannot run: items\[0\] has no id or name/);
  t.throws(() => checkMediaPolicy({ ...POLICY, taskSequence: undefined }, 'M1'), /the task sequence is missing/);
});

t.test('options: a standalone run needs no site; --flush-outbox needs no root', async (t) => {
  const dir = tempDir(t);
  const { media } = fakeMedia(path.join(dir, 'media'));
  const opened = { variables: {}, allowUnattended: true, token: 'media-token', standalone: media };
  const o = parseOptions(['--media', media.root, '--root', dir], {}, opened);
  t.not(o, 'help');
  if (o === 'help') return;
  t.equal(o.site, null, 'no site address at all');
  t.equal(runsOffline(o), true);
  const flush = parseOptions(['--flush-outbox', '--site', 'http://127.0.0.1:9', '--token', 'x', '--state', dir], {});
  t.match(flush, { flushOutbox: true, site: 'http://127.0.0.1:9' });
  t.equal(runsOffline(flush as never), false);
  t.throws(() => parseOptions(['--flush-outbox', '--token', 'x'], {}), /no site: give --site URL/, 'flushing needs a site');
  t.throws(() => parseOptions(['--media', media.root, '--root', dir], {}, { ...opened, standalone: undefined }), /no site/, 'bootable media still need one');
  t.equal(runsOffline(parseOptions(['--media', media.root, '--root', dir, '--flush-outbox', '--site', 'http://127.0.0.1:9'], {}, opened) as never), false, 'flushing from standalone media is not a run');
});
