/**
 * End to end (R-18, the PXE password): the network boot of pxe-qemu.test.ts with a PXE password
 * set, typed into real iPXE firmware over the serial console. In a network namespace made here a
 * qemu machine PXE-boots from osdeploy beside a DHCP-only dnsmasq; the site's script shows iPXE's
 * `login` form, and the test types into it through a qemu socket chardev, one key at a time:
 * `\r` ends a field (the form's Enter moves from Username to Password, and on Password submits;
 * no Tab is needed), the username field starts with the script's `pxe`, the password is drawn
 * as stars.
 *
 * Each machine is given a wrong password first, then the right one. The script's chain sends
 * the answer with HTTP Basic authentication (iPXE answers the site's 401 with the URL's user and
 * password; Debian 12's iPXE 1.0.0+git-20190125 has no `params` command for a POST form): the
 * site refuses the wrong one (nothing boots, the form comes back with the site's message) and the
 * right one boots the payload, whose printed command line carries a per-boot token that the site
 * holds for proven.
 *
 *  - UEFI: OVMF's own PXE → ipxe.efi over TFTP → script.
 *  - BIOS: SeaBIOS with the e1000's iPXE ROM (Debian's ipxe-qemu) → script.
 *
 * Throughout, the password is in no log line, no URL and no serial output.
 * Needs what pxe-qemu.test.ts needs (root, qemu-system-x86, ipxe-qemu, ipxe, ovmf, dnsmasq-base,
 * iproute2, curl; the kernel and busybox are cached in OSDEPLOY_E2E_CACHE).
 */
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
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
const TOTAL_SECONDS = 300;
const UEFI_SECONDS = 150;
const BIOS_SECONDS = 100;
const UEFI_MAC = '52:54:00:e2:e1:01';
const BIOS_MAC = '52:54:00:e2:e1:02';
const TS_NAME = 'E2E password boot';
const CMDLINE = 'console=ttyS0 panic=1';
/** Printable ASCII with characters a form or a URL must encode (`&`, `=`, `%`, `+`, `:`, `@`); no spaces. */
const PASSWORD = 'Tr0ub4dor&3=%+:@ok';
const WRONG = 'letmein-wrong';
const USERNAME = 'tech';
const ASKS = 'osdeploy: this site asks for its PXE password before anything boots';
const REFUSED = 'osdeploy: wrong PXE password';
const GIVES_UP = 'osdeploy: no PXE password given, booting from the next device';
/** Serial output after which nothing good follows: no PXE offer, an iPXE error with its URL, a kernel panic. */
const FATAL = /PXE-E16: No valid offer received|\(https?:\/\/ipxe\.org\/[0-9a-f]{8}\)|Kernel panic - not syncing: .*/;

type Entry = Record<string, unknown>;
const req = (e: Entry) => (e.req ?? {}) as { method?: string; url?: string; remoteAddress?: string };
const statusOf = (entries: readonly Entry[], e: Entry) =>
  (entries.find((r) => r.reqId === e.reqId && r.msg === 'request completed')?.res as { statusCode?: number } | undefined)?.statusCode;
const leaseOf = (dnsmasqLog: string, mac: string): string | null => new RegExp(`DHCPACK\\(br0\\) (\\S+) ${mac}`).exec(dnsmasqLog)?.[1] ?? null;
/** The JSON inside a per-boot token (`osdb_<base64url JSON>.<signature>`, server/site/boot-tokens.ts). */
const tokenPayload = (token: string): Entry => JSON.parse(Buffer.from(token.slice('osdb_'.length, token.lastIndexOf('.')), 'base64url').toString('utf8')) as Entry;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The machine's serial port as a terminal, on a qemu socket chardev: what it printed (kept here
 * and in a log file) and a way to type into it, one key at a time as a person would. qemu waits
 * for this connection before it starts the machine, so nothing printed is lost; the chardev's
 * own `logfile=` is not used, as it sometimes writes a character twice when the socket is busy.
 */
class SerialConsole {
  private sock: Socket | null = null;
  private raw = '';
  private closed = false;
  constructor(
    readonly log: string,
    private readonly socketPath: string,
  ) {}

