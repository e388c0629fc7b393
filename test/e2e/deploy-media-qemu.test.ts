/**
 * Closing the loop from boot media (issue 12, R-37, R-20, R-25, R-26, R-29, R-30): a bare UEFI
 * machine with an empty disk goes from power-on to its deployed OS with a bootable ISO and the
 * site, no PXE. The site builds its boot environment (`osdeploy boot-images build`), imports a
 * small Linux image, and deploys a task sequence (Format and Partition Disk, Apply Operating
 * System Image, Run Command Line writing a marker into the target, Restart Computer) Required
 * and available to media and PXE, to a known computer with OSDComputerName; the content is on
 * DP1. A technician builds bootable ISO media for that deployment (unattended, the site at
 * 10.0.2.2: qemu user networking) with `osdeploy media create`. The VM (OVMF, q35, TCG) has the
 * empty disk first and the ISO second: OVMF falls through the disk to the ISO's UEFI entry,
 * GRUB starts the boot image's kernel and initrd from the ISO with `osdeploy.media=`, the boot
 * environment finds its media, takes the media's token and variables, runs the engine, restarts,
 * and OVMF boots the disk: the deployed OS prints the marker and its new name. The site shows
 * the run (source media) succeeded with every step's status.
 *
 * Needs qemu-system-x86, ovmf, the media tools (xorriso, isolinux, mtools, dosfstools, ipxe,
 * grub-efi-amd64-bin) and apt-get/dpkg-deb/strip for the boot environment (.ci/run); its
 * Debian packages are cached in OSDEPLOY_E2E_CACHE/boot-env-debs, as for deploy-qemu.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { findTool } from '../../media/boot-media/tools.js';
import { bootEnvMissing, buildBootImage, CACHE, checkDeployedSerial, deployTaskSequence, knownComputer, ROOT, siteApi, siteCli, stageBootEnvDebs, startBounded, STEP_NAMES, stepsReported, watchVm } from '../fixtures/e2e/deploy.js';
import { jsonLines, OVMF, plainSerial, tail, waitFor } from '../fixtures/e2e/lab.js';
import { missingFor } from '../media/boot-media/fixture.js';

const TOTAL_SECONDS = 1200;
const VM_SECONDS = 900;
const MACHINE = { name: 'E2E-MEDIA-01', mac: '52:54:00:e2:e2:01' } as const;

function whyNot(): string | false {
  if (process.platform !== 'linux') return 'needs Linux';
  if (!findTool('qemu-system-x86_64')) return 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';
  if (!existsSync(OVMF)) return `${OVMF} is missing (apt-get install ovmf)`;
  for (const tool of ['curl', 'timeout', 'truncate']) if (!findTool(tool)) return `${tool} is missing`;
  const boot = bootEnvMissing();
  if (boot) return boot;
  const cache = existsSync(CACHE) ? CACHE : path.dirname(CACHE);
  try {
    accessSync(cache, constants.W_OK);
  } catch {
    return `${cache} is not writable: the boot environment's packages are cached there (run as root, or set OSDEPLOY_E2E_CACHE)`;
  }
  return missingFor('iso');
}

/** A TCP port nobody listens on now (the site's address goes on the media, so it is fixed before the service starts). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

t.setTimeout((TOTAL_SECONDS + 60) * 1000);

t.test('a bare UEFI machine boots bootable ISO media into the boot environment, deploys a Linux OS and boots it from disk', { skip: whyNot(), timeout: TOTAL_SECONDS * 1000 }, async (t) => {
  const t0 = Date.now();
  const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
  const dir = mkdtempSync(path.join(tmpdir(), 'osd-deploy-media-'));
  const data = path.join(dir, 'data');
  const files = { service: path.join(dir, 'osdeploy.log'), serial: path.join(dir, 'uefi.serial.log'), iso: path.join(dir, 'media.iso'), disk: path.join(dir, 'uefi.disk.img') };
  const procs: ChildProcess[] = [];
  t.teardown(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => (p.exitCode !== null || p.signalCode !== null ? null : new Promise((r) => p.once('exit', r)))));
    if (t.passing()) rmSync(dir, { recursive: true, force: true });
    else t.comment(`logs kept in ${dir}`);
  });

  const n = await stageBootEnvDebs(data);
  t.comment(`${n} Debian packages ready at ${secs()} s`);

  // The guest reaches the host's loopback at 10.0.2.2 (qemu user networking): that is the
  // site's public address, on the media and in the content locations the engine is given.
  const port = await freePort();
  const local = `http://127.0.0.1:${port}`;
  const site = `http://10.0.2.2:${port}`;
  mkdirSync(data, { recursive: true });
  procs.push(startBounded(TOTAL_SECONDS, process.execPath, ['--import', 'tsx', 'server/cli/osdeploy.ts', 'serve', '--data-dir', data, '--http-port', String(port), '--bind', '127.0.0.1', '--public-url', site, '--pxe', 'off', '--tftp', 'off', '--log-level', 'debug'], files.service, ROOT));
  await waitFor('osdeploy to serve', 60_000, () => jsonLines(files.service).find((e) => String(e.msg).startsWith('osdeploy serving on')));
  const token = readFileSync(path.join(data, 'admin.token'), 'utf8').trim();
  const cli = siteCli(local, token);
  const api = siteApi(local, token);

  const built = buildBootImage(cli);
  t.match(built.contentId, /^PS1/, `boot image ${built.contentId} built: kernel ${built.result.kernelVersion}, initrd ${(built.result.initrdBytes / 1e6).toFixed(1)} MB in ${built.result.seconds.toFixed(0)} s (at ${secs()} s)`);
  const { osImageId, tsId } = await deployTaskSequence(api, data, dir, built.contentId);
  const computerId = knownComputer(api, MACHINE.name, MACHINE.mac);
  const coll = api('POST', '/collections', { name: 'E2E media imaging', limitingCollectionId: 'SMS00001', directMemberIds: [computerId] });
  const depId = String(api('POST', '/deployments', { taskSequenceId: tsId, collectionId: coll.id, purpose: 'required', availability: 'mediaPxe', assignments: [{ kind: 'asap' }] }).id);

  // The technician's media: bootable, for this deployment (SMSTSPreferredAdvertID), unattended.
  const media = JSON.parse(cli('media', 'create', '--type', 'bootable', '--deployment', depId, '--unattended', '--site-url', site, '--format', 'iso', '--out', files.iso, '--json')) as { id: string; state: string; preferred: string | null; output: { size: number } };
  t.match(media, { state: 'ready', preferred: depId }, `bootable ISO media ${media.id} for ${depId}: ${(media.output.size / 1e6).toFixed(1)} MB (at ${secs()} s)`);

  // An empty disk first, the ISO second: the first boot falls through the disk to the ISO, the
  // restart after the deployment boots the disk. The NIC has no option ROM (OVMF drives it).
  execFileSync('truncate', ['-s', '1G', files.disk]);
  const args = ['-accel', 'tcg', '-machine', 'q35', '-m', '1024', '-bios', OVMF, '-display', 'none', '-monitor', 'none', '-serial', `file:${files.serial}`,
    '-netdev', 'user,id=n0', '-device', `virtio-net-pci,netdev=n0,mac=${MACHINE.mac},romfile=`,
    '-drive', `file=${files.disk},format=raw,if=none,id=d0`, '-device', 'virtio-blk-pci,drive=d0,bootindex=1',
    '-drive', `file=${files.iso},media=cdrom,if=none,id=cd0,readonly=on,format=raw`, '-device', 'ide-cd,drive=cd0,bus=ide.1,bootindex=2'];
  const vm = startBounded(VM_SECONDS, 'qemu-system-x86_64', args, path.join(dir, 'uefi.qemu.log'));
  procs.push(vm);
  const run = await watchVm(vm, files.serial, VM_SECONDS);
  t.comment(`uefi: qemu exited ${run.code} after ${run.seconds.toFixed(1)} s${run.fatal ? `, stopped on "${run.fatal}"` : ''} (at ${secs()} s)`);
  const log = jsonLines(files.service);
  const requests = log.filter((e) => e.msg === 'incoming request').map((e) => ({ id: e.reqId, url: String((e.req as { url?: string } | undefined)?.url ?? '') }));
  const statusOf = (reqId: unknown) => (log.find((e) => e.msg === 'request completed' && e.reqId === reqId)?.res as { statusCode?: number } | undefined)?.statusCode;

  await t.test('UEFI: power-on → empty disk → ISO → GRUB → boot environment → task sequence → restart → deployed OS from disk', async (t) => {
    const text = run.text;
    t.equal(run.code, 0, 'the VM ended by powering itself off from the deployed OS');
    t.match(text, /BdsDxe: failed to load Boot\d+ "UEFI Misc Device"/, 'OVMF tried the empty disk first');
    t.match(text, /BdsDxe: starting Boot\d+ "UEFI QEMU (DVD|CD)-ROM[^"]*"/, 'then started the ISO from its UEFI El Torito entry');
    t.match(text, `osdeploy: boot media ${media.id}, site ${site}`, "the media's GRUB ran");
    const first = `osdeploy: starting boot image ${built.contentId} (Linux) from the media`;
    checkDeployedSerial(t, text, first, 'uefi', MACHINE.name);
    t.match(text, `osdeploy: site ${site}; starting the task sequence engine`, 'the boot environment took the site from the command line GRUB gave it');
    t.notMatch(text, /osdeploy: the deployment stopped/, 'no failure screen');
    if (!t.passing()) t.comment(`serial (end):\n${plainSerial(tail(files.serial, 80))}`);
  });

  await t.test("the engine asked the site with the media's token and variables; only the OS image came over the network", async (t) => {
    const asked = requests.find((r) => r.url.startsWith('/api/v1/boot-policy?'));
    t.ok(asked, 'the engine asked the site for its boot policy', { requests: requests.map((r) => r.url) });
    if (asked) {
      const q = new URL(asked.url, 'http://x').searchParams;
      t.same(
        { mac: q.get('mac'), source: q.get('source'), preferred: q.get('preferred'), unattended: q.get('unattended'), uefi: q.get('uefi'), mediaForm: q.get('mediaForm') },
        { mac: MACHINE.mac, source: 'media', preferred: depId, unattended: 'true', uefi: 'true', mediaForm: 'cd' },
        'as media (CD) preferring the deployment, unattended, UEFI, with the VM MAC address',
      );
      // The boot environment holds the token only for network boots: a media boot has the media's.
      t.equal(statusOf(asked.id), 200, "the site accepted the media's token");
    }
    t.ok(requests.some((r) => r.url.startsWith(`/content/${osImageId}/`) && statusOf(r.id) === 200), `the OS image ${osImageId} came from DP1`);
    t.notOk(requests.some((r) => r.url.startsWith('/boot/') || r.url.startsWith('/boot.ipxe')), 'the boot image came from the media, not over the network');
  });

  await t.test('the site shows the deployment succeeded, with every step', async (t) => {
    const status = api('GET', `/deployments/${depId}/status`) as { counts?: Record<string, number> };
    t.match(status, { counts: { success: 1, error: 0 } }, `deployment ${depId}: ${JSON.stringify(status.counts)}`);
    const history = api('GET', `/computers/${computerId}/status?limit=1`) as { runs?: { deploymentId?: string; source?: string; state?: string }[]; requiredPxeStarts?: unknown[] };
    t.match(history.runs, [{ deploymentId: depId, source: 'media', state: 'success' }], 'one run, from media, succeeded');
    t.same(history.requiredPxeStarts, [], 'a media start is no PXE start (R-19 keeps no record)');
    const ok = stepsReported(api, computerId, 'stepSucceeded');
    t.same([...ok].sort(), [STEP_NAMES.uefi, ...STEP_NAMES.rest].sort(), 'each step that runs on UEFI reported succeeded, once');
    t.same(stepsReported(api, computerId, 'stepSkipped'), [STEP_NAMES.bios], 'the BIOS partition step reported skipped (its condition is false on UEFI)');
  });
  t.comment(`total ${secs()} s`);
});
