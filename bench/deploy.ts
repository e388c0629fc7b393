/**
 * Power-on to deployed OS, per phase (issue 12, R-37): one UEFI machine PXE-boots into the boot
 * environment and runs the end-to-end task sequence of test/e2e/deploy-qemu.test.ts (same
 * fixtures: a network namespace beside a DHCP-only dnsmasq, the boot image built with
 * `osdeploy boot-images build`, the small Linux OS image, Format/Apply/Run Command Line/Restart),
 * and the script prints how long each phase took:
 *
 *   firmware + DHCP        power-on → proxyDHCP offer → iPXE loaded over TFTP → iPXE script fetched
 *   boot env download      the iPXE script → the kernel and the initrd fetched over HTTP
 *   boot to engine         initrd fetched → kernel started, initrd unpacked (/init runs) → drivers,
 *                          network up → the engine running its task sequence
 *   each step              from the engine's progress lines on the serial console
 *   reboot to deployed OS  the restart → the firmware's network boot answered with silence (R-19)
 *                          → the deployed OS's marker line from its disk
 *
 * Times come from the site's JSON log (pino's `time`) and from the serial console, whose lines are
 * timestamped as they arrive (the file is polled every 50 ms; same host clock).
 *
 * Peer, in the same run: the same kernel and initrd fetched by iPXE (ipxe.lkrn started by qemu
 * with a script as its initrd, so no firmware or DHCP is timed) from osdeploy's /boot/content and
 * from a plain reference server (python3 -m http.server) on the same bridge, alternating, several
 * rounds; and the same files fetched by curl from each, from the host side of the bridge. Debian's
 * ipxe.efi (2019) cannot be handed a script, so the iPXE comparison runs iPXE's BIOS build.
 * Targets: the boot environment downloads in under 10 s in the PXE run, and osdeploy serves iPXE
 * at ≥ 0.8× the reference's speed.
 *
 *   npm run bench:deploy                   # as root: what deploy-qemu needs, plus python3
 *   node --import tsx bench/deploy.ts --rounds 5 --keep-dir
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bootEnvMissing, buildBootImage, deployTaskSequence, deployedOsLine, knownComputer, ROOT, siteApi, siteCli, stageBootEnvDebs, watchVm } from '../test/fixtures/e2e/deploy.js';
import { jsonLines, Lab, OVMF, readText, waitFor, whyNot } from '../test/fixtures/e2e/lab.js';

const { values: opts } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, 'keep-dir': { type: 'boolean', default: false } } });
const ROUNDS = Math.max(1, Number(opts.rounds));
const ADDR = '10.77.0.1';
const SITE = `http://${ADDR}:8080`;
const REF = `http://${ADDR}:8081`;
const TOTAL_SECONDS = 1800;
const VM_SECONDS = 900;
const MACHINE = { name: 'BENCH-UEFI-01', mac: '52:54:00:be:0c:01' } as const;
const REF_MAC = '52:54:00:be:0c:02';
const TARGET_DOWNLOAD_S = 10;
const TARGET_RATIO = 0.8;

type Entry = Record<string, unknown>;

/** Serial output timestamped as it arrives: the file's growth, polled. */
class SerialClock {
  private readonly chunks: { end: number; at: number }[] = [];
  private size = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(readonly file: string) {
    this.timer = setInterval(() => this.poll(), 50);
  }
  private poll(): void {
    let size: number;
    try {
      size = statSync(this.file).size;
    } catch {
      return;
    }
    if (size > this.size) this.chunks.push({ end: (this.size = size), at: Date.now() });
  }
  stop(): void {
    this.poll();
    clearInterval(this.timer);
  }
  text(): string {
    return readText(this.file);
  }
  /** When the byte at `index` arrived. */
  at(index: number): number | null {
    return this.chunks.find((c) => c.end > index)?.at ?? null;
  }
  /** The first `marker` at or after `from` in the raw output: where, and when it arrived. */
  find(marker: string | RegExp, from = 0): { index: number; end: number; at: number } | null {
    const raw = this.text();
    const rest = raw.slice(from);
    const m = typeof marker === 'string' ? (rest.indexOf(marker) >= 0 ? { index: rest.indexOf(marker), length: marker.length } : null) : ((r) => (r ? { index: r.index, length: r[0].length } : null))(marker.exec(rest));
    if (!m) return null;
    const index = from + m.index;
    const at = this.at(index + m.length - 1);
    return at === null ? null : { index, end: index + m.length, at };
  }
}

