/**
 * `inspectMedia` checks osdeploy/content.json against the content list the policy carries, as
 * the engine does when it opens the media: a blob swapped with content.json and the manifest
 * rewritten to fit passes the manifest check and is caught only there; without the password of
 * sealed media the check cannot run and says so.
 */
import path from 'node:path';
import t from 'tap';
import { buildMedia } from '../../../media/boot-media/build.js';
import { manifestHash } from '../../../media/boot-media/content-list.js';
import { contentCheckOf, inspectMedia } from '../../../media/boot-media/inspect.js';
import type { MediaContentEntry, MediaHeader, MediaSecrets } from '../../../media/boot-media/model.js';
import { contentFixture, missingFor, NOW, specFor, swapContentFile, tempDir } from './fixture.js';

t.test('sealed standalone media: the content list matches with the password, is locked without it, and a swapped blob is named', { skip: missingFor('folder') }, async (t) => {
  const f = await contentFixture(t);
  const dir = tempDir(t);
  const password = 'Correct horse 42';
  const folder = path.join(dir, 'stick');
  await buildMedia(await specFor(f, { type: 'standalone', format: 'folder', password, contentList: true }), f.source, path.join(dir, 'work'), folder);

  const open = await inspectMedia(folder, { now: NOW, password });
  t.ok(open.check.ok, 'the manifest matches');
  t.same(open.contentCheck, { state: 'match', objects: 2 }, 'content.json lists the boot image and the OS image as sealed');
  const locked = await inspectMedia(folder, { now: NOW });
  t.same(locked.contentCheck, { state: 'locked' }, 'without the password the sealed list cannot be read');

  const swap = await swapContentFile(folder, f.osImageId, 'readme.txt', 'swapped, and content.json rewritten to fit');
  t.not(swap.newSha256, swap.oldSha256);
  const tampered = await inspectMedia(folder, { now: NOW, password });
  t.ok(tampered.check.ok, 'content.json and the manifest were rewritten consistently: the manifest check sees nothing');
  t.equal(tampered.content.find((c) => c.id === f.osImageId)?.files, 3);
  t.equal(tampered.contentCheck.state, 'mismatch');
  t.match(tampered.contentCheck, {
    problems: [
      new RegExp(`^content ${f.osImageId}: its file list hashes to [0-9a-f]{64}, sealed [0-9a-f]{64} \\(a file was added, removed or given another hash or size\\)$`),
      new RegExp(`^content ${f.osImageId}: manifest hash [0-9a-f]{64}, sealed [0-9a-f]{64}$`),
    ],
  });
  t.equal(tampered.contentCheck.state === 'mismatch' ? tampered.contentCheck.problems.length : 0, 2, 'only the swapped object');
  t.same((await inspectMedia(folder, { now: NOW })).contentCheck, { state: 'locked' }, 'still locked without the password');
});

t.test('plain standalone media: no list when built before it, else checked against the plain policy', { skip: missingFor('folder') }, async (t) => {
  const f = await contentFixture(t);
  const dir = tempDir(t);
  const older = path.join(dir, 'older');
  await buildMedia(await specFor(f, { type: 'standalone', format: 'folder' }), f.source, path.join(dir, 'work1'), older);
  t.same((await inspectMedia(older, { now: NOW })).contentCheck, { state: 'no-list' }, 'built before the list was added');

  const plain = path.join(dir, 'plain');
  await buildMedia(await specFor(f, { type: 'standalone', format: 'folder', contentList: true }), f.source, path.join(dir, 'work2'), plain);
  t.same((await inspectMedia(plain, { now: NOW })).contentCheck, { state: 'match', objects: 2 }, 'no password: the plain policy is read and compared');
  await swapContentFile(plain, f.bootImageId, 'vmlinuz', 'another kernel');
  const damaged = await inspectMedia(plain, { now: NOW });
  t.ok(damaged.check.ok);
  t.match(damaged.contentCheck, { state: 'mismatch', problems: [new RegExp(`^content ${f.bootImageId}: its file list hashes to`), /manifest hash/] });
});

t.test('contentCheckOf: bootable media, locked media, a malformed list', async (t) => {
  const header = (type: MediaHeader['type']) => ({ type }) as MediaHeader;
  const files = [{ path: 'a.txt', sha256: 'a'.repeat(64), size: 1 }];
  const listed: MediaContentEntry[] = [{ id: 'PS100004', kind: 'package', name: 'Tools', version: 2, manifestSha256: manifestHash(files), root: 'content', files }];
  const secrets = (content: unknown) => ({ policy: { content } }) as unknown as MediaSecrets;
  const sealed = [{ id: 'PS100004', kind: 'package', version: 2, root: 'content', filesSha256: manifestHash(files) }];
  t.same(contentCheckOf(header('bootable'), null, listed), { state: 'no-list' }, 'bootable media carry no policy, locked or not');
  t.same(contentCheckOf(header('bootable'), secrets(undefined), listed), { state: 'no-list' });
  t.same(contentCheckOf(header('standalone'), null, listed), { state: 'locked' });
  t.same(contentCheckOf(header('prestaged'), { variables: {} } as unknown as MediaSecrets, listed), { state: 'no-list' }, 'no policy at all');
  t.same(contentCheckOf(header('standalone'), secrets(sealed), listed), { state: 'match', objects: 1 });
  t.same(contentCheckOf(header('standalone'), secrets(sealed), []), { state: 'mismatch', problems: ['content PS100004 version 2 is named by the policy but not listed'] });
  t.same(contentCheckOf(header('standalone'), secrets('nope'), listed), { state: 'mismatch', problems: ["the policy's content list cannot be read: its content list is not a list"] });
  t.same(contentCheckOf(header('standalone'), secrets([{ id: 'PS100004' }]), listed), { state: 'mismatch', problems: ["the policy's content list cannot be read: content[0] of its content list is malformed"] });
  t.match(contentCheckOf(header('standalone'), secrets(sealed), [{ ...listed[0]!, files: [null] } as unknown as MediaContentEntry]), { state: 'mismatch', problems: [/^osdeploy\/content\.json cannot be compared with the policy's list: /] });
});
