/**
 * Closing the loop (issue 12, R-37, R-17, R-18, R-19, R-29, R-30): bare machines with empty
 * disks go from power-on to their deployed OS through osdeploy alone. In a network namespace
 * beside a DHCP-only dnsmasq, the site builds its boot environment from Debian packages
 * (`osdeploy boot-images build`), a small Linux image is imported as an OS image, and a
 * Required deployment of a task sequence (Format and Partition Disk for BIOS or UEFI, Apply
 * Operating System Image, Run Command Line writing a marker into the target, Restart Computer)
 * goes to a collection of two pre-staged computers. Each VM (UEFI: OVMF with its own PXE; BIOS:
 * SeaBIOS with the NIC's iPXE ROM) PXE-boots into the boot environment, runs the sequence,
 * restarts, is answered with silence on its second network boot (R-19) and boots from its
 * disk into the deployed OS, which prints the marker and its new computer name. The site then
 * shows the deployment succeeded with every step's status.
 *
 * Needs root and the packages .ci/run installs; the boot environment's packages come from the
 * Debian mirror through apt-get download.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { E1000_ROM, exited, inOrder, jsonLines, Lab, OVMF, plainSerial, readText, tail, waitFor, whyNot } from '../fixtures/e2e/lab.js';
import { prefetchPackages } from '../../media/boot-env/build.js';
import { buildOsImage, OS_MARKER } from '../fixtures/e2e/os-image.js';

const CACHE = process.env.OSDEPLOY_E2E_CACHE ?? '/var/cache/osdeploy-e2e';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ADDR = '10.77.0.1';
const SITE = `http://${ADDR}:8080`;
const TOTAL_SECONDS = 1500;
const VM_SECONDS = 900;
const MACHINES = [
  { name: 'E2E-UEFI-01', mac: '52:54:00:e2:e1:01', firmware: 'uefi', tap: 'tap0' },
  { name: 'E2E-BIOS-01', mac: '52:54:00:e2:e1:02', firmware: 'bios', tap: 'tap1' },
] as const;
const MARKER = 'osdeploy-e2e-marker-4711';
const UEFI: object = { kind: 'variable', name: '_SMSTSBootUEFI', operator: 'equals', value: 'true' };
const NOT_UEFI: object = { kind: 'not', condition: UEFI };
/** Serial output after which nothing good follows. */
const FATAL = /Kernel panic - not syncing: .*|osdeploy: the deployment stopped/; // iPXE errors are expected: its second boot gets no offer (R-19)

type Entry = Record<string, unknown>;
const why = whyNot() ?? (['strip', 'dpkg-deb', 'apt-get'].every((x) => { try { execFileSync('sh', ['-c', `command -v ${x}`]); return true; } catch { return false; } }) ? null : 'needs strip, dpkg-deb and apt-get');
t.setTimeout((TOTAL_SECONDS + 60) * 1000);

