/**
 * End to end (issue 4, R-17, R-18, R-21, R-22): in a network namespace made here, a qemu machine
 * PXE-boots from osdeploy's proxyDHCP next to a plain DHCP server (dnsmasq, DHCP only, no PXE
 * options), gets iPXE over TFTP, fetches its script over HTTP and boots a small Linux whose /init
 * prints its command line. The serial log and the service's JSON log prove each stage, in order.
 *
 *  - UEFI (OVMF, virtio-net without option ROM, so the firmware's own PXE runs): firmware PXE →
 *    proxyDHCP offer of ipxe.efi → TFTP → iPXE → proxyDHCP offer of the script URL → HTTP script →
 *    kernel and initrd over HTTP → Linux.
 *  - BIOS (SeaBIOS with the e1000's iPXE ROM): the ROM is iPXE already, so it goes straight to
 *    the script URL.
 *
 * The machines are unknown to the site: they resolve to the Unknown Computer of their
 * architecture (R-17) and run the Required deployment made to All Unknown Computers.
 * Needs root, qemu-system-x86, ipxe-qemu, ipxe, ovmf, dnsmasq-base, iproute2, curl (.ci/run
 * installs them); the kernel and a static busybox are downloaded once into OSDEPLOY_E2E_CACHE.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { E1000_ROM, exited, inOrder, jsonLines, Lab, OVMF, plainSerial, readText, tail, waitFor, whyNot } from '../fixtures/e2e/lab.js';
import { buildInitramfs, ensureBinaries, INIT_MARKER } from '../fixtures/e2e/payload.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = process.env.OSDEPLOY_E2E_CACHE ?? '/var/cache/osdeploy-e2e';
const ADDR = '10.77.0.1';
const SITE = `http://${ADDR}:8080`;
const TOTAL_SECONDS = 240;
const UEFI_SECONDS = 120;
const BIOS_SECONDS = 75;
const UEFI_MAC = '52:54:00:e2:e0:01';
const BIOS_MAC = '52:54:00:e2:e0:02';
const TS_NAME = 'E2E network boot';
// No `initrd=` here: the generated script must add it for the UEFI kernel to find its initrd.
const CMDLINE = 'console=ttyS0 panic=1';
/** Serial output after which a boot cannot succeed: no PXE offer, an iPXE error, a kernel panic. */
const FATAL = /PXE-E16: No valid offer received|\(https?:\/\/ipxe\.org\/[0-9a-f]{8}\)|Kernel panic - not syncing: .*/;

type Entry = Record<string, unknown>;
type Step = readonly [label: string, match: (e: Entry) => boolean];

/** Each step's first matching log entry after the previous step's; the label of the first missing. */
function stepsInOrder(entries: readonly Entry[], steps: readonly Step[]): string | null {
  let at = 0;
  for (const [label, match] of steps) {
    const i = entries.findIndex((e, n) => n >= at && match(e));
    if (i < 0) return label;
    at = i + 1;
  }
  return null;
}

const req = (e: Entry) => (e.req ?? {}) as { method?: string; url?: string; remoteAddress?: string };
/** An HTTP GET from `ip` whose path starts with `prefix`, answered 200 (its "request completed" line). */
const httpGet = (entries: readonly Entry[], ip: string, prefix: string) => (e: Entry) =>
  e.msg === 'incoming request' &&
  req(e).method === 'GET' &&
  (req(e).url ?? '').startsWith(prefix) &&
  req(e).remoteAddress === ip &&
  entries.some((r) => r.reqId === e.reqId && r.msg === 'request completed' && (r.res as { statusCode?: number } | undefined)?.statusCode === 200);

const leaseOf = (dnsmasqLog: string, mac: string): string | null => new RegExp(`DHCPACK\\(br0\\) (\\S+) ${mac}`).exec(dnsmasqLog)?.[1] ?? null;

const why = whyNot();
t.setTimeout((TOTAL_SECONDS + 30) * 1000);

