/**
 * End to end (issue 6, R-20, R-25, R-26): UEFI machines boot the media's boot image from the
 * media. A technician builds bootable media for a hidden deployment through the API, for a
 * Linux boot image whose kernel and initrd are its own content (uefi-payload.ts: Debian's cloud
 * kernel and a busybox /init). A qemu machine with OVMF (q35, TCG) starts the ISO's El Torito
 * UEFI entry: GRUB (EFI/BOOT/BOOTX64.EFI in the EFI system image) finds the media, and starts
 * the kernel from it with `osdeploy.site=`, `osdeploy.media=` and `osdeploy.preferred=` on its
 * command line. The /init finds its media by that id, takes the token from it, and asks the
 * real service (10.0.2.2 from the guest) for the boot policy of the preferred deployment. The
 * serial log proves GRUB, the command line and the init; the service's JSON log proves the
 * request with the VM's MAC and the site's answer: run the hidden deployment.
 * Needs qemu-system-x86, ovmf, grub-efi-amd64-bin, grub-common, xorriso, isolinux,
 * syslinux-common, mtools, dosfstools, ipxe (.ci/run); the kernel and busybox are downloaded
 * once (apt-get download) into OSDEPLOY_E2E_CACHE.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { startLoggedService } from './logged-service.js';
import { findTool } from '../../media/boot-media/tools.js';
import { mediaBuilt } from '../../server/site/media.js';
import { missingFor, tempDir } from '../media/boot-media/fixture.js';
import { QEMU_MAC } from '../media/boot-media/site-fixture.js';
import { buildUefiInitramfs, ensureUefiPayload, INIT_MARKER } from '../media/boot-media/uefi-payload.js';

const OVMF = '/usr/share/ovmf/OVMF.fd';
const CACHE = process.env.OSDEPLOY_E2E_CACHE ?? '/var/cache/osdeploy-e2e';
const WAIT_SECONDS = 90;
/** Terminal escape sequences in the serial log (OVMF and GRUB draw with them). */
// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-9;=?]*[A-Za-z]/g;

function whyNot(): string | false {
  if (!findTool('qemu-system-x86_64')) return 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';
  if (!existsSync(OVMF)) return `${OVMF} is missing (apt-get install ovmf)`;
  for (const tool of ['apt-get', 'apt-cache', 'dpkg-deb', 'tar']) if (!findTool(tool)) return `${tool} is missing: the test fetches its kernel and busybox from Debian packages`;
  const cache = existsSync(CACHE) ? CACHE : path.dirname(CACHE);
  try {
    accessSync(cache, constants.W_OK);
  } catch {
    return `${cache} is not writable: the test caches its kernel there (run as root, or set OSDEPLOY_E2E_CACHE)`;
  }
  return missingFor('iso');
}


// The first run downloads the kernel package (about 27 MB); the VM itself has WAIT_SECONDS.
t.setTimeout(240_000);

