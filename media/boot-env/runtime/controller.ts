/**
 * The boot environment's controller, started by /init: brings up every NIC with a link by DHCP,
 * starts the task sequence engine with this machine's disks and the boot's facts, shows the
 * engine's progress on every console (step n of m, name, percent), and on the engine's exit
 * restarts, powers off or hands the console to a technician, as the run and the kernel command
 * line say. Bundled into one file (/osdeploy/controller.mjs) with Node built-ins only.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ReadStream } from 'node:tty';
import { CONTROLLER_EXIT } from '../init-scripts.js';
import { afterEngine, engineLaunch, failureCountdown, failureScreen, orderDisks, parseCmdline, parseProgress, ProgressView, type BlockDevice, type BootArgs } from './plan.js';

const LOG_DIR = '/run/osdeploy';
const ENGINE_LOG = `${LOG_DIR}/engine.log`;
const read = (file: string): string => {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
};

/** Writes a line to every active console (a screen and a serial port at once). */
function consoles(): (line: string) => void {
  const names = read('/sys/class/tty/console/active').split(/\s+/).filter(Boolean);
  const fds: number[] = [];
  for (const n of names.length ? names : ['console']) {
    try {
      fds.push(openSync(`/dev/${n}`, 'w'));
    } catch {
      // a console that cannot be opened is skipped
    }
  }
  if (fds.length === 0) fds.push(1);
  return (line) => {
    for (const fd of fds) {
      try {
        writeSync(fd, `${line}\r\n`);
      } catch {
        // a console gone away
      }
    }
  };
}