t.test('a VM network-boots from osdeploy beside a DHCP-only server: PXE → TFTP → iPXE → HTTP → Linux', { skip: why ?? false, timeout: TOTAL_SECONDS * 1000 }, async (t) => {
  const t0 = Date.now();
  const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
  const dir = mkdtempSync(path.join(tmpdir(), 'osd-e2e-'));
  const lab = new Lab(dir, ADDR);
  const data = path.join(dir, 'data');
  const files = { service: path.join(dir, 'osdeploy.log'), dnsmasq: path.join(dir, 'dnsmasq.log') };
  t.teardown(async () => {
    await lab.close();
    if (t.passing()) rmSync(dir, { recursive: true, force: true });
    else t.comment(`logs kept in ${dir}`);
  });

  // The boot payload, in the boot-file store (served by TFTP and at /boot/… over HTTP).
  const bin = ensureBinaries(CACHE);
  mkdirSync(path.join(data, 'tftproot', 'e2e'), { recursive: true, mode: 0o700 });
  copyFileSync(bin.kernel, path.join(data, 'tftproot', 'e2e', 'vmlinuz'));
  writeFileSync(path.join(data, 'tftproot', 'e2e', 'initrd.gz'), buildInitramfs(bin.busybox));
  t.comment(`payload ready at ${secs()} s`);

  // The network: dnsmasq hands out addresses and nothing else; osdeploy is the only PXE server.
  lab.up();
  lab.start('dnsmasq', TOTAL_SECONDS, 'dnsmasq', ['--conf-file=/dev/null', '--port=0', '--no-daemon', '--interface=br0', '--bind-interfaces', '--dhcp-range=10.77.0.100,10.77.0.150,1h', '--no-resolv', '--log-dhcp', '--log-facility=-', '--pid-file=', `--dhcp-leasefile=${path.join(dir, 'leases')}`], files.dnsmasq);
  await waitFor('dnsmasq to listen', 15_000, () => readText(files.dnsmasq).includes('sockets bound exclusively to interface br0'));
  lab.start('osdeploy', TOTAL_SECONDS, process.execPath, ['--import', 'tsx', 'server/cli/osdeploy.ts', 'serve', '--data-dir', data, '--http-port', '8080', '--bind', '0.0.0.0', '--advertise-address', ADDR], files.service, ROOT);
  const ready = await waitFor('osdeploy to serve', 60_000, () => jsonLines(files.service).find((e) => String(e.msg).startsWith('osdeploy serving on')));
  const roles = ready.roles as { role: string; state: string; detail: string }[];
  t.match(roles, [{ role: 'tftp', state: 'up' }, { role: 'pxe', state: 'up' }], 'TFTP and proxyDHCP roles are up on their standard ports');
  t.comment(`service up at ${secs()} s`);

  // The scenario, over the API with the admin token written on first start.
  const token = readFileSync(path.join(data, 'admin.token'), 'utf8').trim();
  const api = (method: string, p: string, body: unknown, what: string): Entry => {
    const r = lab.http(method, `${SITE}/api/v1${p}`, token, body);
    if (r.status !== 201 && r.status !== 200) throw new Error(`${what}: ${method} ${p} answered ${r.status} ${r.body}`);
    return JSON.parse(r.body) as Entry;
  };
  const image = api('POST', '/content', { kind: 'bootImage', name: 'E2E Linux', architecture: 'x64', boot: { os: 'linux', kernel: 'e2e/vmlinuz', initrds: ['e2e/initrd.gz'], cmdline: CMDLINE } }, 'a boot image with network boot files');
  const ts = api('POST', '/task-sequences', { type: 'custom', name: TS_NAME, bootImageId: image.id }, 'a custom task sequence');
  const dep = api('POST', '/deployments', { taskSequenceId: ts.id, collectionId: 'SMS000US', purpose: 'required', availability: 'mediaPxe', assignments: [{ kind: 'asap' }] }, 'a Required deployment to All Unknown Computers');
  const depId = String(dep.id);
  t.match(depId, /^PS12/, `deployment ${depId} made to All Unknown Computers`);

  /**
   * Boots one VM until it powers off, its budget ends, or its serial log shows a failure that
   * nothing will follow (then it is stopped early); its serial output as plain text.
   */
  const boot = async (name: string, seconds: number, qemuArgs: string[]) => {
    const serial = path.join(dir, `${name}.serial.log`);
    const start = Date.now();
    const args = ['-accel', 'tcg', '-m', '512', '-display', 'none', '-monitor', 'none', '-no-reboot', '-serial', `file:${serial}`, '-netdev', 'tap,id=n0,ifname=tap0,script=no,downscript=no', ...qemuArgs];
    const vm = lab.start(`qemu-${name}`, seconds, 'qemu-system-x86_64', args, path.join(dir, `${name}.qemu.log`));
    let fatal: string | undefined;
    const watch = setInterval(() => {
      fatal = FATAL.exec(plainSerial(readText(serial)))?.[0];
      if (!fatal) return;
      clearInterval(watch);
      setTimeout(() => vm.kill('SIGTERM'), 2000); // a little more context in the log first
    }, 500);
    const exit = await exited(vm, (seconds + 10) * 1000).finally(() => clearInterval(watch));
    const code = fatal ? null : exit; // stopped by us: not a power-off
    t.comment(`${name}: qemu exited ${exit} after ${((Date.now() - start) / 1000).toFixed(1)} s (at ${secs()} s)${fatal ? `, stopped on "${fatal}"` : ''}`);
    return { code, text: plainSerial(readText(serial)), file: serial };
  };
  /** What a failed boot looked like: the ends of the serial, service and dnsmasq logs. */
  const explain = (t: Test, serialFile: string) => {
    if (t.passing()) return;
    const lines = (s: string) => s.split('\n').filter((l) => l.trim()).join('\n');
    const svc = jsonLines(files.service).filter((e) => ['pxe', 'tftp', 'http'].includes(String(e.svc)) && !(req(e).url ?? '').startsWith('/api/'));
    t.comment(`serial log (end):\n${lines(plainSerial(tail(serialFile, 40))).split('\n').slice(-20).join('\n')}`);
    t.comment(`osdeploy log, pxe/tftp/http (end):\n${svc.slice(-15).map((e) => JSON.stringify({ ...e, err: (e.err as { message?: string } | undefined)?.message })).join('\n')}`);
    t.comment(`dnsmasq log (end):\n${tail(files.dnsmasq, 8)}`);
  };
  /** The command line our /init printed carries the site, the deployment and the machine's identity. */
  const checkCmdline = (t: Test, text: string, mac: string, arch: string) => {
    const cmdline = /OSDEPLOY-E2E-CMDLINE: (.*)/.exec(text)?.[1] ?? '';
    const want = [`osdeploy.site=${SITE}`, `osdeploy.deployment=${depId}`, `osdeploy.mac=${mac}`, `osdeploy.arch=${arch}`, 'console=ttyS0'];
    t.same(want.filter((w) => !cmdline.split(' ').includes(w)), [], `the kernel command line carries ${want.join(' ')}`, { cmdline });
  };

  await t.test('UEFI: firmware PXE → ipxe.efi over TFTP → iPXE → script over HTTP → Linux', async (t) => {
    const vm = await boot('uefi', UEFI_SECONDS, ['-machine', 'q35', '-bios', OVMF, '-device', `virtio-net-pci,netdev=n0,mac=${UEFI_MAC},romfile=,bootindex=1`]);
    t.equal(vm.code, 0, 'the VM powered itself off (its /init ran)');
    const serial = inOrder(vm.text, [
      '>>Start PXE over IPv4',
      'NBP filename is ipxe.efi',
      'NBP file downloaded successfully',
      'iPXE initialising devices',
      /iPXE \S+ -- Open Source Network Boot Firmware/,
      `Filename: ${SITE}/boot.ipxe?mac=${UEFI_MAC}`,
      `${SITE}/boot.ipxe... ok`,
      `osdeploy: starting ${TS_NAME} (${depId}, required)`,
      `${SITE}/boot/e2e/vmlinuz... ok`,
      `${SITE}/boot/e2e/initrd.gz... ok`,
      'Linux version',
      INIT_MARKER,
      'OSDEPLOY-E2E-CMDLINE:',
    ]);
    t.equal(serial.missing, null, 'the serial log shows firmware PXE, iPXE, the script, the kernel and our /init, in order', { found: serial.found });
    checkCmdline(t, vm.text, UEFI_MAC, 'x64');

    const ip = leaseOf(readText(files.dnsmasq), UEFI_MAC);
    t.ok(ip, `dnsmasq leased an address to ${UEFI_MAC} (${ip})`);
    const log = jsonLines(files.service);
    const size = statSync(path.join(data, 'tftproot', 'ipxe.efi')).size;
    const missing = stepsInOrder(log, [
      ['proxyDHCP offers ipxe.efi to the firmware', (e) => e.msg === 'pxe: answered' && e.mac === UEFI_MAC && e.client === 'firmware' && e.arch === 7 && e.boot === 'ipxe.efi'],
      ['TFTP sends all of ipxe.efi to it', (e) => e.svc === 'tftp' && e.msg === 'transfer complete' && e.file === 'ipxe.efi' && String(e.client).startsWith(`${ip}:`) && e.bytes === size],
      ['proxyDHCP offers the script URL to iPXE', (e) => e.msg === 'pxe: answered' && e.mac === UEFI_MAC && e.client === 'ipxe' && String(e.boot).startsWith(`${SITE}/boot.ipxe?mac=${UEFI_MAC}`)],
      ['GET /boot.ipxe answered 200', httpGet(log, ip ?? '', '/boot.ipxe?')],
      ['GET /boot/e2e/vmlinuz answered 200', httpGet(log, ip ?? '', '/boot/e2e/vmlinuz')],
      ['GET /boot/e2e/initrd.gz answered 200', httpGet(log, ip ?? '', '/boot/e2e/initrd.gz')],
    ]);
    t.equal(missing, null, 'the service log shows PXE offer → TFTP → PXE offer to iPXE → HTTP script, kernel, initrd, in order');
    t.notMatch(readText(files.dnsmasq), /option: *(43|60|66|67) /, 'dnsmasq sent no PXE options (osdeploy alone made the boot decision)');
    explain(t, vm.file);
  });

  await t.test('BIOS: the NIC\'s iPXE ROM → script over HTTP → Linux', async (t) => {
    const vm = await boot('bios', BIOS_SECONDS, ['-machine', 'q35,graphics=off', '-device', `e1000,netdev=n0,mac=${BIOS_MAC},romfile=${E1000_ROM},bootindex=1`]);
    t.equal(vm.code, 0, 'the VM powered itself off (its /init ran)');
    const serial = inOrder(vm.text, [
      'SeaBIOS',
      'iPXE initialising devices',
      /iPXE \S+ -- Open Source Network Boot Firmware/,
      `Filename: ${SITE}/boot.ipxe?mac=${BIOS_MAC}`,
      `osdeploy: starting ${TS_NAME} (${depId}, required)`,
      `${SITE}/boot/e2e/vmlinuz... ok`,
      `${SITE}/boot/e2e/initrd.gz... ok`,
      'Linux version',
      INIT_MARKER,
      'OSDEPLOY-E2E-CMDLINE:',
    ]);
    t.equal(serial.missing, null, 'the serial log shows iPXE, the script, the kernel and our /init, in order', { found: serial.found });
    checkCmdline(t, vm.text, BIOS_MAC, 'x86');
    const ip = leaseOf(readText(files.dnsmasq), BIOS_MAC) ?? '';
    const log = jsonLines(files.service);
    const missing = stepsInOrder(log, [
      ['proxyDHCP offers the script URL to the BIOS iPXE', (e) => e.msg === 'pxe: answered' && e.mac === BIOS_MAC && e.client === 'ipxe' && e.arch === 0 && String(e.boot).startsWith(`${SITE}/boot.ipxe?mac=${BIOS_MAC}`)],
      ['GET /boot.ipxe answered 200', httpGet(log, ip, '/boot.ipxe?')],
      ['GET /boot/e2e/vmlinuz answered 200', httpGet(log, ip, '/boot/e2e/vmlinuz')],
      ['GET /boot/e2e/initrd.gz answered 200', httpGet(log, ip, '/boot/e2e/initrd.gz')],
    ]);
    t.equal(missing, null, 'the service log shows PXE offer to iPXE → HTTP script, kernel, initrd, in order');
    t.notOk(log.some((e) => e.svc === 'tftp' && String(e.client).startsWith(`${ip}:`)), 'no TFTP: an iPXE ROM needs no network boot program');
    explain(t, vm.file);
  });
  t.comment(`total ${secs()} s`);
});
