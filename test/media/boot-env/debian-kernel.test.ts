/**
 * R-37 elf.ts readModinfo and modules.ts on a real Debian kernel's modules (fixtures/host.ts
 * debianKernel: an unpacked tree or a cached linux-image .deb). Independent sources: binutils'
 * `objcopy --dump-section .modinfo` for the raw strings, and busybox's own depmod (`depmod -n`,
 * which writes nothing) for modules.dep and modules.alias over the whole tree.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { readModinfo } from '../../../media/boot-env/elf.js';
import { MODULES, moduleIndex, modulesAlias, modulesDep, selectModules } from '../../../media/boot-env/modules.js';
import { debianKernel, run, staticBusybox, tmpDir, which } from './fixtures/host.js';
import { parseDep } from './fixtures/fake-tree.js';

const scratch = tmpDir('kernel');
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
const kernel = debianKernel(scratch);
const busybox = staticBusybox() ?? which('busybox');
const noKernel = typeof kernel === 'string' ? kernel : false;
const k = typeof kernel === 'string' ? null : kernel;

t.test('R-37 readModinfo of real modules gives exactly the .modinfo strings objcopy dumps', { skip: noKernel || (which('objcopy') ? false : 'no objcopy (binutils)') }, async (t) => {
  const index = moduleIndex(k!.modDir);
  const names = ['ext4', 'jbd2', 'vfat', 'isofs', 'crc32c_generic', 'crc32c_intel', 'e1000e', 'r8169', 'nvme', 'virtio_net'].filter((n) => index.has(n));
  t.ok(names.includes('ext4'), `ext4 is in the tree (${names.length} modules compared)`);
  for (const name of names) {
    const file = path.join(k!.modDir, index.get(name)!);
    const out = path.join(scratch, `${name}.modinfo`);
    run('objcopy', ['--dump-section', `.modinfo=${out}`, file, path.join(scratch, 'objcopy.out')]);
    const want = readFileSync(out)
      .toString('utf8')
      .split('\0')
      .filter((s) => s.length)
      .map((s) => ({ key: s.slice(0, s.indexOf('=')), value: s.slice(s.indexOf('=') + 1) }));
    t.same(readModinfo(readFileSync(file)), want, `${name}: every key=value, in order`);
  }
  const ext4 = readModinfo(readFileSync(path.join(k!.modDir, index.get('ext4')!)));
  t.same(ext4.filter((e) => e.key === 'depends').map((e) => e.value.split(',').sort()), [['crc16', 'jbd2', 'mbcache']], 'ext4 depends on jbd2, mbcache, crc16 (Debian 12 kernel)');
  t.ok(ext4.some((e) => e.key === 'alias' && e.value === 'fs-ext4'), 'ext4 has alias fs-ext4');
});

/** busybox depmod -n: modules.dep lines, then alias lines (module aliases, then symbol: ones). */
function busyboxDepmod(): { dep: Map<string, string[]>; aliases: string[] } {
  const out = run(busybox!, ['depmod', '-n', '-b', k!.base, k!.version]);
  const lines = out.split('\n');
  return {
    dep: parseDep(lines.filter((l) => l.startsWith('kernel/') || /^[^ ]+\.ko:/.test(l)).join('\n')),
    aliases: lines.filter((l) => l.startsWith('alias ') && !l.startsWith('alias symbol:')),
  };
}

t.test('R-37 the image modules (MODULES) and their modules.dep/modules.alias agree with busybox depmod over the whole tree', { skip: noKernel || (busybox ? false : 'no busybox for depmod') }, async (t) => {
  const ref = busyboxDepmod();
  t.ok(ref.dep.size > 50, `busybox depmod read ${ref.dep.size} modules`);
  const sel = selectModules(k!.modDir, Object.values(MODULES).flat());
  const chosen = new Set(sel.modules.map((m) => m.rel));
  const base = (rel: string) => path.basename(rel, '.ko').replace(/-/g, '_');
  const inTree = new Set([...ref.dep.keys()].map(base));

  for (const name of Object.values(MODULES).flat()) {
    const n = name.replace(/-/g, '_');
    if (sel.absent.includes(name)) t.notOk(inTree.has(n), `${name} reported absent: no such module in the tree`);
    else t.ok(inTree.has(n) && sel.modules.some((m) => m.name === n), `${name} selected`);
  }

  const ours = parseDep(modulesDep(sel.modules));
  const problems: string[] = [];
  for (const rel of chosen) {
    const want = ref.dep.get(rel);
    if (!want) {
      problems.push(`${rel}: not in busybox's modules.dep`);
      continue;
    }
    for (const d of want) if (!chosen.has(d)) problems.push(`${rel} needs ${d}, which is not selected`);
    const line = ours.get(rel) ?? [];
    if (JSON.stringify([...line].sort()) !== JSON.stringify([...want].sort())) problems.push(`${rel}: ${line.join(' ')} ≠ busybox's ${want.join(' ')}`);
    // Load order: every dependency stands left of (is loaded after) its own dependencies.
    line.forEach((d, i) => {
      for (const dd of ref.dep.get(d) ?? []) if (line.indexOf(dd) < i) problems.push(`${rel}: ${dd} must stand right of ${d}`);
    });
  }
  t.same(problems, [], `${chosen.size} modules: same dependencies as busybox depmod, complete, in load order`);

  const names = new Set(sel.modules.map((m) => m.name));
  const wantAliases = ref.aliases.filter((l) => names.has(l.split(' ')[2]!)).sort();
  t.same(modulesAlias(sel.modules).split('\n').filter(Boolean).sort(), wantAliases, `modules.alias: the same ${wantAliases.length} lines`);
});

t.test('R-37 soft pre-dependencies of real modules: ext4 brings crc32c providers (by alias)', { skip: noKernel }, async (t) => {
  const sel = selectModules(k!.modDir, ['ext4']);
  const names = sel.modules.map((m) => m.name);
  t.ok(names.includes('crc32c_generic'), 'crc32c_generic (alias crypto-crc32c) comes with ext4');
  t.ok(names.includes('jbd2') && names.includes('mbcache'), 'and its hard dependencies');
});

t.test(
  'R-37 soft pre-dependencies naming a module rather than an alias: r8169 "softdep=pre: realtek" brings realtek.ko',
  { skip: noKernel || (moduleIndex(k!.modDir).has('r8169') ? false : 'no r8169 module in this tree') },
  async (t) => {
    const r8169 = readModinfo(readFileSync(path.join(k!.modDir, moduleIndex(k!.modDir).get('r8169')!)));
    t.ok(r8169.some((e) => e.key === 'softdep' && /pre:.*\brealtek\b/.test(e.value)), 'r8169 asks for realtek first (its PHY driver)');
    t.ok(moduleIndex(k!.modDir).has('realtek'), 'realtek.ko is in the kernel package');
    const r8169ko = readFileSync(path.join(k!.modDir, moduleIndex(k!.modDir).get('r8169')!));
    t.ok(r8169ko.includes('maybe realtek.ko needs to be added to initramfs'), "r8169's own probe error says what happens without it");
    const sel = selectModules(k!.modDir, ['r8169']);
    t.ok(sel.modules.some((m) => m.name === 'realtek'), 'realtek.ko is selected', {
    });
  },
);
