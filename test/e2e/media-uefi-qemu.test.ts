/**
 * End to end (issue 6, R-26): the ISO's El Torito UEFI entry boots. A qemu machine with OVMF
 * starts EFI/BOOT/BOOTX64.EFI from the ISO's EFI system image, which is iPXE. iPXE builds since
 * 1.21.1 then run autoexec.ipxe from that image; Debian's 2019 build (the `ipxe` package here)
 * does not and falls back to DHCP autoboot — the limitation the README states. So this proves
 * the UEFI boot path up to iPXE, and the script too when the iPXE on the media is new enough.
 * Needs qemu-system-x86, ovmf, xorriso, isolinux, syslinux-common, mtools, dosfstools, ipxe.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { buildMedia } from '../../media/boot-media/build.js';
import { findTool } from '../../media/boot-media/tools.js';
import { contentFixture, missingFor, specFor, tempDir } from '../media/boot-media/fixture.js';

const OVMF = '/usr/share/ovmf/OVMF.fd';
const WAIT_SECONDS = 90;
/** Terminal escape sequences in the serial log (OVMF and iPXE draw with them). */
// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-9;=?]*[A-Za-z]/g;

function whyNot(): string | false {
  if (!findTool('qemu-system-x86_64')) return 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';
  if (!existsSync(OVMF)) return `${OVMF} is missing (apt-get install ovmf)`;
  return missingFor('iso');
}

t.test('the ISO boots on UEFI: OVMF starts iPXE from the EFI system image', { skip: whyNot(), timeout: 115_000 }, async (t) => {
  const f = await contentFixture(t);
  const dir = tempDir(t, 'osdeploy-media-uefi-');
  const iso = path.join(dir, 'media.iso');
  await buildMedia(await specFor(f, { type: 'bootable', format: 'iso', site: 'http://10.0.2.2:9' }), f.source, path.join(dir, 'work'), iso);

  const serial = path.join(dir, 'serial.log');
  const args = ['-machine', 'q35,accel=tcg', '-m', '256', '-bios', OVMF, '-display', 'none', '-monitor', 'none', '-no-reboot', '-cdrom', iso, '-serial', `file:${serial}`,
    '-netdev', 'user,id=n0', '-device', 'e1000,netdev=n0,romfile='];
  const vm = spawn('qemu-system-x86_64', args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => vm.on('exit', () => resolve()));
  t.teardown(async () => {
    if (vm.exitCode === null) vm.kill('SIGKILL');
    await exited;
  });

  // The DVD-ROM's boot entry, then iPXE's EFI banner (its feature list says EFI).
  const started = /starting Boot\d+ "UEFI QEMU DVD-ROM[^\n]*\n[\s\S]*iPXE initialising devices[\s\S]*Features:[^\n]*EFI/;
  const text = () => (existsSync(serial) ? readFileSync(serial, 'latin1').replace(ESCAPES, '') : '');
  const until = Date.now() + WAIT_SECONDS * 1000;
  while (Date.now() < until && !started.test(text()) && vm.exitCode === null) await new Promise((r) => setTimeout(r, 500));
  await new Promise((r) => setTimeout(r, 3000)); // let iPXE show whether it runs the script
  const out = text();
  t.match(out, started, 'OVMF booted the ISO from its UEFI El Torito entry into iPXE', { serialTail: out.slice(-1500) });
  if (/osdeploy: boot media/.test(out)) t.pass('this iPXE ran autoexec.ipxe from the EFI system image');
  else t.comment("this iPXE (Debian's 2019 build) does not run autoexec.ipxe: UEFI machines need an iPXE ≥ 1.21.1 (see README)");
});