t.test('the ISO boots on UEFI: GRUB starts the boot image from the media, which asks the site for the preferred deployment', { skip: whyNot(), timeout: 230_000 }, async (t) => {
  const t0 = Date.now();
  const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
  const dir = tempDir(t, 'osdeploy-media-uefi-');
  const payload = ensureUefiPayload(CACHE);
  const image = path.join(dir, 'image');
  mkdirSync(image);
  copyFileSync(payload.kernel, path.join(image, 'vmlinuz'));
  writeFileSync(path.join(image, 'initrd.gz'), buildUefiInitramfs(payload));
  t.comment(`payload ready at ${secs()} s`);

  const { service, dataDir, port, lines, call: callApi } = await startLoggedService(t, dir);
  const call = async (method: string, url: string, body: unknown, want: number) => {
    const r = await callApi(method, url, body);
    if (r.status !== want) throw new Error(`${method} ${url}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json as Record<string, unknown> & { id: string };
  };

  // The boot image's boot files are its own content: the media carry them by hash.
  const bootImage = (await call('POST', '/content', { kind: 'bootImage', name: 'UEFI media Linux', architecture: 'x64', os: 'linux', sourcePath: image }, 201)).id;
  await call('PATCH', `/content/${bootImage}`, { boot: { os: 'linux', kernel: `content/${bootImage}/latest/vmlinuz`, initrds: [`content/${bootImage}/latest/initrd.gz`], cmdline: 'console=ttyS0 panic=1' } }, 200);
  const computer = (await call('POST', '/computers', { name: 'UEFI-01', macAddresses: [QEMU_MAC] }, 201)).id;
  const collection = (await call('POST', '/collections', { name: 'UEFI lab', directMemberIds: [computer] }, 201)).id;
  const ts = (await call('POST', '/task-sequences', { type: 'custom', name: 'UEFI hidden install', bootImageId: bootImage }, 201)).id;
  const deployment = (await call('POST', '/deployments', { taskSequenceId: ts, collectionId: collection, availability: 'mediaPxeHidden' }, 201)).id;

  const made = await call('POST', '/media', { type: 'bootable', deploymentId: deployment, allowUnattended: true, format: 'iso', siteUrl: `http://10.0.2.2:${port}` }, 202);
  const media = await mediaBuilt(service.ctx, made.id);
  t.equal(media.state, 'ready', media.error ?? '');
  if (media.state !== 'ready') return;
  const iso = path.join(dir, 'media.iso');
  copyFileSync(path.join(dataDir, 'media', media.id, media.output!.name), iso);
  t.comment(`media ${media.id} built at ${secs()} s`);

  const serial = path.join(dir, 'serial.log');
  // Virtio devices, which the cloud kernel drives (it has no AHCI or e1000): the CD first, a NIC without option ROM.
  const args = ['-machine', 'q35,accel=tcg', '-m', '512', '-bios', OVMF, '-display', 'none', '-monitor', 'none', '-no-reboot', '-serial', `file:${serial}`,
    '-drive', `file=${iso},media=cdrom,if=none,id=cd0,readonly=on,format=raw`, '-device', 'virtio-scsi-pci,id=scsi0', '-device', 'scsi-cd,drive=cd0,bus=scsi0.0,bootindex=1',
    '-netdev', 'user,id=n0', '-device', `virtio-net-pci,netdev=n0,mac=${QEMU_MAC},romfile=`];
  const vmStart = Date.now();
  const vm = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let vmErr = '';
  vm.stderr?.on('data', (b: Buffer) => (vmErr += b.toString()));
  const exited = new Promise<void>((resolve) => vm.on('exit', () => resolve()));
  t.teardown(async () => {
    if (vm.exitCode === null && vm.signalCode === null) vm.kill('SIGKILL');
    await exited;
  });

  const text = () => (existsSync(serial) ? readFileSync(serial, 'latin1').replace(ESCAPES, '').replace(/\r/g, '') : '');
  const until = Date.now() + WAIT_SECONDS * 1000;
  // The /init powers the VM off after printing the site's answer.
  while (Date.now() < until && vm.exitCode === null && vm.signalCode === null && !/OSDEPLOY-E2E-POLICY:/.test(text())) await new Promise((r) => setTimeout(r, 500));
  await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
  t.comment(`VM ran ${((Date.now() - vmStart) / 1000).toFixed(1)} s (test at ${secs()} s)`);
  const out = text();
  const context = { qemuStderr: vmErr.slice(-500), serialTail: out.slice(-2500) };

  t.match(out, /starting Boot\d+ "UEFI QEMU QEMU CD-ROM/, 'OVMF started the ISO from its UEFI El Torito entry', context);
  t.match(out, /Welcome to GRUB!/, 'GRUB, the EFI loader in the EFI system image, ran');
  t.match(out, `osdeploy: boot media ${media.id}, site http://10.0.2.2:${port}`, "the media's GRUB configuration ran");
  t.match(out, `osdeploy: starting boot image ${bootImage} (Linux) from the media`, 'and started the boot image from the media');

  const cmdline = /Command line: ([^\n]*)/.exec(out)?.[1] ?? '';
  t.ok(cmdline, 'the kernel from the media started and printed its command line', context);
  const want = ['console=ttyS0', 'panic=1', `osdeploy.site=http://10.0.2.2:${port}`, `osdeploy.media=${media.id}`, `osdeploy.preferred=${deployment}`, 'osdeploy.unattended=true'];
  t.same(want.filter((w) => !cmdline.split(' ').includes(w)), [], 'the command line names the site, the media and SMSTSPreferredAdvertID', { cmdline });
  t.match(out, INIT_MARKER, "the boot image's initrd from the media ran");
  t.match(out, `OSDEPLOY-E2E-MEDIA: ${media.id}`, 'and found its media by the id on the command line');

  const asked = lines.find((e) => e.msg === 'incoming request' && e.req?.url?.startsWith('/api/v1/boot-policy?') === true);
  t.ok(asked, 'the boot image asked the site for its boot policy', context);
  if (!asked) return;
  const q = new URL(asked.req!.url!, 'http://x').searchParams;
  t.equal(q.get('preferred'), deployment, 'for the deployment SMSTSPreferredAdvertID names, taken from the kernel command line');
  t.equal(q.get('mac'), QEMU_MAC, "with the VM's MAC address");
  t.equal(q.get('source'), 'media');
  t.equal(q.get('unattended'), 'true');
  const answered = lines.find((e) => e.msg === 'request completed' && e.reqId === asked.reqId);
  t.equal(answered?.res?.statusCode, 200, "the site accepted the media's token");
  t.match(out, new RegExp(`OSDEPLOY-E2E-POLICY: "kind":"run" "deploymentId":"${deployment}" "why":"preferred"`), 'and answered: run the hidden deployment (R-20)', { init: out.split('\n').filter((l) => l.includes('OSDEPLOY-E2E')) });
  t.notOk(lines.some((e) => e.msg === 'incoming request' && e.req?.url?.startsWith('/boot.ipxe') === true), 'UEFI did not go through iPXE and the site');
});
