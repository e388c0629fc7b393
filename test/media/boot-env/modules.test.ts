/**
 * R-37 modules.ts on a tree of fake modules (fixtures/fake-tree.ts): which modules a selection takes
 * (names, their dependencies, soft dependencies by alias), and the modules.dep and
 * modules.alias texts, checked line by line and, for random dependency graphs, against a
 * transitive closure computed here. busybox modprobe reading them is in modprobe.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { readModinfo } from '../../../media/boot-env/elf.js';
import { moduleIndex, moduleInfo, modulesAlias, modulesDep, selectModules, type ModuleInfo } from '../../../media/boot-env/modules.js';
import { fakeModule, run, which } from './fixtures/host.js';
import { parseDep, writeFakeTree } from './fixtures/fake-tree.js';

t.test('the fake module fixture is a valid ELF object: binutils readelf finds its .modinfo strings', { skip: which('readelf') ? false : 'no readelf (binutils)' }, async (t) => {
  const dir = t.testdir({});
  const file = path.join(dir, 'm.ko');
  const kv = ['license=GPL', 'depends=a,b-c', 'alias=pci:v00008086d*sv*sd*bc*sc*i*', 'softdep=pre: crc32c'];
  writeFileSync(file, fakeModule(kv));
  const dump = run('readelf', ['-W', '-p', '.modinfo', file]);
  const strings = [...dump.matchAll(/^\s*\[\s*[0-9a-f]+\]\s+(.*)$/gm)].map((m) => m[1]!);
  t.same(strings, kv, 'readelf -p .modinfo lists exactly the strings written');
  t.same(readModinfo(readFileSync(file)).map((e) => `${e.key}=${e.value}`), kv, 'and readModinfo agrees');
});

t.test('R-37 moduleIndex: every .ko under kernel/ by normalised name, nothing else', async (t) => {
  const dir = writeFakeTree(t.testdir({}));
  const index = moduleIndex(dir);
  t.same([...index.keys()].sort(), ['alpha', 'beta', 'delta', 'epsilon', 'gamma_x', 'omega', 'unused', 'zeta_fast', 'zeta_generic'], 'all nine modules, not the README');
  t.equal(index.get('gamma_x'), 'kernel/c/gamma-x.ko', "a '-' in the file name is found under '_'");
});

t.test('R-37 moduleInfo: depends split and normalised, aliases kept, softdep pre: only (not post:)', async (t) => {
  const dir = writeFakeTree(t.testdir({}));
  const d = moduleInfo(dir, 'kernel/d/delta.ko');
  t.same(d, { rel: 'kernel/d/delta.ko', name: 'delta', depends: ['beta', 'gamma_x'], aliases: [], softPre: [] }, 'delta');
  t.same(moduleInfo(dir, 'kernel/b/beta.ko').depends, ['gamma_x'], "'gamma-x' normalised to gamma_x");
  t.same(moduleInfo(dir, 'kernel/c/gamma-x.ko').depends, [], 'an empty depends= is no dependency');
  t.same(moduleInfo(dir, 'kernel/z/zeta_fast.ko').aliases, ['crypto-zeta', 'zeta-fast'], 'aliases in file order');
  t.same(moduleInfo(dir, 'kernel/e/epsilon.ko').softPre, ['crypto-zeta'], 'post: modules are not pre-loaded');
});

t.test('R-37 moduleInfo: softdep variants (several pre: names, post: first)', async (t) => {
  const dir = writeFakeTree(t.testdir({}), {
    'kernel/x/one.ko': ['softdep=pre: a b c'],
    'kernel/x/two.ko': ['softdep=post: z pre: p q'],
    'kernel/x/three.ko': ['softdep=post: z'],
  });
  t.same(moduleInfo(dir, 'kernel/x/one.ko').softPre, ['a', 'b', 'c'], 'pre: a b c');
  t.same(moduleInfo(dir, 'kernel/x/two.ko').softPre, ['p', 'q'], 'post: first, then pre:');
  t.same(moduleInfo(dir, 'kernel/x/three.ko').softPre, [], 'post: only');
});

t.test('R-37 selectModules: the named modules, their dependencies transitively, soft pre-dependencies by alias; absent names reported', async (t) => {
  const dir = writeFakeTree(t.testdir({}));
  const sel = selectModules(dir, ['alpha', 'epsilon', 'not-here', 'delta']);
  t.same(sel.modules.map((m) => m.name), ['alpha', 'beta', 'gamma_x', 'delta', 'epsilon', 'zeta_fast', 'zeta_generic'], 'sorted by path');
  t.same(sel.absent, ['not-here'], 'the name as asked');
  t.notOk(sel.modules.some((m) => ['omega', 'unused'].includes(m.name)), 'no post: soft dependency, no module that merely depends on a chosen one');
  t.same(selectModules(dir, ['gamma-x']).modules.map((m) => m.rel), ['kernel/c/gamma-x.ko'], "asked with '-'");
  t.same(selectModules(dir, ['gamma_x']).modules.map((m) => m.rel), ['kernel/c/gamma-x.ko'], "asked with '_'");
  t.same(selectModules(dir, ['beta']).modules.map((m) => m.name), ['beta', 'gamma_x'], 'only downward');
  t.same(selectModules(dir, []).modules, [], 'nothing asked, nothing taken');
});

t.test('R-37 selectModules: a dependency the tree lacks (built into the kernel) is not reported as absent', async (t) => {
  const dir = writeFakeTree(t.testdir({}), { 'kernel/m/needs-builtin.ko': ['depends=builtin_thing'] });
  const sel = selectModules(dir, ['needs-builtin']);
  t.same(sel.modules.map((m) => m.name), ['needs_builtin'], 'the module is taken');
  t.same(sel.absent, [], 'absent lists only names asked for');
});

t.test('R-37 modulesDep: every module has a line; a→b→c lists c to the right of b (loaded right to left: c, b, a)', async (t) => {
  const dir = writeFakeTree(t.testdir({}));
  const sel = selectModules(dir, ['alpha', 'delta', 'epsilon']);
  const text = modulesDep(sel.modules);
  t.match(text, /\n$/, 'ends with a newline');
  const dep = parseDep(text);
  t.same([...dep.keys()].sort(), sel.modules.map((m) => m.rel).sort(), 'one line per module');
  t.same(dep.get('kernel/a/alpha.ko'), ['kernel/b/beta.ko', 'kernel/c/gamma-x.ko'], 'chain');
  t.same(dep.get('kernel/d/delta.ko'), ['kernel/b/beta.ko', 'kernel/c/gamma-x.ko'], 'diamond: gamma once, right of beta');
  t.same(dep.get('kernel/c/gamma-x.ko'), [], 'a leaf');
  t.same(dep.get('kernel/e/epsilon.ko'), [], 'soft dependencies are not hard ones');
  t.ok(text.includes('kernel/c/gamma-x.ko:\n'), "a leaf's line is the path and a colon");
});

/** A random dependency DAG as ModuleInfo (module i may depend only on modules > i). */
const dagArb = fc.integer({ min: 1, max: 9 }).chain((n) =>
  fc.array(fc.array(fc.boolean(), { minLength: n, maxLength: n }), { minLength: n, maxLength: n }).map((adj) =>
    adj.map<ModuleInfo>((row, i) => ({
      rel: `kernel/m${i}.ko`,
      name: `m${i}`,
      depends: row.flatMap((on, j) => (on && j > i ? [`m${j}`] : [])),
      aliases: [],
      softPre: [],
    })),
  ),
);

