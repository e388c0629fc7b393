/**
 * R-37 image-tree.ts on a package tree made here from this host's own files: programs and the
 * libraries `ldd` says they load, copied with their symbolic links (relative and absolute, as
 * Debian ships them). copy() must keep each link and follow it; addLibraries() must find the
 * same libraries as the real dynamic loader (ldd), through DT_RUNPATH too; a missing library
 * stops the build and names who needs it.
 */
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ImageTree, ImageTreeError } from '../../../media/boot-env/image-tree.js';
import { run, thrown, tmpDir, which } from './fixtures/host.js';

const LIB_DIRS = ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'lib', 'usr/lib', 'lib64'];
const ldd = which('ldd');
const skip = !ldd ? 'no ldd (libc-bin)' : !existsSync('/bin/ls') || !existsSync('/lib64/ld-linux-x86-64.so.2') ? 'not an x86-64 glibc host' : false;

/** What ldd says a program loads: soname → path, and the loader. */
function lddView(program: string): { libs: Map<string, string>; loader: string } {
  const out = run('ldd', [program]);
  const libs = new Map([...out.matchAll(/^\s*(\S+) => (\/\S+)/gm)].map((m) => [m[1]!, m[2]!]));
  return { libs, loader: /^\s*(\/\S+ld-linux\S*) \(/m.exec(out)![1]! };
}

/** Copies a host file into `root` at the same path, recreating its symbolic links (targets as written). */
function mirror(root: string, host: string, depth = 0): void {
  const at = path.join(root, host);
  mkdirSync(path.dirname(at), { recursive: true });
  if (existsSync(at) || lstatSync(at, { throwIfNoEntry: false })) return;
  if (lstatSync(host).isSymbolicLink() && depth < 8) {
    const target = readlinkSync(host);
    symlinkSync(target, at);
    mirror(root, target.startsWith('/') ? target : path.join(path.dirname(host), target), depth + 1);
  } else copyFileSync(host, at);
}

/** A package tree holding `program` at `rel` and everything ldd says it loads. */
function packageTree(t: Test, program: string, rel: string): { root: string; view: ReturnType<typeof lddView> } {
  const root = tmpDir('pkgroot');
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(path.join(root, path.dirname(rel)), { recursive: true });
  copyFileSync(program, path.join(root, rel));
  chmodSync(path.join(root, rel), 0o755);
  const view = lddView(program);
  for (const p of [...view.libs.values(), view.loader]) mirror(root, p);
  return { root, view };
}

t.test('R-37 copy() keeps each symbolic link of a chain and copies the file at its end', { skip }, async (t) => {
  const { root } = packageTree(t, '/bin/ls', 'bin/ls');
  mkdirSync(path.join(root, 'sbin'));
  symlinkSync('ls', path.join(root, 'bin', 'ls-link'));
  symlinkSync('../bin/ls-link', path.join(root, 'sbin', 'listing'));
  const tree = new ImageTree(root, LIB_DIRS);
  t.equal(tree.copy('sbin/listing'), 'bin/ls', 'two relative links lead to bin/ls');
  t.same(tree.entries.get('sbin/listing'), { kind: 'link', target: '../bin/ls-link' }, 'the first link, as written');
  t.same(tree.entries.get('bin/ls-link'), { kind: 'link', target: 'ls' }, 'the second link');
  t.same(tree.entries.get('bin/ls'), { kind: 'file', src: path.join(root, 'bin/ls'), mode: 0o755 }, 'the program, with its mode');
  t.same([tree.entries.get('bin')?.kind, tree.entries.get('sbin')?.kind], ['dir', 'dir'], 'parent folders are added');
  t.equal(tree.copy('/lib64/ld-linux-x86-64.so.2'), 'lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', 'an absolute link resolves inside the package tree');
  t.same(tree.entries.get('lib64/ld-linux-x86-64.so.2'), { kind: 'link', target: readlinkSync('/lib64/ld-linux-x86-64.so.2') }, 'and stays a link');
});

t.test('R-37 copy() refuses what is not in the package tree, link loops and links out of it', { skip }, async (t) => {
  const root = tmpDir('pkgroot-bad');
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(path.join(root, 'bin'));
  symlinkSync('b', path.join(root, 'bin', 'a'));
  symlinkSync('a', path.join(root, 'bin', 'b'));
  symlinkSync('../../../../etc/passwd', path.join(root, 'bin', 'out'));
  const tree = new ImageTree(root, LIB_DIRS);
  const missing = await thrown(() => tree.copy('bin/nothere'));
  t.ok(missing instanceof ImageTreeError, 'a missing file');
  t.match(String(missing), /bin\/nothere is in none of the unpacked packages/);
  const loop = await thrown(() => tree.copy('bin/a'));
  t.ok(loop instanceof ImageTreeError && /too many symbolic links/.test(loop.message), 'a link loop');
  t.ok((await thrown(() => tree.copy('bin/out'))) instanceof ImageTreeError, 'a link out of the tree');
  t.ok((await thrown(() => tree.set('../escape', { kind: 'dir', mode: 0o755 }))) instanceof ImageTreeError, "set() refuses '..'");
  t.ok((await thrown(() => tree.set('/', { kind: 'dir', mode: 0o755 }))) instanceof ImageTreeError, 'set() refuses an empty path');
  tree.set('/etc/hostname', { kind: 'data', data: Buffer.from('x\n'), mode: 0o644 });
  t.ok(tree.entries.has('etc/hostname') && tree.entries.has('etc'), 'a leading / is dropped, parents added');
});

for (const [program, rel] of [['/bin/ls', 'bin/ls'], ['/usr/bin/busctl', 'usr/bin/busctl'], ['/sbin/sfdisk', 'sbin/sfdisk']] as const) {
  t.test(`R-37 addLibraries() for ${program} finds the libraries ldd lists${program.includes('busctl') ? ' (one through DT_RUNPATH)' : ''}`, { skip: skip || (existsSync(program) ? false : `no ${program}`) }, async (t) => {
    const { root, view } = packageTree(t, program, rel);
    const tree = new ImageTree(root, LIB_DIRS);
    tree.copy(rel);
    const added = tree.addLibraries();
    // libc.so.6 itself has DT_NEEDED ld-linux-x86-64.so.2, which ldd shows as the loader line.
    const want = [...new Set([...view.libs.keys(), path.basename(view.loader)])].sort();
    t.same(added.map((a) => path.basename(a)).sort(), want, `the sonames ldd lists and the loader (${want.length})`);
    for (const [soname, host] of view.libs) {
      const inTree = added.find((a) => path.basename(a) === soname)!;
      t.equal(`/${inTree}`, host, `${soname} from the folder the loader took it from`);
    }
    const loader = view.loader.slice(1);
    t.ok(tree.entries.has(loader), `the loader ${view.loader}`);
    for (const [name, e] of tree.entries) if (e.kind === 'link') t.ok(tree.entries.has(path.posix.normalize(e.target.startsWith('/') ? e.target.slice(1) : path.posix.join(path.posix.dirname(name), e.target))), `${name} → ${e.target} points into the image`);
    t.equal(tree.size(), [...tree.entries.values()].reduce((n, e) => n + (e.kind === 'file' ? statSync(e.src).size : 0), 0), 'size() sums the files');
  });
}

t.test('R-37 addLibraries(): a library no package holds stops the build, naming the program that needs it', { skip }, async (t) => {
  const { root, view } = packageTree(t, '/bin/ls', 'bin/ls');
  const selinux = view.libs.get('libselinux.so.1');
  const pcre = view.libs.get('libpcre2-8.so.0');
  t.ok(selinux && pcre, 'ls loads libselinux, which loads libpcre2 (Debian 12)');
  if (!selinux || !pcre) return;
  unlinkSync(path.join(root, pcre));
  const tree = new ImageTree(root, LIB_DIRS);
  tree.copy('bin/ls');
  const e = await thrown(() => tree.addLibraries());
  t.ok(e instanceof ImageTreeError, 'ImageTreeError');
  t.match(String(e), /lib\/x86_64-linux-gnu\/libselinux\.so\.1 needs libpcre2-8\.so\.0, which none of the unpacked packages holds/, 'names the library that needs it');
  unlinkSync(path.join(root, selinux));
  const tree2 = new ImageTree(root, LIB_DIRS);
  tree2.copy('bin/ls');
  t.match(String(await thrown(() => tree2.addLibraries())), /bin\/ls needs libselinux\.so\.1/, 'names the program');
});

t.test('R-37 addLibraries() skips files that are not 64-bit ELF (scripts, data, 32-bit objects)', async (t) => {
  const root = tmpDir('pkgroot-data');
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(path.join(root, 'script'), '#!/bin/sh\necho hi\n');
  const elf32 = Buffer.alloc(64);
  elf32.write('\x7fELF\x01\x01\x01', 0, 'latin1');
  writeFileSync(path.join(root, 'mod32'), elf32);
  const tree = new ImageTree(root, LIB_DIRS);
  tree.copy('script');
  tree.copy('mod32');
  t.same(tree.addLibraries(), [], 'nothing needed');
  t.equal(tree.size(), 18 + 64, 'size() counts them');
});

t.test('R-37 findProgram() looks in sbin, bin, usr/sbin, usr/bin, in that order', async (t) => {
  const root = tmpDir('pkgroot-prog');
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (const d of ['usr/bin', 'usr/sbin', 'bin']) mkdirSync(path.join(root, d), { recursive: true });
  writeFileSync(path.join(root, 'usr/bin/tool'), '');
  writeFileSync(path.join(root, 'usr/sbin/tool'), '');
  writeFileSync(path.join(root, 'usr/bin/only'), '');
  symlinkSync('../usr/bin/only', path.join(root, 'bin/linked'));
  const tree = new ImageTree(root, LIB_DIRS);
  t.equal(tree.findProgram('tool'), 'usr/sbin/tool');
  t.equal(tree.findProgram('only'), 'usr/bin/only');
  t.equal(tree.findProgram('linked'), 'bin/linked', 'a link is found as itself');
  t.ok((await thrown(() => tree.findProgram('missing'))) instanceof ImageTreeError, 'a missing program');
});
