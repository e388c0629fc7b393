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
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { bootEnvMissing, buildBootImage, checkDeployedSerial, deployTaskSequence, knownComputer, ROOT, siteApi, siteCli, stageBootEnvDebs, STEP_NAMES, stepsReported, TS_NAME, watchVm } from '../fixtures/e2e/deploy.js';
import { E1000_ROM, jsonLines, Lab, OVMF, plainSerial, readText, tail, waitFor, whyNot } from '../fixtures/e2e/lab.js';

const ADDR = '10.77.0.1';
const SITE = `http://${ADDR}:8080`;
const TOTAL_SECONDS = 1500;
const VM_SECONDS = 900;
const MACHINES = [
  { name: 'E2E-UEFI-01', mac: '52:54:00:e2:e1:01', firmware: 'uefi', tap: 'tap0' },
  { name: 'E2E-BIOS-01', mac: '52:54:00:e2:e1:02', firmware: 'bios', tap: 'tap1' },
] as const;

const why = whyNot() ?? bootEnvMissing();
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
  const n = await stageBootEnvDebs(data);
  t.comment(`${n} Debian packages ready at ${secs()} s`);

  lab.up(MACHINES.length);
  lab.start('dnsmasq', TOTAL_SECONDS, 'dnsmasq', ['--conf-file=/dev/null', '--port=0', '--no-daemon', '--interface=br0', '--bind-interfaces', '--dhcp-range=10.77.0.100,10.77.0.150,1h', '--no-resolv', '--log-dhcp', '--log-facility=-', '--pid-file=', `--dhcp-leasefile=${path.join(dir, 'leases')}`], files.dnsmasq);
  await waitFor('dnsmasq to listen', 15_000, () => readText(files.dnsmasq).includes('sockets bound exclusively to interface br0'));
  lab.start('osdeploy', TOTAL_SECONDS, process.execPath, ['--import', 'tsx', 'server/cli/osdeploy.ts', 'serve', '--data-dir', data, '--http-port', '8080', '--bind', '0.0.0.0', '--advertise-address', ADDR, '--log-level', 'debug'], files.service, ROOT);
  await waitFor('osdeploy to serve', 60_000, () => jsonLines(files.service).find((e) => String(e.msg).startsWith('osdeploy serving on')));
  const token = readFileSync(path.join(data, 'admin.token'), 'utf8').trim();
  const cli = siteCli(SITE, token, ['ip', 'netns', 'exec', lab.ns]);
  const api = siteApi(SITE, token, (method, url, tok, body) => lab.http(method, url, tok, body));

  // The boot environment, as an administrator builds it.
  const built = buildBootImage(cli);
  t.match(built.contentId, /^PS1/, `boot image ${built.contentId} built: kernel ${built.result.kernelVersion}, initrd ${(built.result.initrdBytes / 1e6).toFixed(1)} MB in ${built.result.seconds.toFixed(0)} s (at ${secs()} s)`);
  const image = api('GET', `/content/${built.contentId}`);
  t.match(image, { kind: 'bootImage', os: 'linux', boot: { os: 'linux', kernel: `content/${built.contentId}/latest/vmlinuz`, initrds: [`content/${built.contentId}/latest/initrd.img`] } }, 'the boot image declares its network boot files in its own content');

  // A small Linux OS image, from the same Debian packages, and the task sequence deploying it, on DP1.
  const { osImageId, kernelVersion, tsId } = await deployTaskSequence(api, data, dir, built.contentId);
  const ids = MACHINES.map((m) => knownComputer(api, m.name, m.mac));
  const coll = api('POST', '/collections', { name: 'E2E imaging', limitingCollectionId: 'SMS00001', directMemberIds: ids });
  const dep = api('POST', '/deployments', { taskSequenceId: tsId, collectionId: coll.id, purpose: 'required', availability: 'mediaPxe', assignments: [{ kind: 'asap' }] });
  const depId = String(dep.id);
  t.comment(`site ready at ${secs()} s: deployment ${depId} of ${tsId} (boot image ${built.contentId}, OS image ${osImageId}, kernel ${kernelVersion})`);

  const boot = async (m: (typeof MACHINES)[number]) => {
    const serial = path.join(dir, `${m.firmware}.serial.log`);
    const disk = path.join(dir, `${m.firmware}.disk.img`);
    execFileSync('truncate', ['-s', '1G', disk]);
    const fw = m.firmware === 'uefi'
      ? ['-machine', 'q35', '-bios', OVMF, '-device', `virtio-net-pci,netdev=n0,mac=${m.mac},romfile=,bootindex=1`]
      : ['-machine', 'q35,graphics=off', '-device', `e1000,netdev=n0,mac=${m.mac},romfile=${E1000_ROM},bootindex=1`];
    const args = ['-accel', 'tcg', '-m', '1024', '-display', 'none', '-monitor', 'none', '-serial', `file:${serial}`, '-netdev', `tap,id=n0,ifname=${m.tap},script=no,downscript=no`, ...fw, '-drive', `file=${disk},format=raw,if=none,id=d0`, '-device', 'virtio-blk-pci,drive=d0,bootindex=2'];
    const vm = lab.start(`qemu-${m.firmware}`, VM_SECONDS, 'qemu-system-x86_64', args, path.join(dir, `${m.firmware}.qemu.log`));
    const run = await watchVm(vm, serial, VM_SECONDS);
    t.comment(`${m.firmware}: qemu exited ${run.code} after ${run.seconds.toFixed(1)} s${run.fatal ? `, stopped on "${run.fatal}"` : ''}`);
    return { code: run.code, text: run.text, file: serial };
  };

  const results = await Promise.all(MACHINES.map(boot));
  const log = jsonLines(files.service);
  for (const [i, m] of MACHINES.entries()) {
    await t.test(`${m.firmware.toUpperCase()}: power-on → PXE → boot environment → task sequence → restart → deployed OS from disk`, async (t) => {
      const vm = results[i]!;
      t.equal(vm.code, 0, 'the VM ended by powering itself off from the deployed OS');
      checkDeployedSerial(t, vm.text, `osdeploy: starting ${TS_NAME} (${depId}`, m.firmware, m.name);
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
      const steps = stepsReported(api, id, 'stepSucceeded');
      for (const want of STEP_NAMES.rest) t.ok(steps.includes(want), `${id}: "${want}" reported succeeded`);
    }
  });
  t.comment(`total ${secs()} s`);
});
