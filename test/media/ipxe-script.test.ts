import t from 'tap';
import { renderIpxeScript, safePath, safeText, type ScriptChoice } from '../../media/ipxe/script.js';

const identity = { macAddresses: ['52:54:00:12:34:56'], smbiosUuid: '4c4c4544-0042-3510-8057-b4c04f4d3132', architecture: 'x64' };
const ctx = { siteUrl: 'http://10.0.0.5:8080', identity };
const linux: ScriptChoice = {
  deploymentId: 'PS120001',
  title: 'Install Ubuntu',
  bootImageId: 'PS100001',
  boot: { os: 'linux', kernel: 'images/PS100001/vmlinuz', initrds: ['images/PS100001/initrd.img'], cmdline: 'console=ttyS0 quiet' },
};
const winpe: ScriptChoice = { deploymentId: 'PS120002', title: 'Windows 11', bootImageId: 'PS100002', boot: { os: 'winpe', wim: 'winpe/boot.wim', bcd: 'winpe/BCD', bootSdi: 'winpe/boot.sdi' } };

t.test('R-18 nothing to run: the script exits to the next boot device', async (t) => {
  const s = renderIpxeScript(ctx, { kind: 'exit', reason: 'no deployment for x64 Unknown Computer' });
  t.match(s, /^#!ipxe\n/);
  t.match(s, /\nexit\n$/);
  t.notMatch(s, /kernel|chain/);
});

t.test('R-18 Linux boot image: kernel, initrd and the site address and identity on the command line', async (t) => {
  const s = renderIpxeScript(ctx, { kind: 'boot', choice: linux, why: 'required' });
  const kernel = s.split('\n').find((l) => l.startsWith('kernel '))!;
  t.ok(kernel.startsWith('kernel http://10.0.0.5:8080/boot/images/PS100001/vmlinuz console=ttyS0 quiet '));
  for (const arg of ['initrd=initrd.img', 'osdeploy.site=http://10.0.0.5:8080', 'osdeploy.deployment=PS120001', 'osdeploy.mac=52:54:00:12:34:56', `osdeploy.uuid=${identity.smbiosUuid}`, 'osdeploy.arch=x64'])
    t.ok(kernel.includes(arg), arg);
  t.match(s, /\ninitrd http:\/\/10\.0\.0\.5:8080\/boot\/images\/PS100001\/initrd\.img\nboot\n/);
});

t.test('R-18 Windows PE boot image: wimboot with BCD, boot.sdi, boot.wim and the identity file', async (t) => {
  const s = renderIpxeScript(ctx, { kind: 'boot', choice: winpe, why: 'preferred' });
  const lines = s.trim().split('\n');
  const i = lines.indexOf('kernel http://10.0.0.5:8080/boot/wimboot');
  t.ok(i > 0, 'wimboot is the kernel');
  t.same(lines.slice(i + 1), [
    'initrd http://10.0.0.5:8080/boot/winpe/BCD BCD',
    'initrd http://10.0.0.5:8080/boot/winpe/boot.sdi boot.sdi',
    `initrd http://10.0.0.5:8080/boot/identity.ini?mac=52%3A54%3A00%3A12%3A34%3A56&uuid=${identity.smbiosUuid}&arch=x64&deployment=PS120002 osdeploy.ini`,
    'initrd http://10.0.0.5:8080/boot/winpe/boot.wim boot.wim',
    'boot',
  ]);
});

t.test('R-18 several boot images: a menu with a timeout that falls through to the next device', async (t) => {
  const s = renderIpxeScript(ctx, { kind: 'menu', choices: [linux, winpe], timeoutSeconds: 30 });
  t.match(s, /\nitem c0 Install Ubuntu \(PS120001\)\n/);
  t.match(s, /\nitem c1 Windows 11 \(PS120002\)\n/);
  t.match(s, /choose --timeout 30000 --default exit target \|\| exit\ngoto \$\{target\}\n/);
  t.match(s, /:c0\nkernel http:\/\/10\.0\.0\.5:8080\/boot\/images\/PS100001\/vmlinuz/);
  t.match(s, /:exit\nexit\n$/);
});

t.test('R-32 hostile text never reaches iPXE expansion: ${…}, newlines and quotes are removed', async (t) => {
  const evil = 'x ${net0/mac} `\n chain http://evil/ "q" {a}';
  t.equal(safeText(evil), 'x net0/mac chain http://evil/ q a');
  const s = renderIpxeScript(ctx, { kind: 'menu', choices: [{ ...linux, title: evil }], timeoutSeconds: 5 });
  const itemLine = s.split('\n').find((l) => l.startsWith('item c0'))!;
  t.notMatch(itemLine, /[${}"`]/);
  t.equal(s.split('\n').filter((l) => l.includes('chain')).length, 1, 'the injected chain stays inside the item text');
  const exit = renderIpxeScript(ctx, { kind: 'exit', reason: 'reason\nkernel http://evil/x' });
  t.notOk(exit.split('\n').some((l) => l.startsWith('kernel')), 'no injected command line');
  const cmd = renderIpxeScript(ctx, { kind: 'boot', choice: { ...linux, boot: { ...linux.boot, cmdline: 'a ${x} b\nboot' } as ScriptChoice['boot'] }, why: 'x' });
  t.notMatch(cmd.split('\n').find((l) => l.startsWith('kernel'))!, /\$|\{/);
});

t.test('R-32 unsafe boot file paths and site URLs are refused', async (t) => {
  for (const p of ['../etc/passwd', '/abs/file', 'a/../../b', 'a b', 'a${x}', 'a//b', ''])
    t.throws(() => safePath(p), /unsafe boot file path/, p);
  t.equal(safePath('images/PS1/vmlinuz-6.1.0'), 'images/PS1/vmlinuz-6.1.0');
  t.throws(() => renderIpxeScript({ ...ctx, siteUrl: 'http://x/${y}' }, { kind: 'exit', reason: 'r' }), /unsafe site URL/);
  t.throws(() => renderIpxeScript(ctx, { kind: 'boot', choice: { ...linux, boot: { ...linux.boot, kernel: '../../x' } as ScriptChoice['boot'] }, why: 'x' }), /unsafe/);
});