t.test('R-37 modulesDep (property): each line lists exactly the transitive dependencies, each to the left of its own dependencies', async (t) => {
  const problems: string[] = [];
  fc.assert(
    fc.property(dagArb, fc.boolean(), (mods, shuffle) => {
      const given = shuffle ? [...mods].reverse() : mods;
      const dep = parseDep(modulesDep(given));
      const direct = new Map(mods.map((m) => [m.rel, m.depends.map((d) => `kernel/${d}.ko`)]));
      const closure = (rel: string, acc = new Set<string>()): Set<string> => {
        for (const d of direct.get(rel) ?? []) if (!acc.has(d)) closure(d, acc.add(d));
        return acc;
      };
      for (const m of mods) {
        const line = dep.get(m.rel) ?? [];
        const want = [...closure(m.rel)].sort();
        if (JSON.stringify([...line].sort()) !== JSON.stringify(want)) problems.push(`${m.rel}: ${line.join(' ')} ≠ ${want.join(' ')}`);
        line.forEach((d, i) => {
          for (const dd of closure(d)) if (line.indexOf(dd) < i) problems.push(`${m.rel}: ${dd} must stand right of ${d}`);
        });
      }
      return problems.length === 0;
    }),
    { numRuns: 300, seed: 37 },
  );
  t.same(problems, [], 'every line of 300 random graphs');
});

t.test('R-37 modulesAlias: "alias <pattern> <module>" for every alias of every module, names normalised', async (t) => {
  const dir = writeFakeTree(t.testdir({}));
  const sel = selectModules(dir, ['alpha', 'epsilon']);
  t.equal(
    modulesAlias(sel.modules),
    ['alias fake:alpha* alpha', 'alias pci:v0000ABCDd*sv*sd*bc*sc*i* gamma_x', 'alias crypto-zeta zeta_fast', 'alias zeta-fast zeta_fast', 'alias crypto-zeta zeta_generic', 'alias zeta zeta_generic', ''].join('\n'),
    'one line per alias, in selection order',
  );
  t.equal(modulesAlias(selectModules(dir, ['beta']).modules).trim(), 'alias pci:v0000ABCDd*sv*sd*bc*sc*i* gamma_x', 'a dependency brings its aliases');
});

t.test('R-37 selectModules: a soft pre-dependency naming a module (not an alias) brings that module', async (t) => {
  const dir = writeFakeTree(t.testdir({}), { 'kernel/n/nic.ko': ['softdep=pre: phy-drv'], 'kernel/p/phy-drv.ko': ['alias=mdio:0000000000011100110010010001????'] });
  t.same(selectModules(dir, ['nic']).modules.map((m) => m.name), ['nic', 'phy_drv'], 'phy-drv is selected with nic', {
  });
});
