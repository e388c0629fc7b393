/**
 * Building each media type in each format from a content library over the in-memory store,
 * then reading it back with the same tools a technician would: xorriso for the ISO's El Torito
 * entries and files, sfdisk and mtools for the prestaged disk, and `inspectMedia`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { buildMedia, type BuildEvent } from '../../../media/boot-media/build.js';
import { EFI_TARGETS } from '../../../media/boot-media/grub.js';
import { elToritoEntries, extractIso, listIso } from '../../../media/boot-media/iso.js';
import { inspectMedia } from '../../../media/boot-media/inspect.js';
import { LAYOUT } from '../../../media/boot-media/model.js';
import { openMedia } from '../../../media/boot-media/read.js';
import { contentFixture, missingFor, NOW, specFor, tempDir } from './fixture.js';

t.test('bootable ISO: El Torito BIOS and UEFI entries, hybrid, iPXE for BIOS, GRUB for UEFI and the media variables', { skip: missingFor('iso') }, async (t) => {
  const f = await contentFixture(t);
  const dir = tempDir(t);
  const spec = await specFor(f, { type: 'bootable', format: 'iso' });
  const events: BuildEvent[] = [];
  const iso = path.join(dir, 'media.iso');
  const result = await buildMedia(spec, f.source, path.join(dir, 'work'), iso, (e) => events.push(e));
  t.same([...new Set(events.map((e) => e.phase))], ['check', 'loaders', 'content', 'manifest', 'package', 'done'], 'progress goes through every phase');

  const { entries, report } = await elToritoEntries(iso);
  t.same(entries, [
    { platform: 'BIOS', path: '/isolinux/isolinux.bin' },
    { platform: 'UEFI', path: `/${LAYOUT.efiImage}` },
  ], 'a BIOS and a UEFI boot entry');
  t.match(report, /MBR isohybrid/, 'hybrid: an MBR for USB sticks');
  t.match(report, /GPT/, 'and a GPT entry for the EFI system image');

  const files = await listIso(iso);
  for (const p of [LAYOUT.header, LAYOUT.variables, LAYOUT.manifest, LAYOUT.ipxeLkrn, LAYOUT.biosScript, LAYOUT.efiLoader, LAYOUT.grubConfig, LAYOUT.efiIpxe, LAYOUT.efiScript, 'isolinux/isolinux.cfg', 'isolinux/ldlinux.c32', LAYOUT.efiImage]) {
    t.ok(files.includes(p), `${p} is on the ISO`);
  }
  t.equal(result.manifest.files.length, result.manifest.files.filter((m) => files.includes(m.path)).length, 'every manifest file is on the ISO');

  const out = tempDir(t);
  await extractIso(iso, path.join(out, 'osdeploy.ipxe'), `/${LAYOUT.biosScript}`);
  const script = readFileSync(path.join(out, 'osdeploy.ipxe'), 'utf8');
  t.match(script, /^#!ipxe\n/);
  t.match(script, /\ndhcp \|\| goto failed\n/);
  t.match(script, 'chain http://192.0.2.10:8080/api/v1/media/PS1MBOOISO/boot.ipxe?mac=${netX/mac}&uuid=${osd-uuid}&arch=x64&mediaForm=cd', 'chains to the site naming the media, whose record holds SMSTSPreferredAdvertID');

  // The EFI system image is a FAT filesystem holding GRUB as the removable-media loader, built
  // with the media's configuration inside, and iPXE with its script as the menu's other entry.
  const efi = tempDir(t);
  const img = path.join(efi, 'efiboot.img');
  await extractIso(iso, img, `/${LAYOUT.efiImage}`);
  const mtools = { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } } as const;
  const dirList = execFileSync('mdir', ['-/', '-b', '-i', img, '::/'], mtools);
  t.match(dirList, /EFI\/BOOT\/BOOTX64\.EFI/i);
  t.match(dirList, /EFI\/BOOT\/ipxe\.efi/i);
  t.match(dirList, /EFI\/BOOT\/autoexec\.ipxe/i);
  t.equal(readFileSync(img).subarray(510, 512).toString('hex'), '55aa', 'a FAT boot sector');
  execFileSync('mcopy', ['-i', img, `::/${LAYOUT.efiLoader}`, path.join(efi, 'loader.efi')], mtools);
  const loader = readFileSync(path.join(efi, 'loader.efi'));
  await extractIso(iso, path.join(efi, 'grub.cfg'), `/${LAYOUT.grubConfig}`);
  const grubCfg = readFileSync(path.join(efi, 'grub.cfg'), 'utf8');
  t.equal(loader.subarray(0, 2).toString('latin1'), 'MZ', 'the loader is a PE image');
  t.not(loader.indexOf('GNU GRUB'), -1, 'it is GRUB');
  t.not(loader.indexOf(grubCfg), -1, "with the media's grub.cfg in its memdisk");
  const kernel = f.bootFiles.vmlinuz!;
  t.match(grubCfg, `if search --no-floppy --file --set=root '/content/${kernel}'; then`, 'GRUB finds the media by the kernel it carries');
  t.match(grubCfg, `  linux '/content/${kernel}' 'quiet' 'console=ttyS0' 'osdeploy.site=http://192.0.2.10:8080' 'osdeploy.media=PS1MBOOISO' 'osdeploy.arch=x64' 'osdeploy.preferred=PS120001' 'osdeploy.unattended=true'`);
  t.match(grubCfg, `  initrd '/content/${f.bootFiles['initrd.img']!}'`);
  t.ok(files.includes(`content/${kernel}`), 'the kernel GRUB starts is on the ISO');

  const i = await inspectMedia(iso, { now: NOW });
  t.equal(i.container, 'iso');
  t.equal(i.header.type, 'bootable');
  t.same(i.variables, { SMSTSPreferredAdvertID: '********', OSDComputerName: '********' }, 'variables are masked by default');
  t.equal(i.token, 'present');
  t.ok(i.check.ok, 'every file matches the manifest');
  t.equal(i.check.expected.length, 2, 'the El Torito boot info table and catalog are explained, not reported');
  const shown = await inspectMedia(iso, { now: NOW, reveal: true });
  t.same(shown.variables, { SMSTSPreferredAdvertID: 'PS120001', OSDComputerName: 'LAB-PC-01' });
});

t.test('standalone media with a password: sealed variables and policy, content by hash, nothing in the clear', { skip: missingFor('tar') }, async (t) => {
  const f = await contentFixture(t);
  const dir = tempDir(t);
  const password = 'Correct horse 42';
  const spec = await specFor(f, { type: 'standalone', format: 'tar', password, variables: { SMSTSPreferredAdvertID: 'PS120001', OSDComputerName: 'Secret-Name-Q7' } });
  const tar = path.join(dir, 'media.tar');
  await buildMedia(spec, f.source, path.join(dir, 'work'), tar);

  const bytes = readFileSync(tar);
  for (const plain of ['Secret-Name-Q7', 'PS120001', 'osd_media-token-value-for-tests', 'Step-Secret-P4ss', 'Hidden-Value-Zz9', password]) {
    t.equal(bytes.indexOf(Buffer.from(plain)), -1, `${plain} appears nowhere in the media's bytes`);
  }
  t.not(bytes.indexOf(Buffer.from('WIM-IMAGE-BYTES')), -1, 'the OS image content is on it');

  const locked = await inspectMedia(tar, { now: NOW });
  t.equal(locked.protected, true);
  t.equal(locked.variables, null, 'without the password the variables stay locked');
  t.equal(locked.token, 'locked');
  t.same(locked.content.map((c) => [c.id, c.files, c.root]), [['PS100001', 2, 'content'], ['PS100002', 3, 'content']]);
  await t.rejects(inspectMedia(tar, { now: NOW, password: 'wrong password!' }), { code: 'wrong-password', message: 'wrong media password' });
  const open = await inspectMedia(tar, { now: NOW, password });
  t.same(open.variables, { SMSTSPreferredAdvertID: 'PS120001', OSDComputerName: 'Secret-Name-Q7' });
  t.same(open.policy, { deploymentId: 'PS120001', taskSequenceId: 'PS100003', taskSequenceName: 'Install Windows 11', steps: 1 });
  t.ok(open.check.ok);
});

t.test('folder media: the engine opens it, refuses it expired or tampered with', { skip: missingFor('folder') }, async (t) => {
  const f = await contentFixture(t);
  const dir = tempDir(t);
  const password = 'Correct horse 42';
  const spec = await specFor(f, { type: 'standalone', format: 'folder', password, expiresAt: new Date(NOW + 3600_000).toISOString() });
  const folder = path.join(dir, 'stick');
  await buildMedia(spec, f.source, path.join(dir, 'work'), folder);

  // A FAT32 stick with this tree boots on UEFI: GRUB at the removable-media path, and sealed
  // media tell it nothing the password protects.
  const loader = readFileSync(path.join(folder, ...LAYOUT.efiLoader.split('/')));
  const grubCfg = readFileSync(path.join(folder, ...LAYOUT.grubConfig.split('/')), 'utf8');
  t.not(loader.indexOf(grubCfg), -1, 'EFI/BOOT/BOOTX64.EFI is GRUB with the media\'s configuration');
  t.match(grubCfg, "'osdeploy.site=http://192.0.2.10:8080' 'osdeploy.media=PS1MSTAFOLDER' 'osdeploy.arch=x64'\n");
  t.notMatch(grubCfg, /preferred|unattended|PS120001/);

  const media = await openMedia(folder, { password, now: NOW });
  t.equal(media.secrets.policy?.taskSequence.items.length, 1);
  t.same(media.secrets.policy?.variables, [{ name: 'HiddenVar', value: 'Hidden-Value-Zz9', hidden: true }], 'hidden values reach the engine');
  const wim = media.content.find((c) => c.id === 'PS100002')!.files.find((x) => x.path === 'install.wim')!;
  t.equal(readFileSync(media.file(`${LAYOUT.blobs}/${wim.sha256}`), 'utf8'), f.osFiles['install.wim'], 'content is found by hash');
  await t.rejects(openMedia(folder, { now: NOW }), { code: 'wrong-password', message: /password-protected/ });
  await t.rejects(openMedia(folder, { password: 'not the password', now: NOW }), { code: 'wrong-password' });
  await t.rejects(openMedia(folder, { password, now: NOW + 3600_000 }), { code: 'expired', message: /^media expired: media PS1MSTAFOLDER expired at / });

  // Moving the expiry in the plain header breaks the seal (the header is the GCM additional data).
  const headerFile = path.join(folder, ...LAYOUT.header.split('/'));
  const header = JSON.parse(readFileSync(headerFile, 'utf8'));
  const { writeFileSync } = await import('node:fs');
  writeFileSync(headerFile, JSON.stringify({ ...header, expiresAt: '2099-01-01T00:00:00.000Z' }));
  await t.rejects(openMedia(folder, { password, now: NOW }), { code: 'tampered' });
  const i = await inspectMedia(folder, { now: NOW });
  t.same(i.check.changed, [LAYOUT.header], 'and the manifest names the changed file');
});

t.test('prestaged disk image: an MBR FAT32 partition with the OS image laid out and the media variables', { skip: missingFor('raw') }, async (t) => {
  const f = await contentFixture(t);
  const dir = tempDir(t);
  const spec = await specFor(f, { type: 'prestaged', format: 'raw' });
  const img = path.join(dir, 'disk.img');
  await buildMedia(spec, f.source, path.join(dir, 'work'), img);

  const table = JSON.parse(execFileSync('sfdisk', ['--json', img], { encoding: 'utf8' })) as { partitiontable: { label: string; partitions: { start: number; type: string; bootable?: boolean }[] } };
  t.equal(table.partitiontable.label, 'dos');
  t.match(table.partitiontable.partitions, [{ start: 2048, type: 'c', bootable: true }], 'one active FAT32 (LBA) partition at 1 MiB');
  const listing = execFileSync('mdir', ['-/', '-b', '-i', `${img}@@1048576`, '::/'], { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  for (const p of ['os/install.wim', 'os/sources/setup.cfg', LAYOUT.header, LAYOUT.variables, LAYOUT.manifest, LAYOUT.efiLoader]) t.match(listing.toLowerCase(), p.toLowerCase(), `${p} is in the filesystem`);
  const setup = execFileSync('mtype', ['-i', `${img}@@1048576`, '::/os/sources/setup.cfg'], { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  t.equal(setup, f.osFiles['sources/setup.cfg'], 'the OS image files are there as they are applied');

  const i = await inspectMedia(img, { now: NOW, reveal: true });
  t.equal(i.container, 'raw');
  t.equal(i.header.type, 'prestaged');
  t.equal(i.header.mediaForm, 'hardDisk');
  t.same(i.content.find((c) => c.id === 'PS100002')?.root, 'os');
  t.equal(i.policy?.deploymentId, 'PS120001');
  t.ok(i.check.ok, 'every file matches the manifest');
});

t.test('UEFI media that could not start their boot image are refused before any work', { skip: missingFor('tar') }, async (t) => {
  const f = await contentFixture(t);
  const dir = tempDir(t);
  const out = path.join(dir, 'media.tar');
  const undeclared = await specFor(f, { type: 'bootable', format: 'tar', bootFiles: null });
  await t.rejects(buildMedia(undeclared, f.source, path.join(dir, 'work'), out), { code: 'invalid', message: /boot image PS100001 declares no boot files/ });
  const fromStore = await specFor(f, { type: 'bootable', format: 'tar', bootFiles: { os: 'linux', kernel: 'linux/vmlinuz', initrds: [], cmdline: '' }, bootFileRoot: dir });
  await t.rejects(buildMedia(fromStore, f.source, path.join(dir, 'work'), out), { code: 'invalid', message: /kernel linux\/vmlinuz is not in the boot-file store/ });
  const spec = await specFor(f, { type: 'bootable', format: 'tar' });
  const arm64 = { ...spec, header: { ...spec.header, architecture: 'arm64' }, script: { ...spec.script, architecture: 'arm64' } };
  if (!existsSync(EFI_TARGETS.arm64!.modules)) {
    await t.rejects(buildMedia(arm64, f.source, path.join(dir, 'work'), out), { code: 'tool-missing', message: /arm64 UEFI media; install it with: apt-get install grub-efi-arm64-bin grub-common$/ }, 'never an x64 loader on arm64 media');
  }
  t.notOk(existsSync(out), 'nothing was built');
});