const sh = (cmd: string, args: readonly string[]): { code: number; out: string } => {
  const r = spawnSync(cmd, [...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every physical NIC up; DHCP on each that has a link. Returns "nic address" lines. */
async function network(say: (l: string) => void): Promise<string[]> {
  const nics = readdirSync('/sys/class/net').filter((n) => n !== 'lo' && existsSync(`/sys/class/net/${n}/device`));
  if (nics.length === 0) say('osdeploy: no network adapter found (is its driver in the boot image?)');
  for (const n of nics) sh('ip', ['link', 'set', 'dev', n, 'up']);
  const end = Date.now() + 15_000;
  let linked: string[] = [];
  while (Date.now() < end) {
    linked = nics.filter((n) => read(`/sys/class/net/${n}/carrier`) === '1');
    if (linked.length === nics.length) break;
    await sleep(250);
  }
  for (const n of nics.filter((x) => !linked.includes(x))) say(`osdeploy: ${n} (${read(`/sys/class/net/${n}/address`)}) has no link`);
  const leases = await Promise.all(
    linked.map(
      (n) =>
        new Promise<string | null>((resolve) => {
          const p = spawn('udhcpc', ['-i', n, '-f', '-q', '-n', '-t', '8', '-T', '2', '-A', '2', '-s', '/osdeploy/udhcpc.sh', '-x', 'hostname:osdeploy'], { stdio: 'ignore' });
          p.on('exit', () => resolve(read(`/run/osdeploy-lease.${n}`) || null));
          p.on('error', () => resolve(null));
        }),
    ),
  );
  return linked.flatMap((n, i) => (leases[i] ? [`${n} ${read(`/sys/class/net/${n}/address`)} ${leases[i]}`] : []));
}

function blockDevices(): BlockDevice[] {
  return readdirSync('/sys/block').map((name) => ({
    name,
    removable: read(`/sys/block/${name}/removable`) === '1',
    sizeSectors: Number(read(`/sys/block/${name}/size`)) || 0,
    readOnly: read(`/sys/block/${name}/ro`) === '1',
  }));
}

/** Block devices holding a mounted file system of the boot media (never a target). */
function mediaDevices(): string[] {
  return read('/proc/mounts')
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((d) => d.startsWith('/dev/'))
    .map((d) => d.slice(5).replace(/p?\d+$/, ''));
}

/** A shell on the second virtual terminal for the whole boot (Configuration Manager's F8). */
function shellOnTty2(): void {
  if (!existsSync('/dev/tty2')) return;
  const p = spawn('setsid', ['sh', '-c', 'while true; do sh </dev/tty2 >/dev/tty2 2>&1; done'], { stdio: 'ignore', detached: true });
  p.on('error', () => undefined);
  p.unref();
}

async function runEngine(args: BootArgs, say: (l: string) => void, view: ProgressView): Promise<number | null> {
  const uefi = existsSync('/sys/firmware/efi');
  const disks = orderDisks(blockDevices(), mediaDevices());
  say(`osdeploy: firmware ${uefi ? 'UEFI' : 'BIOS'}; disks: ${disks.map((d, i) => `${i}=${d}`).join(', ') || 'none'}`);
  // Network boots: the per-boot token the site put on the kernel command line (osdeploy.token=);
  // images built before per-boot tokens carried one in /etc/osdeploy/token. Media: their own.
  const token = args.token ?? (read('/etc/osdeploy/token') || null);
  const launch = engineLaunch({ args, disks, uefi, token, root: '/mnt/target', state: `${LOG_DIR}/engine`, progressFd: 3 });
  const log = openSync(ENGINE_LOG, 'a');
  const child = spawn('/usr/bin/node', ['/osdeploy/engine.mjs', ...launch.args], {
    stdio: ['ignore', log, log, 'pipe'],
    env: { ...process.env, PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...launch.env },
  });
  const pipe = child.stdio[3];
  if (pipe && 'on' in pipe) {
    const lines = createInterface({ input: pipe as NodeJS.ReadableStream });
    lines.on('line', (l) => {
      const p = parseProgress(l);
      const text = p ? view.render(p) : null;
      if (text) say(text);
    });
  }
  return new Promise((resolve) => {
    child.on('error', (e) => {
      say(`osdeploy: the engine could not start: ${e.message}`);
      resolve(null);
    });
    child.on('exit', (code) => resolve(code));
  });
}

/**
 * Waits for Enter on the console for `seconds`; true when pressed. The console is read as a tty
 * (libuv polls it): an fs stream would leave a read blocked in the thread pool when the time is
 * up, and Node does not exit while it is pending, so the machine would never reboot.
 */
function enterPressed(seconds: number): Promise<boolean> {
  return new Promise((resolve) => {
    let input: ReadStream;
    try {
      const fd = openSync('/dev/console', 'r');
      try {
        input = new ReadStream(fd);
      } catch (e) {
        closeSync(fd);
        throw e;
      }
    } catch {
      // No console to read (or not a tty): the countdown alone.
      setTimeout(() => resolve(false), seconds * 1000);
      return;
    }
    const rl = createInterface({ input });
    const done = (pressed: boolean) => {
      clearTimeout(timer);
      rl.close();
      input.destroy();
      resolve(pressed);
    };
    const timer = setTimeout(() => done(false), seconds * 1000);
    rl.once('line', () => done(true));
    // A console that fails while read: the countdown goes on.
    rl.on('error', () => undefined);
  });
}

async function main(): Promise<number> {
  const say = consoles();
  const args = parseCmdline(read('/proc/cmdline'));
  mkdirSync(LOG_DIR, { recursive: true });
  shellOnTty2();
  if (!args.site && !args.media) {
    say('osdeploy: the kernel command line names no site (osdeploy.site=) and no media (osdeploy.media=)');
    return CONTROLLER_EXIT.shell;
  }
  say('osdeploy: starting the network');
  const up = await network(say);
  for (const l of up) say(`osdeploy: ${l}`);
  if (up.length === 0 && !args.media) {
    say('osdeploy: no network adapter got an address by DHCP; the site cannot be reached');
    return CONTROLLER_EXIT.shell;
  }
  say(`osdeploy: site ${args.site ?? '(from the media)'}${args.deployment ? `, deployment ${args.deployment}` : ''}; starting the task sequence engine`);
  const view = new ProgressView();
  const code = await runEngine(args, say, view);
  const action = afterEngine(code, args);
  if (!action.failure) {
    say(`osdeploy: ${action.why}: ${action.kind}`);
    return action.kind === 'reboot' ? CONTROLLER_EXIT.reboot : action.kind === 'poweroff' ? CONTROLLER_EXIT.poweroff : CONTROLLER_EXIT.shell;
  }
  for (const l of failureScreen(action, view.failed, ENGINE_LOG, args.failTimeout)) say(l);
  const tail = read(ENGINE_LOG).split('\n').slice(-10);
  if (!view.failed && tail.length) for (const l of ['engine log (last lines):', ...tail.map((x) => `  | ${x}`)]) say(l);
  // onfail=shell, or failtimeout=0 (wait for a technician): the shell at once, never a reboot or
  // power-off by ourselves; /init restarts the machine when the technician leaves the shell.
  const countdown = failureCountdown(action, args.failTimeout);
  if (countdown === null || (await enterPressed(countdown))) return CONTROLLER_EXIT.shell;
  return action.kind === 'reboot' ? CONTROLLER_EXIT.reboot : CONTROLLER_EXIT.poweroff;
}

process.exitCode = await main().catch((e: unknown) => {
  process.stderr.write(`osdeploy: controller error: ${(e as Error).stack ?? String(e)}\n`);
  return CONTROLLER_EXIT.shell;
});
