/**
 * The engine run from boot media: `--media DIR` opens the media with its password, refuses
 * it once expired, and takes the site and token from it.
 */
import path from 'node:path';
import t from 'tap';
import { buildMedia } from '../../../media/boot-media/build.js';
import { contentFixture, missingFor, NOW, specFor, tempDir } from '../boot-media/fixture.js';
import { freePort, runEngine } from './engine-process.js';

t.test('R-25 the engine enforces media expiry and the media password, then talks to the media’s site', { skip: missingFor('folder') }, async (t) => {
  const f = await contentFixture(t);
  const dir = tempDir(t);
  const password = 'Correct horse 42';
  const port = await freePort(); // nothing listens: the run stops at "site unreachable"
  const spec = await specFor(f, { type: 'bootable', format: 'folder', password, expiresAt: new Date(NOW + 3600_000).toISOString(), site: `http://127.0.0.1:${port}` });
  const folder = path.join(dir, 'stick');
  await buildMedia(spec, f.source, path.join(dir, 'work'), folder);
  const base = ['--media', folder, '--root', path.join(dir, 'root'), '--state', path.join(dir, 'state'), '--mac', '52:54:00:aa:00:01', '--arch', 'x64', '--wait-site', '0', '--flush-timeout', '0'];

  const expired = await runEngine(t, [...base, '--media-password', password, '--now', String(NOW + 2 * 3600_000)]);
  t.equal(expired.code, 2, 'expired media: nothing runs');
  t.match(expired.stderr, /media expired/);

  const wrong = await runEngine(t, [...base, '--media-password', 'not it', '--now', String(NOW)]);
  t.equal(wrong.code, 2);
  t.match(wrong.stderr, /wrong media password/);

  const none = await runEngine(t, [...base, '--now', String(NOW)]);
  t.equal(none.code, 2);
  t.match(none.stderr, /password-protected/);

  const opened = await runEngine(t, [...base, '--media-password', password, '--now', String(NOW)]);
  t.equal(opened.code, 4, 'the media opened; the engine went on to its site, which is down');
  t.match(opened.stderr, new RegExp(`127\\.0\\.0\\.1:${port}`), 'the site address came from the sealed media');
  t.notMatch(opened.stderr + expired.stderr + wrong.stderr, /osd_media-token-value-for-tests/, 'the media token is never printed');
});
