/**
 * R-27 R-28 `osdeploy ts export` and `osdeploy ts import` as real child processes against two
 * real services: the export writes the .zip and NAME_files (downloaded and verified), the import
 * uploads both, --dry-run imports nothing, --action changes an action, and a missing NAME_files
 * is a clear error naming it.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { ApiHarness, Json } from '../../fixtures/api-harness.js';
import { richSite } from '../export/fixture.js';
import { startSite, type Site } from './harness.js';

/** The API of a CLI test site in the shape the export fixtures use. */
function asHarness(site: Site): ApiHarness {
  const call = async (method: string, url: string, opts: { body?: unknown } = {}) => {
    const r = await site.service.app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${site.token}`, ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(opts.body === undefined ? {} : { payload: JSON.stringify(opts.body) }),
    });
    return { status: r.statusCode, body: r.body, json: r.body ? JSON.parse(r.body) : undefined, headers: r.headers };
  };
  return { call } as unknown as ApiHarness;
}

const on = (site: Site) => ({ env: { OSDEPLOY_SERVER: site.url, OSDEPLOY_TOKEN: site.token } });

t.test('R-27 R-28 ts export writes the zip and NAME_files; ts import brings both to another site', async (t) => {
  const a = await startSite(t);
  const objs = await richSite(t, asHarness(a));
  const zip = path.join(a.work, 'lab.zip');
  const exported = await a.cli(['ts', 'export', objs.tsId, '--out', zip, '--comments', 'Lab build']);
  t.equal(exported.code, 0, exported.stderr);
  t.match(exported.stdout, /exported 8 object\(s\) to .*lab\.zip\ncontent: 9 file\(s\), \d+ bytes in .*lab_files/);
  t.match(exported.stdout, /passwords are never exported/);
  t.ok(existsSync(path.join(a.work, 'lab_files', objs.osImage, 'install.wim')));
  t.same(readdirSync(a.work).filter((f) => f.includes('partial')), [], 'no temporary files left');
  t.equal((await a.cli(['ts', 'export', objs.tsId, '--out', zip])).code, 1, 'an existing file is not overwritten');

  const b = await startSite(t);
  const dry = await b.cli(['ts', 'import', zip, '--dry-run'], on(b));
  t.equal(dry.code, 0, dry.stderr);
  t.match(dry.stdout, /export of site PS1 made .*: Lab build/);
  t.match(dry.stdout, new RegExp(`${objs.tsId}\\s+taskSequence\\s+Install Windows 11\\s+-\\s+create`));
  t.match(dry.stdout, /needs its passwords again after the import/);
  t.match(dry.stdout, /dry run: nothing imported/);
  t.same((await b.api<{ items: Json[] }>('GET', '/task-sequences')).items, []);

  const done = await b.cli(['ts', 'import', zip], on(b));
  t.equal(done.code, 0, done.stderr);
  t.match(done.stdout, /imported 8 object\(s\); 9 content file\(s\) stored/);
  t.match(done.stdout, /needs passwords: Install Windows 11 \(PS1\w+\): i5\.productKey/);
  const list = (await b.api<{ items: Json[] }>('GET', '/task-sequences')).items;
  t.match(list, [{ name: 'Install Windows 11', needsPasswords: true, folderPath: '/Servers/Windows 11' }]);
  const os = (await b.api<{ items: Json[] }>('GET', '/content')).items.find((c) => c.name === 'Windows 11 23H2')!;
  t.match(os, { usable: true, currentVersion: { fileCount: 1 } });
  t.match(os.sourcePath, /imports\/uploads\/[0-9a-f]{24}\/lab_files\/PS1\w+$/, 'R-28 the source is the import path');

  const again = await b.cli(['ts', 'import', zip, '--action', `${objs.appA}=new-revision`, '--action', `${objs.tsId}=overwrite`], on(b));
  t.equal(again.code, 0, again.stderr);
  t.match(again.stdout, new RegExp(`${objs.appA}\\s+application\\s+Office\\s+new-revision`));
  t.match(again.stdout, new RegExp(`${objs.osImage}\\s+osImage\\s+Windows 11 23H2\\s+ignore`));
  t.equal((await b.api<{ items: Json[] }>('GET', '/task-sequences')).items.length, 1, 'overwritten, not duplicated');

  const bad = await b.cli(['ts', 'import', zip, '--action', `${objs.osImage}=overwrite`, '--action', `${objs.appB}=overwrite`], on(b));
  t.equal(bad.code, 1);
  t.match(bad.stderr, /osdeploy: application VC\+\+ runtime \(PS1\w+\) is overwritten by adding a revision \(new-revision\), or imported as a new application \(create\) \(field actions\.PS1\w+, rule R-28\)/);
});

t.test('R-28 ts import without its NAME_files folder names the folder; --no-content exports make none', async (t) => {
  const a = await startSite(t);
  const objs = await richSite(t, asHarness(a));
  const zip = path.join(a.work, 'build.zip');
  t.equal((await a.cli(['ts', 'export', objs.tsId, '--out', zip])).code, 0);
  const alone = path.join(a.work, 'alone');
  mkdirSync(alone);
  copyFileSync(zip, path.join(alone, 'build.zip'));
  const b = await startSite(t);
  const r = await b.cli(['ts', 'import', path.join(alone, 'build.zip')], on(b));
  t.equal(r.code, 1);
  t.match(r.stderr, /the export's content folder build_files is missing: content was exported, so build_files\/ must sit beside build\.zip/);
  t.same((await b.api<{ items: Json[] }>('GET', '/task-sequences')).items, [], 'nothing imported');

  const meta = path.join(a.work, 'meta.zip');
  const plain = await a.cli(['ts', 'export', objs.tsId, '--out', meta, '--no-content']);
  t.equal(plain.code, 0, plain.stderr);
  t.notOk(existsSync(path.join(a.work, 'meta_files')));
  const bare = await a.cli(['ts', 'export', objs.tsId, '--out', path.join(a.work, 'bare.zip'), '--no-dependencies', '--json']);
  t.equal(JSON.parse(bare.stdout).objects.length, 1);
  t.equal(JSON.parse(bare.stdout).references.length, 7);
  const imported = await b.cli(['ts', 'import', meta], on(b));
  t.equal(imported.code, 0, imported.stderr);
  t.match(imported.stdout, /0 content file\(s\) stored/);
});