const timeOf = (e: Entry): number => (typeof e.time === 'number' ? e.time : Date.parse(String(e.time)));
const urlOf = (e: Entry): string => String((e.req as { url?: string } | undefined)?.url ?? '');
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Row {
  readonly phase: string;
  readonly from: number | null;
  readonly to: number | null;
  readonly note?: string;
  readonly sub?: boolean;
}

function printRows(rows: readonly Row[], t0: number): void {
  const s = (ms: number | null) => (ms === null ? '—' : (ms / 1000).toFixed(1));
  const w = Math.max(...rows.map((r) => r.phase.length + (r.sub ? 2 : 0)));
  console.log(`| ${'phase'.padEnd(w)} | at (s) | took (s) | detail |`);
  console.log(`|${'-'.repeat(w + 2)}|-------:|---------:|---|`);
  for (const r of rows) {
    const took = r.from !== null && r.to !== null ? r.to - r.from : null;
    console.log(`| ${(r.sub ? `  ${r.phase}` : r.phase).padEnd(w)} | ${s(r.to === null ? null : r.to - t0).padStart(6)} | ${s(took).padStart(8)} | ${r.note ?? ''} |`);
  }
}

/** The phases of the PXE deployment, from the site's log and the serial console. */
function phases(log: Entry[], serial: SerialClock, powerOn: number, bytes: { kernel: number; initrd: number }): { rows: Row[]; downloadMs: number | null } {
  const mine = log.filter((e) => e.mac === MACHINE.mac);
  const offer = mine.find((e) => e.msg === 'pxe: answered' && e.client === 'firmware');
  const tftp = log.find((e) => e.msg === 'transfer complete' && String(e.file).endsWith('.efi') && (!offer || timeOf(e) > timeOf(offer)));
  const script = log.find((e) => e.msg === 'incoming request' && urlOf(e).startsWith('/boot.ipxe?') && urlOf(e).includes(encodeURIComponent(MACHINE.mac)));
  // The VM's own requests (the bench fetched the same files for the reference server before it).
  const fromVm = (e: Entry) => (e.req as { remoteAddress?: string } | undefined)?.remoteAddress !== ADDR && (!script || timeOf(e) >= timeOf(script));
  const kernelReq = log.find((e) => e.msg === 'incoming request' && urlOf(e).endsWith('/latest/vmlinuz') && fromVm(e));
  const initrdReq = log.find((e) => e.msg === 'incoming request' && urlOf(e).endsWith('/latest/initrd.img') && fromVm(e));
  const initrdDone = initrdReq ? log.find((e) => e.msg === 'request completed' && e.reqId === initrdReq.reqId) : undefined;
  const t = (e: Entry | undefined) => (e ? timeOf(e) : null);
  const s = (m: string | RegExp, from = 0) => serial.find(m, from);

  const stub = s('EFI stub:');
  const init = s('osdeploy: boot environment');
  const net = s('osdeploy: starting the network');
  const lease = s(/osdeploy: eth\d+ \S+ \d+\.\d+\.\d+\.\d+/);
  const engine = s(/osdeploy: running [^\r\n]*/);
  const rows: Row[] = [
    { phase: 'firmware + DHCP (power-on → iPXE script fetched)', from: powerOn, to: t(script) },
    { phase: 'firmware start, DHCP: proxyDHCP offer', from: powerOn, to: t(offer), sub: true },
    { phase: 'iPXE (ipxe.efi) over TFTP', from: t(offer), to: t(tftp), sub: true },
    { phase: "iPXE's DHCP, script fetched", from: t(tftp), to: t(script), sub: true },
  ];
  const dl = t(initrdDone) !== null && t(script) !== null ? t(initrdDone)! - t(script)! : null;
  const xfer = t(initrdDone) !== null && t(kernelReq) !== null ? t(initrdDone)! - t(kernelReq)! : null;
  rows.push({ phase: 'boot environment download (kernel + initrd)', from: t(script), to: t(initrdDone), note: `${((bytes.kernel + bytes.initrd) / 1e6).toFixed(1)} MB${xfer ? `, ${((bytes.kernel + bytes.initrd) / 1e6 / (xfer / 1000)).toFixed(1)} MB/s` : ''}` });
  rows.push({ phase: 'boot to engine', from: t(initrdDone), to: engine?.at ?? null });
  rows.push({ phase: 'kernel started (EFI stub)', from: t(initrdDone), to: stub?.at ?? null, sub: true });
  rows.push({ phase: 'kernel boot, initrd unpacked: /init runs', from: stub?.at ?? t(initrdDone), to: init?.at ?? null, sub: true });
  rows.push({ phase: 'drivers loaded', from: init?.at ?? null, to: net?.at ?? null, sub: true });
  rows.push({ phase: 'network up (DHCP)', from: net?.at ?? null, to: lease?.at ?? null, sub: true });
  rows.push({ phase: 'engine started, policy fetched', from: lease?.at ?? null, to: engine?.at ?? null, sub: true });
  rows.push(...stepRows(serial, engine?.end ?? 0));
  rows.push(...rebootRows(serial, log));
  rows.push({ phase: 'total: power-on → deployed OS', from: powerOn, to: s(deployedOsLine(MACHINE.name))?.at ?? null });
  return { rows, downloadMs: dl };
}

