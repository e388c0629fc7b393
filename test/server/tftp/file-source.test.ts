/**
 * R-21 rooted boot-file lookup (DESIGN.md lesson 7): `..`, NUL and symlinks out of the root are
 * refused; absolute and Windows `\` paths resolve under the root; each path segment matches
 * case-insensitively; TFTP has no URL decoding, so `%2e%2e` is a literal name.
 */
import t from 'tap';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PathRefusedError, RootedFileSource, pathSegments, type OpenFile } from '../../../server/tftp/file-source.js';
import { run, tempTree } from './helpers.js';

async function contents(f: OpenFile | null): Promise<string | null> {
  if (f === null) return null;
  const buf = Buffer.alloc(f.size);
  const n = await f.read(buf, 0);
  await f.close();
  return buf.subarray(0, n).toString();
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PathRefusedError) return e.reason;
    throw e;
  }
  return 'served';
}

t.test('R-21 RootedFileSource', async (t) => {
  const outside = await mkdtemp(join(tmpdir(), 'osdeploy-outside-'));
  await writeFile(join(outside, 'secret'), 'secret');
  const { root, cleanup } = await tempTree({
    'pxelinux.0': 'pxe',
    'boot/x64/bcd': 'bcd',
    'boot/x64/boot.sdi': 'sdi',
    'sources/boot.wim': 'wim',
    'etc/passwd': 'the root’s own etc/passwd',
    '%2e%2e/literal': 'literal',
    'Readme.txt': 'mixed case',
    'README.TXT': 'upper case',
  });
  const second = await tempTree({ 'only-second.efi': 'second', 'pxelinux.0': 'shadowed' });
  t.teardown(async () => {
    await cleanup();
    await second.cleanup();
    await rm(outside, { recursive: true, force: true });
  });
  await symlink(join(outside, 'secret'), join(root, 'escape'));
  await symlink(outside, join(root, 'escape-dir'));
  await symlink(join(root, 'boot/x64/bcd'), join(root, 'inside-link'));
  await symlink('x64', join(root, 'boot/amd64'));
  await mkdir(join(root, 'empty-dir'));
  const src = new RootedFileSource([root, second.root]);

  t.test('plain, absolute and backslash paths', async (t) => {
    t.equal(await contents(await src.open('pxelinux.0')), 'pxe');
    t.equal(await contents(await src.open('/pxelinux.0')), 'pxe', 'leading / dropped');
    t.equal(await contents(await src.open('//boot//x64/./bcd')), 'bcd', 'empty and . segments dropped');
    t.equal(await contents(await src.open('boot\\x64\\bcd')), 'bcd', '\\ is a separator');
    t.equal(await contents(await src.open('\\boot\\x64\\boot.sdi')), 'sdi');
  });

  t.test('case-insensitive per segment (Windows asks for Boot\\x64\\BCD)', async (t) => {
    t.equal(await contents(await src.open('Boot\\x64\\BCD')), 'bcd');
    t.equal(await contents(await src.open('SOURCES/Boot.WIM')), 'wim');
    t.equal(await contents(await src.open('Readme.txt')), 'mixed case', 'an exact match wins');
    t.equal(await contents(await src.open('README.TXT')), 'upper case');
    t.equal(await contents(await src.open('readme.TXT')), 'upper case', 'otherwise the first name in sort order');
  });

  t.test('hostile paths are refused with a reason', async (t) => {
    t.equal(await refusal(src.open('../../etc/passwd')), 'dot-dot');
    t.equal(await refusal(src.open('boot/../../x')), 'dot-dot');
    t.equal(await refusal(src.open('boot\\..\\..\\x')), 'dot-dot');
    t.equal(await refusal(src.open('..')), 'dot-dot');
    t.equal(await refusal(src.open('pxelinux.0\0.txt')), 'nul');
    t.equal(await refusal(src.open('escape')), 'outside-root', 'a symlink to a file outside');
    t.equal(await refusal(src.open('escape-dir/secret')), 'outside-root', 'a symlinked directory outside');
    t.equal(await refusal(src.open('ESCAPE-DIR\\SECRET')), 'outside-root', 'also when found case-insensitively');
    t.throws(() => pathSegments('a/../b'), PathRefusedError);
  });

  t.test('absolute paths and URL escapes stay inside the root', async (t) => {
    t.equal(await contents(await src.open('/etc/passwd')), 'the root’s own etc/passwd', '/etc/passwd is root/etc/passwd');
    t.equal(await contents(await src.open('/etc/shadow')), null);
    t.equal(await contents(await src.open('%2e%2e/%2e%2e/etc/passwd')), null, 'no URL decoding: not found');
    t.equal(await contents(await src.open('%2e%2e/literal')), 'literal', 'a file literally named %2e%2e');
  });

  t.test('symlinks inside the root are followed', async (t) => {
    t.equal(await contents(await src.open('inside-link')), 'bcd');
    t.equal(await contents(await src.open('boot/AMD64/bcd')), 'bcd', 'a relative directory link');
  });

  t.test('roots are searched in order; misses are null', async (t) => {
    t.equal(await contents(await src.open('only-second.efi')), 'second');
    t.equal(await contents(await src.open('pxelinux.0')), 'pxe', 'the first root wins');
    t.equal(await src.open('missing.efi'), null);
    t.equal(await src.open('boot/x64/missing'), null);
    t.equal(await src.open('pxelinux.0/child'), null, 'a file used as a directory');
    t.equal(await src.open('empty-dir'), null, 'directories are not files');
    t.equal(await src.open(''), null);
    t.equal(await src.open('/'), null);
    t.equal(await new RootedFileSource([join(root, 'no-such-root')]).open('pxelinux.0'), null, 'a missing root is skipped');
  });

  const fifo = (await run('mkfifo', [join(root, 'fifo')])).code === 0;
  t.test('a FIFO is not opened for reading (it would block)', { skip: fifo ? false : 'mkfifo (coreutils) is not available' }, async (t) => {
    t.equal(await src.open('fifo'), null);
  });

  t.test('positioned reads', async (t) => {
    const f = await src.open('sources/boot.wim');
    if (!f) return t.fail('not found');
    t.equal(f.size, 3);
    const b = Buffer.alloc(2);
    t.equal(await f.read(b, 1), 2);
    t.equal(b.toString(), 'im');
    t.equal(await f.read(b, 3), 0, 'end of file');
    await f.close();
  });
});
