/**
 * The content CLI end to end against real services: import a folder, re-import,
 * list versions and files, write a prestaged file and import it at a point over its API.
 * Distribution commands are in content-distribution.test.ts (child processes are slow; two
 * files run in parallel).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { capture, startSite } from './harness.js';

const site = await startSite(t);
const point = await startSite(t);

async function run(args: readonly string[], expectCode = 0): Promise<string> {
  const r = await site.cli(args);
  if (r.code !== expectCode) throw new Error(`osdeploy ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.code === 0 ? r.stdout : r.stderr;
}

const src = path.join(site.work, 'tools');
mkdirSync(path.join(src, 'bin'), { recursive: true });
writeFileSync(path.join(src, 'setup.exe'), 'MZ setup');
writeFileSync(path.join(src, 'bin', 'helper.dll'), Buffer.alloc(200_000, 3));
let id = '';

t.test('R-06 content import, re-import and versions', async (t) => {
  const out = await run(['content', 'import', '--name', 'Tools', '--kind', 'package', '--source', src]);
  id = capture(out, /imported package (\S+) \(Tools\) version 1: 2 file\(s\)/);
  t.match(await run(['content', 'import', '--id', id]), `${id} unchanged: still version 1`);
  writeFileSync(path.join(src, 'setup.exe'), 'MZ setup 2');
  t.match(await run(['content', 'import', '--id', id]), new RegExp(`imported ${id} version 2`));
  const versions = await run(['content', 'versions', id]);
  t.match(versions, /VERSION\s+CREATED\s+FILES\s+SIZE\s+MANIFEST SHA256/);
  t.match(versions, /\n1\s+\S+\s+2\s+195\.3 KiB\s+[0-9a-f]{64}\n2\s/);
  t.match(await run(['content', 'files', id]), /bin\/helper\.dll\s+200000/);
  t.match(await run(['content', 'list']), new RegExp(`${id}\\s+package\\s+Tools\\s+yes\\s+2`));
  t.match(await run(['content', 'import', '--name', 'X'], 1), /needs --kind, --name and --source/);
});

t.test('R-08 content prestage writes the file atomically', async (t) => {
  const out = path.join(site.work, 'tools.osdpkg.tgz');
  t.match(await run(['content', 'prestage', '--content', id, '--out', out]), `wrote ${out} (${id}@2)`);
  t.ok(existsSync(out));
  const failed = path.join(site.work, 'none.tgz');
  t.match(await run(['content', 'prestage', '--content', 'PS1FFFFF', '--out', failed], 1), /no content PS1FFFFF/);
  t.notOk(existsSync(failed), 'no file when the site refused');
  const imported = await point.cli(['content', 'prestage-import', out]);
  t.equal(imported.code, 0, imported.stderr);
  t.match(imported.stdout, new RegExp(`installed package ${id} \\(Tools\\) version 2[\\s\\S]*2 blob\\(s\\), 195\\.3 KiB; 2 new to this point`));
});