t.test('bare machines PXE-boot into the boot environment, deploy a Linux OS and boot it from disk (UEFI and BIOS)', { skip: why ?? false, timeout: TOTAL_SECONDS * 1000 }, async (t) => {
  const t0 = Date.now();
  const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
  const dir = mkdtempSync(path.join(tmpdir(), 'osd-deploy-'));
  const lab = new Lab(dir, ADDR);
  const data = path.join(dir, 'data');
  const files = { service: path.join(dir, 'osdeploy.log'), dnsmasq: path.join(dir, 'dnsmasq.log') };
  t.teardown(async () => {
    await lab.close();
    if (t.passing()) rmSync(dir, { recursive: true, force: true });
    else t.comment(`logs kept in ${dir}`);
  });

  // The imaging network has no way out: the boot environment's Debian packages are fetched
  // before, from this host's own network, into the site's package cache (kept between runs).
  const debCache = path.join(CACHE, 'boot-env-debs');
  const n = await prefetchPackages('x64', debCache);
  mkdirSync(path.join(data, 'cache', 'boot-env'), { recursive: true });
  for (const f of readdirSync(debCache)) if (f.endsWith('.deb')) copyFileSync(path.join(debCache, f), path.join(data, 'cache', 'boot-env', f));
  t.comment(`${n} Debian packages ready at ${secs()} s`);

  lab.up(MACHINES.length);
  lab.start('dnsmasq', TOTAL_SECONDS, 'dnsmasq', ['--conf-file=/dev/null', '--port=0', '--no-daemon', '--interface=br0', '--bind-interfaces', '--dhcp-range=10.77.0.100,10.77.0.150,1h', '--no-resolv', '--log-dhcp', '--log-facility=-', '--pid-file=', `--dhcp-leasefile=${path.join(dir, 'leases')}`], files.dnsmasq);
  await waitFor('dnsmasq to listen', 15_000, () => readText(files.dnsmasq).includes('sockets bound exclusively to interface br0'));
  lab.start('osdeploy', TOTAL_SECONDS, process.execPath, ['--import', 'tsx', 'server/cli/osdeploy.ts', 'serve', '--data-dir', data, '--http-port', '8080', '--bind', '0.0.0.0', '--advertise-address', ADDR, '--log-level', 'debug'], files.service, ROOT);
  await waitFor('osdeploy to serve', 60_000, () => jsonLines(files.service).find((e) => String(e.msg).startsWith('osdeploy serving on')));
  const token = readFileSync(path.join(data, 'admin.token'), 'utf8').trim();
  const cli = (...args: string[]): string =>
    execFileSync('ip', ['netns', 'exec', lab.ns, process.execPath, '--import', 'tsx', 'server/cli/osdeploy.ts', ...args], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, OSDEPLOY_SERVER: SITE, OSDEPLOY_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 900_000,
    });
  const api = (method: string, p: string, body?: unknown): Entry => {
    const r = lab.http(method, `${SITE}/api/v1${p}`, token, body);
    if (r.status >= 300) throw new Error(`${method} ${p} answered ${r.status} ${r.body}`);
    return r.body ? (JSON.parse(r.body) as Entry) : {};
  };

  // The boot environment, as an administrator builds it.
  const built = JSON.parse(cli('boot-images', 'build', '--json')) as { contentId: string; result: { initrdBytes: number; kernelVersion: string; seconds: number } };
  t.match(built.contentId, /^PS1/, `boot image ${built.contentId} built: kernel ${built.result.kernelVersion}, initrd ${(built.result.initrdBytes / 1e6).toFixed(1)} MB in ${built.result.seconds.toFixed(0)} s (at ${secs()} s)`);
  const image = api('GET', `/content/${built.contentId}`);
  t.match(image, { kind: 'bootImage', os: 'linux', boot: { os: 'linux', kernel: `content/${built.contentId}/latest/vmlinuz`, initrds: [`content/${built.contentId}/latest/initrd.img`] } }, 'the boot image declares its network boot files in its own content');

  // A small Linux OS image, from the same Debian packages.
  const osDir = path.join(dir, 'os-image');
  mkdirSync(osDir);
  const os = buildOsImage(path.join(data, 'cache', 'boot-env'), osDir);
  const osImage = api('POST', '/content', { kind: 'osImage', name: 'E2E Linux', sourcePath: osDir });
  const osImageId = String(osImage.id);

  const ts = api('POST', '/task-sequences', { type: 'custom', name: 'E2E deploy Linux', bootImageId: built.contentId });
  const tsId = String(ts.id);
  api('POST', `/task-sequences/${tsId}/edits`, {
    operations: [
      { op: 'addStep', type: 'FormatAndPartitionDisk', name: 'Partition Disk 0 - BIOS', condition: NOT_UEFI, properties: { diskNumber: 0, diskType: 'mbr', partitions: ['name=root;type=primary;size=100%;fs=ext4;variable=OSDisk'] } },
      { op: 'addStep', type: 'FormatAndPartitionDisk', name: 'Partition Disk 0 - UEFI', condition: UEFI, properties: { diskNumber: 0, diskType: 'gpt', partitions: ['name=EFI;type=efi;size=100MB;fs=fat32', 'name=root;type=primary;size=100%;fs=ext4;variable=OSDisk'] } },
      { op: 'addStep', type: 'ApplyOperatingSystemImage', name: 'Apply Operating System', properties: { osImageId } },
      { op: 'addStep', type: 'RunCommandLine', name: 'Write marker', properties: { commandLine: `echo ${MARKER} > etc/osdeploy-marker` } },
      { op: 'addStep', type: 'RestartComputer', name: 'Restart Computer', properties: { restartTo: 'currentOs' } },
    ],
  });
  // R-07: the task sequence's content goes to the site's own distribution point first.
  api('POST', '/distributions', { taskSequenceId: tsId, pointIds: ['DP1'] });
  await waitFor('the content to be installed on DP1', 120_000, () => {
    const held = (api('GET', '/distribution-points/DP1/content') as { items?: { contentId?: string; state?: string }[] }).items ?? [];
    return [built.contentId, osImageId].every((id) => held.some((c) => c.contentId === id && c.state === 'installed'));
  });
  const ids = MACHINES.map((m) => String(api('POST', '/computers', { name: m.name, macAddresses: [m.mac], variables: [{ name: 'OSDComputerName', value: m.name.toLowerCase() }] }).id));
  const coll = api('POST', '/collections', { name: 'E2E imaging', limitingCollectionId: 'SMS00001', directMemberIds: ids });
  const dep = api('POST', '/deployments', { taskSequenceId: tsId, collectionId: coll.id, purpose: 'required', availability: 'mediaPxe', assignments: [{ kind: 'asap' }] });
  const depId = String(dep.id);
  t.comment(`site ready at ${secs()} s: deployment ${depId} of ${tsId} (boot image ${built.contentId}, OS image ${osImageId}, kernel ${os.kernelVersion})`);

  const boot = async (m: (typeof MACHINES)[number]) => {
    const serial = path.join(dir, `${m.firmware}.serial.log`);
    const disk = path.join(dir, `${m.firmware}.disk.img`);
    execFileSync('truncate', ['-s', '1G', disk]);
    const fw = m.firmware === 'uefi'
      ? ['-machine', 'q35', '-bios', OVMF, '-device', `virtio-net-pci,netdev=n0,mac=${m.mac},romfile=,bootindex=1`]
      : ['-machine', 'q35,graphics=off', '-device', `e1000,netdev=n0,mac=${m.mac},romfile=${E1000_ROM},bootindex=1`];
    const args = ['-accel', 'tcg', '-m', '1024', '-display', 'none', '-monitor', 'none', '-serial', `file:${serial}`, '-netdev', `tap,id=n0,ifname=${m.tap},script=no,downscript=no`, ...fw, '-drive', `file=${disk},format=raw,if=none,id=d0`, '-device', 'virtio-blk-pci,drive=d0,bootindex=2'];
    const start = Date.now();
    const vm = lab.start(`qemu-${m.firmware}`, VM_SECONDS, 'qemu-system-x86_64', args, path.join(dir, `${m.firmware}.qemu.log`));
    let fatal: string | undefined;
    const watch = setInterval(() => {
      fatal = FATAL.exec(plainSerial(readText(serial)))?.[0];
      if (!fatal) return;
      clearInterval(watch);
      setTimeout(() => vm.kill('SIGTERM'), 3000);
    }, 1000);
    const code = await exited(vm, (VM_SECONDS + 10) * 1000).finally(() => clearInterval(watch));
    t.comment(`${m.firmware}: qemu exited ${code} after ${((Date.now() - start) / 1000).toFixed(1)} s${fatal ? `, stopped on "${fatal}"` : ''}`);
    return { code: fatal ? null : code, text: plainSerial(readText(serial)), file: serial };
  };

  const results = await Promise.all(MACHINES.map(boot));
  const log = jsonLines(files.service);
  for (const [i, m] of MACHINES.entries()) {
    await t.test(`${m.firmware.toUpperCase()}: power-on → PXE → boot environment → task sequence → restart → deployed OS from disk`, async (t) => {
      const vm = results[i]!;
      t.equal(vm.code, 0, 'the VM ended by powering itself off from the deployed OS');
      const order = inOrder(vm.text, [
        `osdeploy: starting E2E deploy Linux (${depId}`,
        'osdeploy: boot environment',
        'osdeploy: loading drivers',
        'osdeploy: starting the network',
        `osdeploy: firmware ${m.firmware.toUpperCase()}; disks: 0=vda`,
        /osdeploy: step \d+ of \d+: Partition Disk 0 - /,
        /osdeploy: step \d+ of \d+: Apply Operating System/,
        /osdeploy: step \d+ of \d+: Write marker/,
        /osdeploy: step \d+ of \d+: Restart Computer/,
        'osdeploy: the task sequence restarts the computer: reboot',
        `${OS_MARKER} hostname=${m.name.toLowerCase()} marker=${MARKER}`,
      ]);
      t.equal(order.missing, null, 'the serial console shows the boot environment, each step, the restart and the deployed OS, in order', { found: order.found });
      t.match(vm.text, new RegExp(`${OS_MARKER}-ROOT /dev/vda\\d /`), 'the deployed OS runs from its own disk');
      t.match(vm.text, new RegExp(`${OS_MARKER}-FSTAB UUID=[0-9a-f-]+ / ext4`), 'its fstab names the root by UUID');
      const lease = new RegExp(`DHCPACK\\(br0\\) (\\S+) ${m.mac}`).exec(readText(files.dnsmasq))?.[1] ?? '';
      const answered = log.filter((e) => e.msg === 'pxe: answered' && e.mac === m.mac);
      t.ok(answered.length >= 1, `proxyDHCP answered ${m.mac} on its first boot`);
      const silent = log.filter((e) => String(e.msg).startsWith('pxe: ignored') && e.mac === m.mac && /R-19|nothing/.test(JSON.stringify(e)));
      t.ok(silent.length >= 1, `its second network boot was answered with silence: nothing to run (R-19)${lease ? ` (lease ${lease})` : ''}`);
      if (!t.passing()) t.comment(`serial (end):\n${plainSerial(tail(vm.file, 60))}`);
    });
  }

  await t.test('the site shows the deployment succeeded on both machines, with every step', async (t) => {
    const status = api('GET', `/deployments/${depId}/status`) as { counts?: Record<string, number> };
    t.match(status, { counts: { success: MACHINES.length, error: 0 } }, `deployment ${depId}: ${JSON.stringify(status.counts)}`);
    for (const id of ids) {
      const history = api('GET', `/computers/${id}/status?limit=1000`) as { messages?: { items?: { kind?: string; step?: { name?: string } }[] } };
      const steps = (history.messages?.items ?? []).filter((s) => s.kind === 'stepSucceeded').map((s) => s.step?.name);
      for (const want of ['Apply Operating System', 'Write marker', 'Restart Computer']) t.ok(steps.includes(want), `${id}: "${want}" reported succeeded`);
    }
  });
  t.comment(`total ${secs()} s`);
});