  async open(): Promise<void> {
    await waitFor(`qemu's serial socket ${this.socketPath}`, 15_000, () => existsSync(this.socketPath));
    this.sock = await new Promise<Socket>((resolve, reject) => {
      const s = connect(this.socketPath, () => resolve(s));
      s.once('error', reject);
    });
    this.sock.on('error', () => undefined);
    this.sock.on('close', () => (this.closed = true));
    this.sock.on('data', (d: Buffer) => {
      this.raw += d.toString('latin1');
      appendFileSync(this.log, d);
    });
  }

  /** Everything printed so far, as it came. */
  output(): string {
    return this.raw;
  }

  text(): string {
    return plainSerial(this.raw);
  }

  /** The first of `whats` to show up from `from`: which, and the index just past it. Rejects after `ms`, when FATAL shows up first, or when the machine is gone. */
  async expect(whats: readonly string[], from: number, ms: number): Promise<{ what: string; at: number }> {
    return waitFor(`${whats.map((w) => `"${w}"`).join(' or ')} on the serial console`, ms, () => {
      const text = this.text();
      const hits = whats.map((what) => ({ what, i: text.indexOf(what, from) })).filter((h) => h.i >= 0);
      if (hits.length) {
        const first = hits.reduce((a, b) => (b.i < a.i ? b : a));
        return { what: first.what, at: first.i + first.what.length };
      }
      const bad = FATAL.exec(text.slice(from));
      if (bad) throw new Error(`"${bad[0]}" on the serial console while waiting for ${whats.join(' or ')}`);
      if (this.closed) throw new Error(`the machine was gone before ${whats.join(' or ')} showed up`);
      return null;
    });
  }

  async type(keys: string): Promise<void> {
    for (const k of keys) {
      await new Promise<void>((resolve, reject) => this.sock!.write(k, (e) => (e ? reject(e) : resolve())));
      await sleep(60);
    }
  }

  /** Waits for iPXE's login form after `from` and fills it; the index past the form. */
  async login(from: number, username: string, password: string): Promise<number> {
    const { at } = await this.expect([ASKS], from, 100_000);
    const form = await this.expect(['Password:'], at, 20_000);
    await sleep(1500); // the form is drawn before it reads keys
    await this.type(`${username}\r${password}\r`);
    return form.at;
  }

  close(): void {
    this.sock?.destroy();
  }
}

const why = whyNot();
t.setTimeout((TOTAL_SECONDS + 30) * 1000);

