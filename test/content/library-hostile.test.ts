import { execFileSync } from 'node:child_process';
import { renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { createContent, getContent, importFolder, readFileRange } from '../../content/library.js';
import { normaliseContentPath } from '../../content/paths.js';
import { openWalkedFile, walkFolder } from '../../content/walk.js';
import { NOW, folders, memoryLibrary, pkg } from './library-fixture.js';
import { collect, readAll, rejectsCode, sha256Of } from './store-contract.js';

t.test('content paths: Windows separators accepted, escapes refused (DESIGN.md rooted paths)', async (t) => {
  const ok: [string, string][] = [
    ['a/b.txt', 'a/b.txt'],
    ['boot\\bcd', 'boot/bcd'],
    ['./sources//install.wim', 'sources/install.wim'],
    ['EFI\\Boot\\bootx64.efi', 'EFI/Boot/bootx64.efi'],
    ['dir/', 'dir'],
    ['..foo/bar..', '..foo/bar..'],
  ];
  for (const [raw, want] of ok) t.equal(normaliseContentPath(raw), want, JSON.stringify(raw));
  for (const bad of ['../x', 'a/../../x', '..\\x', 'a\\..\\x', '/etc/passwd', '\\x', '\\\\server\\share', 'C:\\x', 'c:x', 'a\0b', '', '.', './/']) {
    t.throws(() => normaliseContentPath(bad), { code: 'hostile-path' }, JSON.stringify(bad));
  }
});

t.test('a symlink pointing outside the folder refuses the import and stores nothing', async (t) => {
  const dir = folders(t, { outside: { 'secret.txt': 'do not import' }, src: { 'a.txt': 'a' } });
  symlinkSync(path.join(dir('outside'), 'secret.txt'), path.join(dir('src'), 'link.txt'));
  const lib = memoryLibrary();
  await createContent(lib, pkg('P1'));
  await rejectsCode(t, importFolder(lib, 'P1', dir('src'), NOW), 'hostile-path');
  t.same((await getContent(lib, 'P1')).versions, []);
  t.same(await collect(lib.store.list()), [], 'not even the good file: the walk refuses before any copy');

  rmSync(path.join(dir('src'), 'link.txt'));
  symlinkSync('../outside/secret.txt', path.join(dir('src'), 'relative.txt'));
  await rejectsCode(t, importFolder(lib, 'P1', dir('src'), NOW), 'hostile-path', 'relative link out');
});

t.test('symlinks inside the folder: files are followed, folders and broken links refused', async (t) => {
  const dir = folders(t, { src: { real: { 'data.bin': 'payload' } } });
  const src = dir('src');
  symlinkSync('real/data.bin', path.join(src, 'alias.bin'));
  const lib = memoryLibrary();
  await createContent(lib, pkg('P1'));
  const r = await importFolder(lib, 'P1', src, NOW);
  t.same(r.version.files.map((f) => [f.path, f.sha256]), [
    ['alias.bin', sha256Of('payload')],
    ['real/data.bin', sha256Of('payload')],
  ]);
  t.equal(await collect(lib.store.list()).then((l) => l.length), 1, 'one blob for both names');

  symlinkSync('real', path.join(src, 'loop'));
  await rejectsCode(t, importFolder(lib, 'P1', src, NOW), 'invalid', 'directory symlink');
  rmSync(path.join(src, 'loop'));
  symlinkSync('nowhere', path.join(src, 'broken'));
  await rejectsCode(t, importFolder(lib, 'P1', src, NOW), 'invalid', 'broken symlink');
  t.equal((await getContent(lib, 'P1')).versions.length, 1, 'refused imports made no version');
});

const hasMkfifo = (() => {
  try {
    execFileSync('mkfifo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

t.test('special files are skipped', { skip: hasMkfifo ? false : 'mkfifo is not available here' }, async (t) => {
  const src = t.testdir({ 'a.txt': 'a' });
  execFileSync('mkfifo', [path.join(src, 'pipe')]);
  const lib = memoryLibrary();
  await createContent(lib, pkg('P1'));
  const r = await importFolder(lib, 'P1', src, NOW);
  t.same(r.version.files.map((f) => f.path), ['a.txt'], 'the FIFO is not read (it would block) nor listed');
});

t.test('R-21 filenames with backslashes become / paths; ones that would escape are refused', async (t) => {
  const dir = folders(t, {
    win: { 'boot\\bcd': 'bcd-bytes', 'EFI\\Boot\\bootx64.efi': 'efi' },
    evil: { '..\\..\\evil.txt': 'x' },
    clash: { 'a\\b': 'one', a: { b: 'two' } },
    fileAndFolder: { 'x\\y': 'file', x: { y: { z: 'inside' } } },
  });
  const lib = memoryLibrary();
  await createContent(lib, pkg('P1'));
  const r = await importFolder(lib, 'P1', dir('win'), NOW);
  t.same(r.version.files.map((f) => f.path), ['EFI/Boot/bootx64.efi', 'boot/bcd']);
  t.equal((await readAll(await readFileRange(lib, 'P1', 1, 'boot/bcd'))).toString(), 'bcd-bytes');
  t.equal((await readAll(await readFileRange(lib, 'P1', 1, 'boot\\bcd'))).toString(), 'bcd-bytes');
  await rejectsCode(t, importFolder(lib, 'P1', dir('evil'), NOW), 'hostile-path', '..\\..\\evil.txt');
  await rejectsCode(t, importFolder(lib, 'P1', dir('clash'), NOW), 'hostile-path', 'a\\b next to a/b');
  await rejectsCode(t, importFolder(lib, 'P1', dir('fileAndFolder'), NOW), 'hostile-path', 'x\\y next to x/y/z');
  t.equal((await getContent(lib, 'P1')).versions.length, 1);
});

t.test('a source that is missing or not a folder is refused', async (t) => {
  const dir = folders(t, { 'file.txt': 'x' });
  const lib = memoryLibrary();
  await createContent(lib, pkg('P1'));
  await rejectsCode(t, importFolder(lib, 'P1', dir('missing'), NOW), 'not-found');
  await rejectsCode(t, importFolder(lib, 'P1', dir('file.txt'), NOW), 'invalid');
});

t.test('a file replaced between the walk and the read is refused, not silently imported', async (t) => {
  const src = t.testdir({ 'a.txt': 'original' });
  const [file] = await walkFolder(src);
  t.ok(file);
  if (!file) return;
  // Written beside it, then renamed over it: a different inode while both exist (rm then write could reuse it).
  writeFileSync(`${file.absolute}.new`, 'swapped in');
  renameSync(`${file.absolute}.new`, file.absolute);
  await rejectsCode(t, openWalkedFile(file), 'invalid');
});