/** One row per step: its "step i of n: NAME" line to its "… done" (or FAILED) line. */
function stepRows(serial: SerialClock, from: number): Row[] {
  const rows: Row[] = [];
  const raw = serial.text().slice(from);
  for (const m of raw.matchAll(/osdeploy: step (\d+) of (\d+): ([^\r\n]*?)\r*\n/g)) {
    const name = m[3]!;
    if (/ \d+%$| done$| FAILED/.test(name)) continue;
    const start = serial.at(from + m.index! + m[0].length - 1);
    const end = serial.find(new RegExp(`osdeploy: step ${m[1]} of ${m[2]}: ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (done|FAILED[^\\r\\n]*)`), from + m.index!);
    rows.push({ phase: `step ${m[1]} of ${m[2]}: ${name}`, from: start, to: end?.at ?? null });
  }
  return rows;
}

function rebootRows(serial: SerialClock, log: Entry[]): Row[] {
  const restart = serial.find('osdeploy: the task sequence restarts the computer: reboot');
  const after = restart?.end ?? 0;
  const disk = serial.find(/BdsDxe: starting Boot\d+ "UEFI Misc Device[^"]*"/, after);
  const os = serial.find(deployedOsLine(MACHINE.name), after);
  const silent = log.filter((e) => String(e.msg).startsWith('pxe: ignored') && e.mac === MACHINE.mac && /R-19/.test(JSON.stringify(e)) && restart && timeOf(e) > restart.at);
  // The firmware's boot options before the disk, each until the next one starts (OVMF: PXE and HTTP boot, IPv4 and IPv6).
  const tries: { name: string; at: number }[] = [];
  for (let from = after, hit = serial.find(/>>Start ([^\r\n.]*)/, from); hit && (!disk || hit.index < disk.index); from = hit.end, hit = serial.find(/>>Start ([^\r\n.]*)/, from)) {
    tries.push({ name: /Start ([^\r\n.]*)/.exec(serial.text().slice(hit.index, hit.end))![1]!, at: hit.at });
  }
  const firstTry = tries[0]?.at ?? null;
  return [
    { phase: 'reboot to deployed OS', from: restart?.at ?? null, to: os?.at ?? null },
    { phase: 'restart: firmware start', from: restart?.at ?? null, to: firstTry, sub: true },
    ...tries.map((x, i): Row => ({ phase: `${x.name} (answered with silence, R-19)`, from: x.at, to: tries[i + 1]?.at ?? disk?.at ?? null, sub: true, note: i === 0 ? `${silent.length} PXE request(s) ignored by the site` : '' })),
    { phase: 'disk: GRUB menu, kernel, the marker line', from: disk?.at ?? null, to: os?.at ?? null, sub: true },
  ];
}

