/**
 * End to end (issue 6, R-20, R-25, R-26): a technician builds bootable media for a hidden
 * deployment through the API; a qemu machine (SeaBIOS, no network boot ROM in the boot order:
 * `-boot d`) boots the ISO from its CD drive. isolinux starts ipxe.lkrn with the media's script
 * as its initrd; iPXE gets an address from qemu's user-mode network and asks the real service,
 * listening on the host (10.0.2.2 from the guest), for the deployment the media names in
 * SMSTSPreferredAdvertID. The service's JSON log proves the request (with the VM's MAC) and
 * that iPXE then ran the script the site answered with; the serial log shows the iPXE banner.
 * Needs qemu-system-x86, xorriso, isolinux, syslinux-common, mtools, dosfstools, ipxe (.ci/run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { startLoggedService, type LogEntry } from './logged-service.js';
import { findTool } from '../../media/boot-media/tools.js';
import { mediaBuilt } from '../../server/site/media.js';
import { missingFor, tempDir } from '../media/boot-media/fixture.js';
import { mediaSite, QEMU_MAC } from '../media/boot-media/site-fixture.js';

const WAIT_SECONDS = 90;
const VM_UUID = '8d2a4c1e-5b3f-4e6a-9c7d-0e1f2a3b4c5d';

function whyNot(): string | false {
  if (!findTool('qemu-system-x86_64')) return 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';
  return missingFor('iso');
}

type Entry = LogEntry;

t.test('a bootable ISO boots in qemu (BIOS) and asks the site for the deployment named by SMSTSPreferredAdvertID', { skip: whyNot(), timeout: 115_000 }, async (t) => {
  const dir = tempDir(t, 'osdeploy-media-e2e-');
  const { service, dataDir, port, lines, call } = await startLoggedService(t, dir);
  const s = await mediaSite(call, t);

  // The guest reaches the host's service at 10.0.2.2 (qemu user-mode networking).
  const made = await call('POST', '/media', { type: 'bootable', deploymentId: s.hidden, allowUnattended: true, format: 'iso', siteUrl: `http://10.0.2.2:${port}` });
  t.equal(made.status, 202, 'the media build started', { answer: made.json });
  const media = await mediaBuilt(service.ctx, String(made.json.id));
  t.equal(media.state, 'ready', media.error ?? '');
  const iso = path.join(dir, 'media.iso');
  writeFileSync(iso, readFileSync(path.join(dataDir, 'media', media.id, media.output!.name)));

  const serial = path.join(dir, 'serial.log');
  // TCG, not KVM: nested KVM here stops in isolinux with an emulation failure, and CI may have no KVM.
  const args = ['-machine', 'pc,accel=tcg', '-m', '256', '-nographic', '-monitor', 'none', '-no-reboot', '-boot', 'd', '-uuid', VM_UUID, '-cdrom', iso, '-serial', `file:${serial}`,
    '-netdev', 'user,id=n0', '-device', `e1000,netdev=n0,mac=${QEMU_MAC}`];
  const vm: ChildProcess = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let vmErr = '';
  vm.stderr?.on('data', (b: Buffer) => (vmErr += b.toString()));
  const vmExit = new Promise<number | null>((resolve) => vm.on('exit', (code) => resolve(code)));
  t.teardown(async () => {
    if (vm.exitCode === null && vm.pid) vm.kill('SIGKILL');
    await vmExit;
  });

  // Every medium names itself; the site answers from the media record (issue 13, R-20).
  const asked = (e: Entry) => e.msg === 'incoming request' && e.req?.url?.startsWith(`/api/v1/media/${media.id}/boot.ipxe?`) === true;
  const fetchedKernel = (e: Entry) => e.msg === 'incoming request' && e.req?.url === `/boot/content/${s.bootImageId}/latest/vmlinuz`;
  const until = Date.now() + WAIT_SECONDS * 1000;
  while (Date.now() < until && !lines.some(fetchedKernel) && vm.exitCode === null) await new Promise((r) => setTimeout(r, 500));
  const serialText = existsSync(serial) ? readFileSync(serial, 'latin1') : '';
  const context = { qemuStderr: vmErr.slice(-500), serialTail: serialText.slice(-1500) };

  const request = lines.find(asked);
  t.ok(request, 'the boot loader on the media asked the site for its script', context);
  if (!request) return;
  const q = new URL(request.req!.url!, 'http://x').searchParams;
  t.equal(q.get('mac'), QEMU_MAC, "with the VM's MAC address");
  t.equal(q.get('uuid'), VM_UUID, "and the VM's SMBIOS UUID");
  t.equal(q.get('mediaForm'), 'cd');
  t.equal(q.get('preferred'), null, 'the preferred deployment comes from the media record, not from the URL');
  t.equal(q.get('unattended'), null, 'as does unattended');
  const answered = lines.find((e) => e.msg === 'request completed' && e.reqId === request.reqId);
  t.equal(answered?.res?.statusCode, 200, 'the site answered with a script');
  t.ok(lines.some(fetchedKernel), "iPXE ran the site's script for the hidden deployment: it asked for its boot image's kernel", context);

  t.match(serialText, /ISOLINUX/, 'isolinux from the ISO started');
  t.match(serialText, /iPXE 1\.|iPXE \(http/, 'the iPXE banner');
  t.match(serialText, `osdeploy: boot media ${media.id}`, "the media's script ran");
  t.match(serialText, `osdeploy: starting Hidden install (${s.hidden}, preferred)`, "and then the site's script for the hidden deployment");
});