t.test('the PXE password typed into real iPXE firmware: a wrong one boots nothing, the right one boots a proven machine or nothing is sent', { skip: why ?? false, timeout: TOTAL_SECONDS * 1000 }, async (t) => {
  const t0 = Date.now();
  const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
  const dir = mkdtempSync(path.join(tmpdir(), 'osd-e2e-pw-'));
  const lab = new Lab(dir, ADDR);
  const data = path.join(dir, 'data');
  const files = { service: path.join(dir, 'osdeploy.log'), dnsmasq: path.join(dir, 'dnsmasq.log') };
  t.teardown(async () => {
    await lab.close();
    if (t.passing()) rmSync(dir, { recursive: true, force: true });
    else t.comment(`logs kept in ${dir}`);
  });

  const bin = ensureBinaries(CACHE);
  mkdirSync(path.join(data, 'tftproot', 'e2e'), { recursive: true, mode: 0o700 });
  copyFileSync(bin.kernel, path.join(data, 'tftproot', 'e2e', 'vmlinuz'));
  writeFileSync(path.join(data, 'tftproot', 'e2e', 'initrd.gz'), buildInitramfs(bin.busybox));

  lab.up();
  lab.start('dnsmasq', TOTAL_SECONDS, 'dnsmasq', ['--conf-file=/dev/null', '--port=0', '--no-daemon', '--interface=br0', '--bind-interfaces', '--dhcp-range=10.77.0.100,10.77.0.150,1h', '--no-resolv', '--log-dhcp', '--log-facility=-', '--pid-file=', `--dhcp-leasefile=${path.join(dir, 'leases')}`], files.dnsmasq);
  await waitFor('dnsmasq to listen', 15_000, () => readText(files.dnsmasq).includes('sockets bound exclusively to interface br0'));
  lab.start('osdeploy', TOTAL_SECONDS, process.execPath, ['--import', 'tsx', 'server/cli/osdeploy.ts', 'serve', '--data-dir', data, '--http-port', '8080', '--bind', '0.0.0.0', '--advertise-address', ADDR], files.service, ROOT);
  await waitFor('osdeploy to serve', 60_000, () => jsonLines(files.service).find((e) => String(e.msg).startsWith('osdeploy serving on')));
  t.comment(`service up at ${secs()} s`);

  const admin = readFileSync(path.join(data, 'admin.token'), 'utf8').trim();
  const api = (method: string, p: string, body: unknown, what: string): Entry => {
    const r = lab.http(method, `${SITE}/api/v1${p}`, admin, body);
    if (r.status !== 201 && r.status !== 200) throw new Error(`${what}: ${method} ${p} answered ${r.status} ${r.body}`);
    return JSON.parse(r.body) as Entry;
  };
  const settings = api('PATCH', '/settings', { pxe: { password: PASSWORD } }, 'a PXE password');
  t.match(settings, { pxe: { passwordRequired: true, passwordSet: true } }, 'the site has a PXE password and requires it');
  t.notOk(JSON.stringify(settings).includes(PASSWORD), 'the settings answer does not show it');
  const image = api('POST', '/content', { kind: 'bootImage', name: 'E2E Linux', architecture: 'x64', boot: { os: 'linux', kernel: 'e2e/vmlinuz', initrds: ['e2e/initrd.gz'], cmdline: CMDLINE } }, 'a boot image');
  const ts = api('POST', '/task-sequences', { type: 'custom', name: TS_NAME, bootImageId: image.id }, 'a custom task sequence');
  const depId = String(api('POST', '/deployments', { taskSequenceId: ts.id, collectionId: 'SMS000US', purpose: 'required', availability: 'mediaPxe', assignments: [{ kind: 'asap' }] }, 'a Required deployment to All Unknown Computers').id);
  t.match(depId, /^PS12/, `deployment ${depId} made to All Unknown Computers`);

  // What anyone gets without the password: the form, and nothing that boots.
  const unproven = lab.http('GET', `${SITE}/boot.ipxe?mac=${UEFI_MAC}&arch=x64&uefi=true`);
  t.equal(unproven.status, 200, 'GET /boot.ipxe answers');
  t.match(unproven.body, /^login\b/m, "its script asks with iPXE's login form");
  t.notMatch(unproven.body, /^kernel |osdeploy\.token=|osdb_/m, 'and carries no kernel and no boot token');

  /**
   * Boots one VM with its serial port on a socket and fills the PXE password form: the wrong
   * password, then the right one. Ends when the VM powers off (or is stopped on a failure).
   */
  const boot = async (name: string, seconds: number, qemuArgs: string[]) => {
    const serial = path.join(dir, `${name}.serial.log`);
    const sock = path.join(dir, `${name}.serial.sock`);
    const start = Date.now();
    const args = ['-accel', 'tcg', '-m', '512', '-display', 'none', '-monitor', 'none', '-no-reboot', '-chardev', `socket,id=s0,path=${sock},server=on,wait=on`, '-serial', 'chardev:s0', '-netdev', 'tap,id=n0,ifname=tap0,script=no,downscript=no', ...qemuArgs];
    const vm = lab.start(`qemu-${name}`, seconds, 'qemu-system-x86_64', args, path.join(dir, `${name}.qemu.log`));
    const exit = exited(vm, (seconds + 10) * 1000);
    const con = new SerialConsole(serial, sock);
    let failure: string | null = null;
    let canSend: boolean | null = null;
    try {
      await con.open();
      let at = await con.login(0, USERNAME, WRONG);
      const answer = await con.expect([REFUSED, GIVES_UP], at, 30_000);
      canSend = answer.what === REFUSED;
      if (!canSend) throw new Error('the script gave up instead of sending the answer');
      at = await con.login(answer.at, USERNAME, PASSWORD);
      await con.expect(['OSDEPLOY-E2E-CMDLINE:'], at, 60_000);
    } catch (e) {
      failure = (e as Error).message;
      vm.kill('SIGTERM');
    }
    const code = await exit;
    con.close();
    t.comment(`${name}: qemu exited ${code} after ${((Date.now() - start) / 1000).toFixed(1)} s (at ${secs()} s)${failure ? `: ${failure}` : ''}`);
    return { code, failure, canSend, text: con.text(), raw: con.output(), file: serial };
  };
  const explain = (t: Test, serialFile: string) => {
    if (t.passing()) return;
    const svc = jsonLines(files.service).filter((e) => ['pxe', 'tftp', 'http'].includes(String(e.svc)) && !(req(e).url ?? '').startsWith('/api/'));
    t.comment(`serial log (end):\n${plainSerial(tail(serialFile, 60)).split('\n').filter((l) => l.trim()).slice(-25).join('\n')}`);
    t.comment(`osdeploy log, pxe/tftp/http (end):\n${svc.slice(-15).map((e) => JSON.stringify({ ...e, err: (e.err as { message?: string } | undefined)?.message })).join('\n')}`);
    t.comment(`dnsmasq log (end):\n${tail(files.dnsmasq, 8)}`);
  };

  /** What one machine's boot must show, given whether its iPXE could send the answer. */
  const check = (t: Test, vm: Awaited<ReturnType<typeof boot>>, m: { mac: string; arch: string; script: string; firmware: string }) => {
    t.equal(vm.failure, null, 'the serial console showed the form and what followed it');
    const shown = [PASSWORD, WRONG, encodeURIComponent(PASSWORD), Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')];
    t.notOk(shown.some((p) => vm.raw.includes(p)), 'the form masked the passwords on the console, and no URL printed them');
    const ip = leaseOf(readText(files.dnsmasq), m.mac) ?? '';
    t.ok(ip, `dnsmasq leased an address to ${m.mac} (${ip})`);
    const log = jsonLines(files.service);
    const reqs = log.filter((e) => e.msg === 'incoming request' && req(e).remoteAddress === ip && (req(e).url ?? '').startsWith('/boot'));
    const lines = reqs.map((e) => `${req(e).method} ${req(e).url} ${statusOf(log, e)}`);
    t.comment(`${m.firmware}: requests to the site:\n${lines.join('\n')}`);
    const refused = reqs.filter((e) => log.some((r) => r.reqId === e.reqId && r.msg === 'PXE password refused'));
    const payload = reqs.filter((e) => (req(e).url ?? '').startsWith('/boot/e2e/'));

    t.equal(vm.canSend, true, 'the form was sent and answered');
    t.equal(vm.code, 0, 'the VM powered itself off (its /init ran)');
    const serial = inOrder(vm.text, [
      ASKS,
      'Username:',
      'Password:',
      REFUSED,
      ASKS,
      'Username:',
      'Password:',
      `osdeploy: starting ${TS_NAME} (${depId}, required)`,
      `${SITE}/boot/e2e/vmlinuz... ok`,
      `${SITE}/boot/e2e/initrd.gz... ok`,
      'Linux version',
      INIT_MARKER,
      'OSDEPLOY-E2E-CMDLINE:',
    ]);
    t.equal(serial.missing, null, 'the serial log shows the form, the refusal, the form again, then the kernel and our /init, in order', { found: serial.found });
    t.equal(lines[0], `GET ${m.script} 200`, 'the machine first asked for its script');
    t.equal(refused.length, 1, 'the site refused one answer (PXE password refused)');
    t.same(payload.map((e) => `${req(e).url} ${statusOf(log, e)}`), ['/boot/e2e/vmlinuz 200', '/boot/e2e/initrd.gz 200'], 'the kernel and initrd were fetched once each');
    t.ok(refused[0] && payload[0] && reqs.indexOf(refused[0]) < reqs.indexOf(payload[0]), 'and only after the refusal');
    const answers = reqs.filter((e) => (req(e).url ?? '').startsWith('/boot.ipxe') && reqs.indexOf(e) > 0);
    t.ok(answers.length >= 2 && !refused.includes(answers[answers.length - 1]!), 'the last answer before the kernel was taken');

    const cmdline = /OSDEPLOY-E2E-CMDLINE: (.*)/.exec(vm.text)?.[1] ?? '';
    const want = [`osdeploy.site=${SITE}`, `osdeploy.deployment=${depId}`, `osdeploy.mac=${m.mac}`, `osdeploy.arch=${m.arch}`];
    t.same(want.filter((w) => !cmdline.split(' ').includes(w)), [], `the kernel command line carries ${want.join(' ')}`, { cmdline });
    const token = /(?:^| )osdeploy\.token=(osdb_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)(?: |$)/.exec(cmdline)?.[1] ?? '';
    t.ok(token, 'and a per-boot token (osdeploy.token=osdb_…)', { cmdline });
    if (!token) return;
    t.match(tokenPayload(token), { p: true, s: 'pxe', m: [m.mac], d: [depId] }, 'the token is proven, from PXE, for this machine and deployment');
    // The site checks the token's signature and answers the boot's policy as a proven boot's.
    const policy = lab.http('GET', `${SITE}/api/v1/boot-policy?mac=${m.mac}&arch=${m.arch}`, token);
    t.equal(policy.status, 200, 'the site takes the token for the boot policy');
    const renewed = String((JSON.parse(policy.body) as Entry).bootToken ?? '');
    t.match(renewed ? tokenPayload(renewed) : {}, { p: true, m: [m.mac] }, 'and answers with a token that is still proven');
    const altered = `osdb_${Buffer.from(JSON.stringify({ ...tokenPayload(token), m: ['52:54:00:00:00:01'] })).toString('base64url')}${token.slice(token.lastIndexOf('.'))}`;
    t.equal(lab.http('GET', `${SITE}/api/v1/boot-policy?mac=${m.mac}&arch=${m.arch}`, altered).status, 401, 'an altered token is refused');
  };

  await t.test('UEFI: OVMF PXE → ipxe.efi over TFTP → the PXE password form', async (t) => {
    const vm = await boot('uefi', UEFI_SECONDS, ['-machine', 'q35', '-bios', OVMF, '-device', `virtio-net-pci,netdev=n0,mac=${UEFI_MAC},romfile=,bootindex=1`]);
    check(t, vm, { mac: UEFI_MAC, arch: 'x64', script: `/boot.ipxe?mac=${encodeURIComponent(UEFI_MAC)}&arch=x64&uefi=true`, firmware: 'UEFI' });
    explain(t, vm.file);
  });

  await t.test("BIOS: SeaBIOS with the e1000's iPXE ROM → the PXE password form", async (t) => {
    const vm = await boot('bios', BIOS_SECONDS, ['-machine', 'q35,graphics=off', '-device', `e1000,netdev=n0,mac=${BIOS_MAC},romfile=${E1000_ROM},bootindex=1`]);
    check(t, vm, { mac: BIOS_MAC, arch: 'x86', script: `/boot.ipxe?mac=${encodeURIComponent(BIOS_MAC)}&arch=x86`, firmware: 'BIOS' });
    explain(t, vm.file);
  });

  await t.test('the password is in no log line and no URL', async (t) => {
    const forms = [...new Set([PASSWORD, WRONG].flatMap((p) => [p, encodeURIComponent(p), new URLSearchParams({ p }).toString().slice(2), ...[USERNAME, `pxe${USERNAME}`].map((u) => Buffer.from(`${u}:${p}`).toString('base64'))]))];
    const svc = readText(files.service);
    t.same(forms.filter((f) => svc.includes(f)), [], 'the service log holds neither password, plain or encoded');
    const urls = jsonLines(files.service).map((e) => req(e).url ?? '').filter(Boolean);
    t.ok(urls.some((u) => u.startsWith('/boot.ipxe')), 'the service logged the boot requests');
    t.same(urls.filter((u) => forms.some((f) => u.includes(f)) || /password/i.test(u)), [], 'no requested URL carries it');
    t.same(forms.filter((f) => readText(files.dnsmasq).includes(f)), [], "nor the DHCP server's log");
  });
  t.comment(`total ${secs()} s`);
});