/** The iPXE script for the peer comparison: the same two files from each server, alternating, `rounds` times. */
function peerScript(bootImageId: string, rounds: number): string {
  const servers = { osdeploy: `${SITE}/boot/content/${bootImageId}/latest`, reference: REF };
  const lines = ['#!ipxe', 'dhcp || dhcp || goto end'];
  for (let r = 1; r <= rounds; r++) {
    const order = r % 2 ? (['osdeploy', 'reference'] as const) : (['reference', 'osdeploy'] as const);
    for (const who of order) {
      lines.push(`echo BENCH-START ${who} ${r}`, `imgfetch ${servers[who]}/vmlinuz || goto end`, `imgfetch ${servers[who]}/initrd.img || goto end`, `echo BENCH-DONE ${who} ${r}`, 'imgfree');
    }
  }
  lines.push(':end', 'echo BENCH-END', 'sleep 600', '');
  return lines.join('\n');
}

/** Runs the peer iPXE VM; seconds per round and server. */
async function ipxePeer(lab: Lab, dir: string, bootImageId: string): Promise<{ osdeploy: number[]; reference: number[] }> {
  const script = path.join(dir, 'peer.ipxe');
  writeFileSync(script, peerScript(bootImageId, ROUNDS));
  const serialFile = path.join(dir, 'peer.serial.log');
  const serial = new SerialClock(serialFile);
  const args = ['-accel', 'tcg', '-machine', 'q35,graphics=off', '-m', '1024', '-display', 'none', '-monitor', 'none', '-serial', `file:${serialFile}`, '-kernel', '/usr/lib/ipxe/ipxe.lkrn', '-initrd', script,
    '-netdev', 'tap,id=n0,ifname=tap1,script=no,downscript=no', '-device', `e1000,netdev=n0,mac=${REF_MAC},romfile=`];
  const vm = lab.start('qemu-peer', 600, 'qemu-system-x86_64', args, path.join(dir, 'peer.qemu.log'));
  try {
    await waitFor('the peer iPXE run to end', 600_000, () => serial.find('BENCH-END'));
  } finally {
    serial.stop();
    vm.kill('SIGTERM');
  }
  const out = { osdeploy: [] as number[], reference: [] as number[] };
  for (let r = 1; r <= ROUNDS; r++) {
    for (const who of ['osdeploy', 'reference'] as const) {
      const a = serial.find(`BENCH-START ${who} ${r}`);
      const b = serial.find(`BENCH-DONE ${who} ${r}`);
      if (!a || !b) throw new Error(`the peer run has no figures for ${who} round ${r}; see ${serialFile}`);
      out[who].push((b.at - a.at) / 1000);
    }
  }
  return out;
}

/** curl from the host side of the bridge: MB/s per run for one URL. */
function curlRuns(lab: Lab, urls: readonly string[], runs: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    let bytes = 0;
    let secs = 0;
    for (const url of urls) {
      const r = execFileSync('ip', ['netns', 'exec', lab.ns, 'curl', '-sS', '--fail', '-o', '/dev/null', '-w', '%{size_download} %{time_total}', url], { encoding: 'utf8' }).trim().split(' ').map(Number);
      bytes += r[0]!;
      secs += r[1]!;
    }
    out.push(bytes / 1e6 / secs);
  }
  return out;
}

