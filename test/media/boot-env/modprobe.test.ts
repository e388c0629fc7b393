/**
 * R-37 the modules.dep and modules.alias that modules.ts writes, read by the program that reads
 * them in the boot environment: Debian's static busybox, its `modprobe -D` (print the insmod
 * commands, load nothing) run in a chroot holding the fake modules (fixtures/fake-tree.ts) and the two
 * files. It proves the load order (dependencies first) and alias lookups, globs included.
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { modulesAlias, modulesDep, selectModules } from '../../../media/boot-env/modules.js';
import { isRoot, run, staticBusybox, tmpDir, which } from './fixtures/host.js';
import { writeFakeTree } from './fixtures/fake-tree.js';

const busybox = staticBusybox();
const skip = !isRoot()
  ? 'chroot needs root'
  : !which('chroot')
    ? 'no chroot program (coreutils)'
    : !busybox
      ? 'no statically linked busybox (apt-get install busybox-static, or a build that left /tmp/be/bb/bin/busybox)'
      : false;

t.test('R-37 busybox modprobe loads what modules.dep/modules.alias say, dependencies first', { skip }, async (t) => {
  const root = tmpDir('modprobe');
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  // busybox modprobe looks in /lib/modules/$(uname -r), the running kernel's version.
  const kver = os.release();
  const modDir = path.join(root, 'lib', 'modules', kver);
  writeFakeTree(modDir);
  const sel = selectModules(modDir, ['alpha', 'delta', 'epsilon']);
  writeFileSync(path.join(modDir, 'modules.dep'), modulesDep(sel.modules));
  writeFileSync(path.join(modDir, 'modules.alias'), modulesAlias(sel.modules));
  mkdirSync(path.join(root, 'bin'));
  copyFileSync(busybox!, path.join(root, 'bin', 'busybox'));

  /** The modules `modprobe -D what` would insert, in order, as names. */
  const loads = (what: string, flags: readonly string[] = []): string[] =>
    [...run('chroot', [root, '/bin/busybox', 'modprobe', '-D', ...flags, what]).matchAll(/^insmod (\S+)/gm)].map((m) => {
      t.ok(m[1]!.startsWith(`/lib/modules/${kver}/kernel/`), `${m[1]} is in the module folder`);
      return path.basename(m[1]!, '.ko');
    });

  t.same(loads('alpha'), ['gamma-x', 'beta', 'alpha'], 'chain a→b→c: c, b, then a');
  t.same(loads('delta'), ['gamma-x', 'beta', 'delta'], 'diamond: gamma once, before beta');
  t.same(loads('beta'), ['gamma-x', 'beta'], 'a middle module');
  t.same(loads('gamma-x'), ['gamma-x'], "a leaf, asked with '-'");
  t.same(loads('gamma_x'), ['gamma-x'], "a leaf, asked with '_'");
  t.same(loads('fake:alpha-anything'), ['gamma-x', 'beta', 'alpha'], 'a glob alias (fake:alpha*) with its dependencies');
  t.same(loads('pci:v0000ABCDd00001234sv00001AF4sd00001100bc02sc00i00'), ['gamma-x'], 'a PCI modalias as the coldplug loop in /init reads it');
  t.same(loads('pci:v0000ABCDd00001234sv00001AF4sd00001100bc02sc00i00', ['-q', '-b']), ['gamma-x'], "with /init's flags (-q -b)");
  t.same(loads('crypto-zeta').sort(), ['zeta_fast', 'zeta_generic'], 'an alias two modules provide loads both (soft dependencies came with epsilon)');
  t.throws(() => run('chroot', [root, '/bin/busybox', 'modprobe', '-D', 'omega']), 'a module not selected is not in the image');
});

t.test('R-37 a modules.dep that lists dependencies the other way round loads them wrongly (the check above can fail)', { skip }, async (t) => {
  const root = tmpDir('modprobe-rev');
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const kver = os.release();
  const modDir = path.join(root, 'lib', 'modules', kver);
  writeFakeTree(modDir);
  writeFileSync(path.join(modDir, 'modules.dep'), 'kernel/a/alpha.ko: kernel/c/gamma-x.ko kernel/b/beta.ko\nkernel/b/beta.ko: kernel/c/gamma-x.ko\nkernel/c/gamma-x.ko:\n');
  writeFileSync(path.join(modDir, 'modules.alias'), '\n');
  mkdirSync(path.join(root, 'bin'));
  copyFileSync(busybox!, path.join(root, 'bin', 'busybox'));
  const out = run('chroot', [root, '/bin/busybox', 'modprobe', '-D', 'alpha']);
  t.same([...out.matchAll(/^insmod \S+\/(\S+)\.ko/gm)].map((m) => m[1]), ['beta', 'gamma-x', 'alpha'], 'busybox reads the line right to left');
});
