/**
 * The distribution CLI end to end against two real services: register a remote point,
 * group it, associate the group with a collection, distribute with --wait (plain progress lines
 * when not on a terminal), status and validate.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { startSite } from './harness.js';

const site = await startSite(t);
const point = await startSite(t);

async function run(args: readonly string[], expectCode = 0): Promise<string> {
  const r = await site.cli(args);
  if (r.code !== expectCode) throw new Error(`osdeploy ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.code === 0 ? r.stdout : r.stderr;
}

const src = path.join(site.work, 'tools');
mkdirSync(src, { recursive: true });
writeFileSync(path.join(src, 'setup.exe'), 'MZ setup');
const created = await site.api<{ id: string }>('POST', '/content', { kind: 'package', name: 'Tools', sourcePath: src });
await site.api('POST', `/content/${created.id}/import`, {});
const id = created.id;

t.test('R-07 points, groups, collection association, distribute --wait, status and validate', async (t) => {
  const added = await run(['points', 'add', '--name', 'Branch', '--url', point.url, '--point-token', point.token]);
  t.match(added, `registered distribution point DP2 (Branch) at ${point.url}`);
  const list = await run(['points', 'list']);
  t.match(list, /DP1\s+Site distribution point\s+local\s+\(this site\)/);
  t.notOk(list.includes(point.token), 'the point token is never printed');
  t.match(await run(['points', 'groups', 'create', '--name', 'Everywhere', '--point', 'DP1,DP2']), 'created distribution point group DPG1 (Everywhere) with DP1, DP2');
  const col = (await site.api<{ id: string }>('POST', '/collections', { name: 'Branch PCs' })).id;
  t.match(await run(['points', 'associate', '--collection', col, '--group', 'DPG1']), `collection ${col}: points -; groups DPG1`);

  const dist = await run(['content', 'distribute', '--content', id, '--collection', col, '--wait']);
  t.match(dist, /distribution job J1 started/);
  t.match(dist, /J1 completed 100% \(.* of .*; 2 installed, 0 in progress, 0 failed, 0 queued\)/, 'a plain progress line, no bar, when not on a terminal');
  t.notOk(dist.includes('\r'), 'no carriage returns in piped output');
  t.match(dist, /POINT\s+CONTENT\s+VERSION\s+STATE/);
  t.match(dist, new RegExp(`DP2\\s+${id}\\s+1\\s+installed`));

  t.match(await run(['content', 'distribute', '--content', id, '--point', 'DP2']), `skipped ${id} on DP2: already holds version 1`);
  t.match(await run(['content', 'status']), /J1 completed 100%/);
  t.match(await run(['content', 'status', '--job', 'J1']), new RegExp(`J1 completed 100%[\\s\\S]*DP1\\s+${id}`));
  t.match(await run(['content', 'status', '--content', id]), new RegExp(`DP2\\s+${id}\\s+1\\s+installed`));
  t.match(await run(['content', 'validate', '--point', 'DP2']), new RegExp(`ok\\s+${id} version 1[\\s\\S]*1 version\\(s\\) valid`));
  t.match(await run(['content', 'distribute', '--content', id], 1), /name at least one of pointIds/);
  t.match(await run(['content', 'distribute', '--point', 'DP1'], 1), /give --ts ID or --content ID/);
  t.match(await run(['content', 'status', '--job', 'J99'], 1), /no distribution job J99/);
});