async function main(): Promise<number> {
  const why = whyNot() ?? bootEnvMissing();
  if (why) {
    console.error(`bench/deploy.ts cannot run here: ${why}`);
    return 2;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'osd-bench-deploy-'));
  const lab = new Lab(dir, ADDR);
  const data = path.join(dir, 'data');
  const files = { service: path.join(dir, 'osdeploy.log'), dnsmasq: path.join(dir, 'dnsmasq.log'), serial: path.join(dir, 'uefi.serial.log') };
  try {
    const packages = await stageBootEnvDebs(data);
    lab.up(2);
    lab.start('dnsmasq', TOTAL_SECONDS, 'dnsmasq', ['--conf-file=/dev/null', '--port=0', '--no-daemon', '--interface=br0', '--bind-interfaces', '--dhcp-range=10.77.0.100,10.77.0.150,1h', '--no-resolv', '--log-dhcp', '--log-facility=-', '--pid-file=', `--dhcp-leasefile=${path.join(dir, 'leases')}`], files.dnsmasq);
    await waitFor('dnsmasq to listen', 15_000, () => readText(files.dnsmasq).includes('sockets bound exclusively to interface br0'));
    lab.start('osdeploy', TOTAL_SECONDS, process.execPath, ['--import', 'tsx', 'server/cli/osdeploy.ts', 'serve', '--data-dir', data, '--http-port', '8080', '--bind', '0.0.0.0', '--advertise-address', ADDR, '--log-level', 'debug'], files.service, ROOT);
    await waitFor('osdeploy to serve', 60_000, () => jsonLines(files.service).find((e) => String(e.msg).startsWith('osdeploy serving on')));
    const token = readFileSync(path.join(data, 'admin.token'), 'utf8').trim();
    const api = siteApi(SITE, token, (m, u, tok, b) => lab.http(m, u, tok, b));
    const built = buildBootImage(siteCli(SITE, token, ['ip', 'netns', 'exec', lab.ns]));
    const { tsId } = await deployTaskSequence(api, data, dir, built.contentId);
    const computer = knownComputer(api, MACHINE.name, MACHINE.mac);
    const coll = api('POST', '/collections', { name: 'Bench imaging', limitingCollectionId: 'SMS00001', directMemberIds: [computer] });
    const depId = String(api('POST', '/deployments', { taskSequenceId: tsId, collectionId: coll.id, purpose: 'required', availability: 'mediaPxe', assignments: [{ kind: 'asap' }] }).id);

    // The reference server holds the very bytes osdeploy serves.
    const refDir = path.join(dir, 'reference');
    mkdirSync(refDir);
    for (const f of ['vmlinuz', 'initrd.img']) execFileSync('ip', ['netns', 'exec', lab.ns, 'curl', '-sS', '--fail', '-o', path.join(refDir, f), `${SITE}/boot/content/${built.contentId}/latest/${f}`]);
    const bytes = { kernel: statSync(path.join(refDir, 'vmlinuz')).size, initrd: statSync(path.join(refDir, 'initrd.img')).size };
    lab.start('reference', TOTAL_SECONDS, 'python3', ['-m', 'http.server', '8081', '--bind', ADDR, '--directory', refDir], path.join(dir, 'reference.log'));
    await waitFor('the reference server', 15_000, () => {
      try {
        return lab.http('GET', `${REF}/`).status === 200;
      } catch {
        return false; // not listening yet
      }
    });

    // The deployment, timed.
    execFileSync('truncate', ['-s', '1G', path.join(dir, 'uefi.disk.img')]);
    const serial = new SerialClock(files.serial);
    const args = ['-accel', 'tcg', '-m', '1024', '-display', 'none', '-monitor', 'none', '-serial', `file:${files.serial}`, '-netdev', 'tap,id=n0,ifname=tap0,script=no,downscript=no',
      '-machine', 'q35', '-bios', OVMF, '-device', `virtio-net-pci,netdev=n0,mac=${MACHINE.mac},romfile=,bootindex=1`,
      '-drive', `file=${path.join(dir, 'uefi.disk.img')},format=raw,if=none,id=d0`, '-device', 'virtio-blk-pci,drive=d0,bootindex=2'];
    const powerOn = Date.now();
    const vm = lab.start('qemu-uefi', VM_SECONDS, 'qemu-system-x86_64', args, path.join(dir, 'uefi.qemu.log'));
    const run = await watchVm(vm, files.serial, VM_SECONDS);
    serial.stop();
    const status = api('GET', `/deployments/${depId}/status`) as { counts?: Record<string, number> };

    // The peers, after the deployment so they never share the CPUs with it.
    const ipxe = await ipxePeer(lab, dir, built.contentId);
    const urls = (base: string) => [`${base}/vmlinuz`, `${base}/initrd.img`];
    const curl = { osdeploy: [] as number[], reference: [] as number[] };
    // Files this small are fetched in about 0.1 s on a shared machine: many interleaved runs, the median.
    for (let i = 0; i < Math.max(10, ROUNDS * 3); i++) {
      curl.osdeploy.push(...curlRuns(lab, urls(`${SITE}/boot/content/${built.contentId}/latest`), 1));
      curl.reference.push(...curlRuns(lab, urls(REF), 1));
    }
    report({ built, bytes, packages, run, status, depId, log: jsonLines(files.service), serial, powerOn, ipxe, curl });
    return run.code === 0 ? 0 : 1;
  } finally {
    await lab.close();
    if (opts['keep-dir']) console.log(`\nlogs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

interface Report {
  built: ReturnType<typeof buildBootImage>;
  bytes: { kernel: number; initrd: number };
  packages: number;
  run: Awaited<ReturnType<typeof watchVm>>;
  status: { counts?: Record<string, number> };
  depId: string;
  log: Entry[];
  serial: SerialClock;
  powerOn: number;
  ipxe: { osdeploy: number[]; reference: number[] };
  curl: { osdeploy: number[]; reference: number[] };
}

function report(r: Report): void {
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  const res = r.built.result;
  console.log(`osdeploy bench:deploy — ${new Date().toISOString()}, nproc ${execFileSync('nproc', { encoding: 'utf8' }).trim()}, node ${process.version}, qemu TCG`);
  console.log(`boot image ${r.built.contentId}: kernel ${res.kernelVersion} ${mb(r.bytes.kernel)}, initrd ${mb(r.bytes.initrd)} (${mb(res.unpackedBytes)} unpacked), built in ${res.seconds.toFixed(0)} s from ${r.packages} cached packages`);
  console.log(`VM exit ${r.run.code} after ${r.run.seconds.toFixed(1)} s${r.run.fatal ? `, stopped on "${r.run.fatal}"` : ''}; deployment ${r.depId}: ${JSON.stringify(r.status.counts)}\n`);
  const { rows, downloadMs } = phases(r.log, r.serial, r.powerOn, r.bytes);
  printRows(rows, r.powerOn);

  const total = (r.bytes.kernel + r.bytes.initrd) / 1e6;
  console.log(`\npeer: the same kernel + initrd (${total.toFixed(1)} MB), osdeploy against python3 -m http.server, in this run (iPXE ${ROUNDS} round(s), curl ${r.curl.osdeploy.length}; medians)`);
  console.log('| client | osdeploy | reference | ratio (osdeploy speed / reference) |');
  console.log('|---|---:|---:|---:|');
  const io = median(r.ipxe.osdeploy);
  const ir = median(r.ipxe.reference);
  console.log(`| iPXE (ipxe.lkrn, e1000, TCG) | ${io.toFixed(2)} s (${(total / io).toFixed(1)} MB/s) | ${ir.toFixed(2)} s (${(total / ir).toFixed(1)} MB/s) | **${(ir / io).toFixed(2)}×** |`);
  const co = median(r.curl.osdeploy);
  const cr = median(r.curl.reference);
  console.log(`| curl (host side of the bridge) | ${co.toFixed(0)} MB/s | ${cr.toFixed(0)} MB/s | **${(co / cr).toFixed(2)}×** |`);
  console.log(`per round: iPXE osdeploy ${r.ipxe.osdeploy.map((x) => x.toFixed(2)).join(', ')} s; reference ${r.ipxe.reference.map((x) => x.toFixed(2)).join(', ')} s; curl osdeploy ${r.curl.osdeploy.map((x) => x.toFixed(0)).join(', ')} MB/s; reference ${r.curl.reference.map((x) => x.toFixed(0)).join(', ')} MB/s`);

  const dlOk = downloadMs !== null && downloadMs / 1000 < TARGET_DOWNLOAD_S;
  const ratioOk = ir / io >= TARGET_RATIO;
  console.log(`\n${dlOk ? 'PASS' : 'FAIL'}: boot environment download in the PXE run ${downloadMs === null ? 'not measured' : `${(downloadMs / 1000).toFixed(1)} s`} (target < ${TARGET_DOWNLOAD_S} s)`);
  console.log(`${ratioOk ? 'PASS' : 'FAIL'}: iPXE fetches from osdeploy at ${(ir / io).toFixed(2)}× the reference's speed (target ≥ ${TARGET_RATIO}×)`);
}

process.exitCode = await main();
