/**
 * R-37 init-scripts.ts: /init and the udhcpc script parse in busybox sh and dash (`sh -n`); every
 * program /init runs is an applet of Debian's busybox (the image's only userland before Node);
 * and the controller's exit codes lead /init to reboot, power off or a shell, run for real in a
 * shell with reboot/poweroff/rescue replaced by stubs.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ALWAYS_LOAD, CONTROLLER_EXIT, INIT, UDHCPC_SCRIPT } from '../../../media/boot-env/init-scripts.js';
import { staticBusybox, tmpDir, which } from './fixtures/host.js';

const busybox = staticBusybox() ?? which('busybox');
const shells: [string, string[]][] = [
  ...(busybox ? [[`busybox sh (${busybox})`, [busybox, 'sh']] as [string, string[]]] : []),
  ...(which('dash') ? [['dash', [which('dash')!]] as [string, string[]]] : []),
];
const noShell = shells.length ? false : 'neither busybox nor dash is installed';

const sh = (cmd: readonly string[], args: readonly string[], input?: string) => spawnSync(cmd[0]!, [...cmd.slice(1), ...args], { encoding: 'utf8', input });

t.test('R-37 /init and the udhcpc script pass `sh -n` in busybox sh and dash', { skip: noShell }, async (t) => {
  for (const [name, cmd] of shells) {
    for (const [what, text] of [['/init', INIT], ['udhcpc script', UDHCPC_SCRIPT]] as const) {
      const r = sh(cmd, ['-n'], text);
      t.equal(r.status, 0, `${what} in ${name}${r.stderr ? `: ${r.stderr}` : ''}`);
    }
    t.not(sh(cmd, ['-n'], 'if true; then echo x\n').status, 0, `${name} -n does catch a syntax error`);
  }
  t.match(INIT, /^#!\/bin\/busybox sh\n/, '/init runs under busybox sh');
  t.match(UDHCPC_SCRIPT, /^#!\/bin\/sh\n/);
});

const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'for', 'in', 'do', 'done', 'while', 'until', 'case', 'esac', '{', '}', '!']);
const BUILTINS = new Set(['echo', 'export', 'read', 'exit', 'break', 'continue', 'return', ':', '[', 'test', 'set', 'cd', 'true', 'false', 'printf']);

/** The programs a script runs: the first word of each simple command (quotes and ${…} set aside). */
function commandWords(script: string): Set<string> {
  const functions = new Set([...script.matchAll(/^\s*([a-z_]+)\(\)\s*\{/gm)].map((m) => m[1]!));
  const words = new Set<string>();
  const take = (segment: string) => {
    const ws = segment.trim().split(/\s+/);
    const w = ws[0] ?? '';
    if (!w || w.includes('=') || /^[<>0-9)"'$]/.test(w) || KEYWORDS.has(w) || BUILTINS.has(w) || functions.has(w) || w.endsWith('()')) return;
    words.add(w);
    if (w === 'setsid') for (const next of ws.slice(1, 3).filter((x) => /^[a-z]+$/.test(x))) words.add(next);
  };
  for (const raw of script.split('\n')) {
    const line = raw.replace(/^\s*#.*$/, '');
    for (const m of line.matchAll(/\$\(([^)]*)\)/g)) m[1]!.split('|').forEach(take);
    const bare = line.replace(/\$\{[^}]*\}/g, 'X').replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/'[^']*'/g, "''").replace(/^\s*[^\s()]+\)\s*/, '');
    bare.split(/;;|;|\|\||&&|\||\bthen\b|\bdo\b|\belse\b|\{/).forEach(take);
  }
  return words;
}

t.test('R-37 every program /init and the udhcpc script run is a busybox applet (or the image\'s Node)', { skip: busybox ? false : 'no busybox' }, async (t) => {
  const applets = new Set(sh([busybox!], ['--list']).stdout.split('\n').filter(Boolean));
  t.ok(applets.size > 100, `${applets.size} applets`);
  const used = commandWords(INIT);
  for (const expected of ['mount', 'modprobe', 'find', 'setsid', 'cttyhack', 'reboot', 'poweroff', 'lsmod', 'wc', '/usr/bin/node']) t.ok(used.has(expected), `the scan sees ${expected}`);
  for (const w of [...used, ...commandWords(UDHCPC_SCRIPT)]) {
    const name = w.startsWith('/bin/') ? w.slice(5) : w;
    if (w === '/usr/bin/node' || w === '/bin/busybox') continue;
    t.ok(applets.has(name), `${w} is an applet`);
  }
});

t.test('R-37 the options /init gives busybox applets exist: modprobe -q -b, find -exec … +, reboot -f, poweroff -f', { skip: busybox ? false : 'no busybox' }, async (t) => {
  const help = (applet: string) => sh([busybox!], [applet, '--help']).stderr + sh([busybox!], [applet, '--help']).stdout;
  t.match(help('modprobe'), /-q\b[\s\S]*-b\b|Usage: modprobe \[-[a-zA-Z]*q[a-zA-Z]*b/, 'modprobe -q and -b');
  t.match(help('reboot'), /-f\b/, 'reboot -f');
  t.match(help('poweroff'), /-f\b/, 'poweroff -f');
  const dir = tmpDir('find');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const d of ['a', 'b/c']) {
    mkdirSync(path.join(dir, d), { recursive: true });
    writeFileSync(path.join(dir, d, 'modalias'), `pci:${d}\n`);
  }
  const r = sh([busybox!], ['sh', '-c', `find "$0" -name modalias -exec cat {} + | sort -u`, dir]);
  t.equal(r.stdout, 'pci:a\npci:b/c\n', 'the coldplug scan reads every modalias file');
});

t.test('R-37 /init acts on the controller\'s exit code: 10 reboot, 11 power off, 12 and anything else a shell', { skip: noShell }, async (t) => {
  const block = /^case \$rc in\n[\s\S]*?^esac$/m.exec(INIT)?.[0];
  t.ok(block, '/init has the case on $rc');
  const stubs = 'reboot() { echo "REBOOT $*"; }\npoweroff() { echo "POWEROFF $*"; }\nrescue() { echo "RESCUE $1"; }\nrc=$1\n';
  const want: [number, string][] = [
    [CONTROLLER_EXIT.reboot, 'REBOOT -f'],
    [CONTROLLER_EXIT.poweroff, 'POWEROFF -f'],
    [CONTROLLER_EXIT.shell, 'RESCUE the controller asked for a shell'],
    [0, 'RESCUE the controller stopped (exit 0)'],
    [1, 'RESCUE the controller stopped (exit 1)'],
    [137, 'RESCUE the controller stopped (exit 137)'],
  ];
  t.same([CONTROLLER_EXIT.reboot, CONTROLLER_EXIT.poweroff, CONTROLLER_EXIT.shell], [10, 11, 12]);
  for (const [name, cmd] of shells) {
    for (const [rc, out] of want) t.equal(sh(cmd, ['-c', stubs + block!, 'init', String(rc)]).stdout.trim(), out, `${name}: exit ${rc}`);
  }
});

t.test('R-37 /init loads the always-needed modules and asks the kernel to use /sbin/modprobe', async (t) => {
  const loop = /^for m in (.*); do modprobe -q "\$m"/m.exec(INIT)?.[1]?.split(' ');
  t.same(loop, [...ALWAYS_LOAD], 'the ALWAYS_LOAD list, in order');
  t.ok(ALWAYS_LOAD.includes('ext4') && ALWAYS_LOAD.includes('vfat'), 'target and ESP file systems');
  t.match(INIT, /^echo \/sbin\/modprobe > \/proc\/sys\/kernel\/modprobe$/m, 'kernel-requested modules (PHY drivers, crypto) go through busybox modprobe');
  // printk_devkmsg takes on, off or ratelimit (kernel/printk/printk.c __control_devkmsg); "1" is
  // EINVAL, hidden by 2>/dev/null, and /dev/kmsg would stay rate-limited.
  const devkmsg = /^echo (\S+) > \/proc\/sys\/kernel\/printk_devkmsg/m.exec(INIT)?.[1];
  t.equal(devkmsg, 'on', '/dev/kmsg unthrottled with a value the kernel takes');
});
