/**
 * `osdeploy media create` and `osdeploy media inspect` as a technician runs them: the real CLI
 * as a child process against the real service, the result checked by reading it back.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { LAYOUT } from '../../../media/boot-media/model.js';
import { startSite, type Site } from '../../server/cli/harness.js';
import { missingFor, swapContentFile } from './fixture.js';
import { mediaSite } from './site-fixture.js';

async function setup(t: Test): Promise<{ site: Site; tech: string; s: Awaited<ReturnType<typeof mediaSite>> }> {
  const site = await startSite(t);
  const call = async (method: string, url: string, body?: unknown) => {
    const r = await site.service.app.inject({ method: method as 'GET', url: `/api/v1${url}`, headers: { authorization: `Bearer ${site.token}` }, ...(body === undefined ? {} : { payload: body as object }) });
    return { status: r.statusCode, json: r.body ? JSON.parse(r.body) : {} };
  };
  const s = await mediaSite(call, t);
  const tech = (await site.api<{ token: string }>('POST', '/tokens', { name: 'bench technician', role: 'technician' })).token;
  return { site, tech, s };
}

t.test('media create builds a bootable ISO with progress; media inspect reads it back', { skip: missingFor('iso') }, async (t) => {
  const { site, tech, s } = await setup(t);
  const out = path.join(site.work, 'boot.iso');
  const env = { env: { OSDEPLOY_TOKEN: tech } };
  const r = await site.cli(['media', 'create', '--type', 'bootable', '--deployment', s.hidden, '--unattended', '--var', 'OSDComputerName=LAB-01', '--expires', '2099-12-31T00:00:00Z', '--format', 'iso', '--out', out], env);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /^media PS1M\d{5}: building bootable media \(iso\)$/m, 'progress: the build');
  t.match(r.stderr, /^downloading: [\d.]+ MiB of [\d.]+ MiB$/m, 'progress: the download');
  t.match(r.stdout, /^built bootable media (PS1M\d{5}) \(iso, [\d.]+ MiB, \d+ files, sha256 [0-9a-f]{64}\) -> .*boot\.iso$/m);
  t.ok(existsSync(out));
  t.notOk(existsSync(`${out}.part`), 'no partial file left');

  const i = await site.cli(['media', 'inspect', out], env);
  t.equal(i.code, 0, i.stderr);
  t.match(i.stdout, /^media PS1M\d{5}: bootable \(iso\), site http:\/\/127\.0\.0\.1:\d+ \(PS1\), x64, boot image PS1/m);
  t.match(i.stdout, /expires 2099-12-31T00:00:00\.000Z; no password/);
  t.match(i.stdout, /^ {2}OSDComputerName = \*{8}$/m, 'values are masked');
  t.match(i.stdout, /^manifest: \d+ files, every file matches its sha256$/m);
  t.match(i.stdout, /^content list: not checked: bootable media carry no policy$/m);
  t.match(i.stdout, new RegExp(`[0-9a-f]{64}\\s+\\d+\\s+${LAYOUT.biosScript.replace(/\./g, '\\.')}`), 'the manifest lists every file with its sha256');
  const shown = await site.cli(['media', 'inspect', out, '--show-values', '--json'], env);
  const json = JSON.parse(shown.stdout);
  t.same(json.variables, { OSDComputerName: 'LAB-01', SMSTSPreferredAdvertID: s.hidden });
  t.equal(json.allowUnattended, true);

  const list = await site.cli(['media', 'list'], env);
  t.match(list.stdout, new RegExp(`PS1M\\d{5}\\s+bootable\\s+iso\\s+ready\\s+${s.hidden}`));
});

t.test('media create --format folder unpacks the stick; a password locks inspect until it is given', { skip: missingFor('folder') }, async (t) => {
  const { site, tech, s } = await setup(t);
  const out = path.join(site.work, 'stick');
  const env = { env: { OSDEPLOY_TOKEN: tech } };
  // the secret task sequence's standalone media are a technician's only where an administrator allowed it.
  const denied = await site.cli(['media', 'create', '--type', 'standalone', '--deployment', s.secretive, '--password', 'stick-password-1', '--format', 'folder', '--out', out], env);
  t.equal(denied.code, 1);
  t.match(denied.stderr, new RegExp(`^osdeploy: standalone media for deployment ${s.secretive} would carry secrets .*allowTechnicianMedia is false.*--allow-technician-media`, 'm'));
  t.notOk(existsSync(out), 'nothing written');
  const r = await site.cli(['media', 'create', '--type', 'standalone', '--deployment', s.forTechnicians, '--password', 'stick-password-1', '--format', 'folder', '--out', out], env);
  t.equal(r.code, 0, r.stderr);
  t.ok(existsSync(path.join(out, ...LAYOUT.efiLoader.split('/'))), 'EFI/BOOT/BOOTX64.EFI for UEFI boot from a FAT32 stick');
  t.ok(existsSync(path.join(out, LAYOUT.syslinuxCfg)), 'syslinux.cfg for `syslinux -i` (BIOS)');
  t.equal(JSON.parse(readFileSync(path.join(out, ...LAYOUT.variables.split('/')), 'utf8')).protected, true);

  const locked = await site.cli(['media', 'inspect', out], env);
  t.equal(locked.code, 0, locked.stderr);
  t.match(locked.stdout, /^ {2}\(locked: give --password\)$/m);
  const wrong = await site.cli(['media', 'inspect', out, '--password', 'not-the-password'], env);
  t.equal(wrong.code, 1);
  t.equal(wrong.stderr.trim(), 'osdeploy: wrong media password');
  const open = await site.cli(['media', 'inspect', out, '--password', 'stick-password-1'], env);
  t.match(open.stdout, new RegExp(`^  SMSTSPreferredAdvertID = ${s.forTechnicians}$`, 'm'));
  t.match(locked.stdout, /^content list: locked \(give --password to check osdeploy\/content\.json against the sealed policy\)$/m);
  t.match(open.stdout, /task sequence: Domain install \(PS1[0-9A-F]+\), deployment PS1\d+, \d+ step\(s\)/);
  t.equal(open.code, 0, open.stderr);
  t.match(open.stdout, /^content list: osdeploy\/content\.json matches the sealed policy: \d+ content object\(s\)$/m);

  // A blob swapped with content.json and the manifest rewritten to fit: only the sealed list tells.
  await swapContentFile(out, s.osImageId, 'sources/ei.cfg', '[Channel]\nVolume\n');
  const swapped = await site.cli(['media', 'inspect', out, '--password', 'stick-password-1'], env);
  t.equal(swapped.code, 1, 'a content list that does not match the policy fails inspect');
  t.match(swapped.stdout, /^manifest: \d+ files, every file matches its sha256$/m, 'the manifest was rewritten to fit');
  t.match(swapped.stdout, /^content list: PROBLEMS: osdeploy\/content\.json does not match the sealed policy:$/m);
  t.match(swapped.stdout, new RegExp(`^  content ${s.osImageId}: its file list hashes to [0-9a-f]{64}, sealed [0-9a-f]{64}`, 'm'));
  const asJson = await site.cli(['media', 'inspect', out, '--password', 'stick-password-1', '--json'], env);
  t.equal(asJson.code, 1);
  t.match(JSON.parse(asJson.stdout).contentCheck, { state: 'mismatch', problems: [new RegExp(`^content ${s.osImageId}: its file list hashes to`), new RegExp(`^content ${s.osImageId}: manifest hash`)] });
  const stillLocked = await site.cli(['media', 'inspect', out, '--json'], env);
  t.equal(stillLocked.code, 0, 'without the password the check cannot run: not a failure');
  t.same(JSON.parse(stillLocked.stdout).contentCheck, { state: 'locked' });

  const refused = await site.cli(['media', 'create', '--type', 'standalone', '--deployment', s.forTechnicians, '--format', 'tar', '--out', path.join(site.work, 'x.tar')], env);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /^osdeploy: standalone media would carry secrets in the clear .*\(field password, rule R-25\)$/m);
  const client = await site.cli(['media', 'list'], { env: { OSDEPLOY_TOKEN: (await site.api<{ token: string }>('POST', '/tokens', { name: 'c', role: 'client' })).token } });
  t.match(client.stderr, /the client role may not GET/);
});
