/**
 * Issue 13 H-2 and L-7: the public boot routes (`/boot/…` over HTTP and TFTP, no token) serve
 * the network boot files boot images declare and the boot-file store — nothing else. A
 * package's files, a boot image's undeclared files and the boot-file store's manifest (which
 * records host folders) are not served there; token holders and signed URLs still reach content
 * at /content/…. Real service on loopback, real HTTP, real TFTP clients (curl, tftp-hpa, atftp).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { importBootFiles } from '../../../server/site/boot-files.js';
import { ok, startSite, tempDir, type Site } from './site.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Run {
  code: number | null;
  out: string;
}
const run = (cmd: string, args: readonly string[]): Promise<Run> =>
  new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, out: `${stdout}${stderr}` }),
    );
  });
const have = async (bin: string): Promise<boolean> => (await run('sh', ['-c', `command -v ${bin}`])).code === 0;

function folder(t: Test, files: Record<string, string | Buffer>): string {
  const dir = tempDir(t, 'osdeploy-security-src-');
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), data);
  }
  return dir;
}

const KERNEL = Buffer.alloc(200_000, 0x4b);
const INITRD = Buffer.from('initrd bytes');
const SCRIPT = '#!/bin/sh\necho "install with the service password hunter2"\n';

interface Lab {
  site: Site;
  pkg: string;
  boot: string;
  wimPkg: string;
  /** The host folder boot files were imported from: recorded in the store's manifest.json. */
  ipxeSource: string;
}

/** A site with a package, a Linux boot image declaring its own kernel and initrd, and a WinPE image whose wim is a package's file. */
async function lab(t: Test): Promise<Lab> {
  const dataDir = tempDir(t);
  const ipxeSource = folder(t, { 'undionly.kpxe': 'undionly bytes', 'ipxe.efi': 'ipxe efi bytes' });
  await importBootFiles(ipxeSource, dataDir);
  writeFileSync(path.join(dataDir, 'tftproot', '.wimboot.importing'), 'half a copy');
  const site = await startSite(t, { tftp: 'on' }, { dataDir });
  const pkg = (await ok(site, 'POST', '/content', { kind: 'package', name: 'Installer', sourcePath: folder(t, { 'install.sh': SCRIPT, 'sub/Secret.TXT': 'secret' }) })).id as string;
  const boot = (await ok(site, 'POST', '/content', { kind: 'bootImage', name: 'Linux PE', os: 'linux', sourcePath: folder(t, { vmlinuz: KERNEL, 'initrd.img': INITRD, 'notes.txt': 'not a boot file' }) })).id as string;
  await ok(site, 'PATCH', `/content/${boot}`, { boot: { os: 'linux', kernel: `content/${boot}/latest/vmlinuz`, initrds: [`content/${boot}/latest/initrd.img`], cmdline: 'quiet' } });
  const wimPkg = (await ok(site, 'POST', '/content', { kind: 'package', name: 'WinPE files', sourcePath: folder(t, { 'Boot/x64/BCD': 'bcd store', 'sources/boot.wim': 'wim bytes', 'other.txt': 'other' }) })).id as string;
  await ok(site, 'POST', '/content', { kind: 'bootImage', name: 'WinPE', os: 'winpe', boot: { os: 'winpe', wim: `content/${wimPkg}/latest/sources/boot.wim`, bcd: `content/${wimPkg}/1/Boot/x64/BCD` } });
  return { site, pkg, boot, wimPkg, ipxeSource };
}

t.test('H-2 over HTTP without a token: only declared boot files of boot images, never other content', async (t) => {
  const { site, pkg, boot, wimPkg } = await lab(t);

  for (const url of [`/boot/content/${pkg}/latest/install.sh`, `/boot/content/${pkg}/1/install.sh`, `/boot/content/${pkg.toLowerCase()}/latest/INSTALL.SH`, `/boot/content/${pkg}/latest/sub/secret.txt`]) {
    const r = await site.get(url);
    t.equal(r.status, 404, `${url}: not a boot file`);
    t.notOk(r.text.includes('hunter2'), `${url}: nothing of the package`);
    t.equal((await site.get(url, {}, 'HEAD')).status, 404, `HEAD ${url}`);
  }
  t.equal((await site.get(`/boot/content/${boot}/latest/notes.txt`)).status, 404, 'a boot image file it does not declare is not served either');
  t.equal((await site.get(`/boot/content/${wimPkg}/latest/other.txt`)).status, 404, 'nor the other files of a package a boot image takes its wim from');

  const kernel = await site.get(`/boot/content/${boot}/latest/vmlinuz`);
  t.equal(kernel.status, 200, 'the declared kernel is served');
  t.equal(sha(kernel.bytes), sha(KERNEL));
  t.equal((await site.get(`/boot/content/${boot}/1/vmlinuz`)).status, 200, 'by the current version number too');
  const part = await site.get(`/boot/content/${boot}/latest/initrd.img`, { range: 'bytes=0-5' });
  t.equal(part.status, 206, 'the declared initrd, with Range');
  t.equal(part.text, 'initrd');
  t.equal((await site.get(`/boot/content/${wimPkg}/latest/sources/boot.wim`)).text, 'wim bytes', 'a declared wim that lives in a package');
  t.equal((await site.get(`/boot/content/${wimPkg}/latest/boot/X64/bcd`)).text, 'bcd store', 'a declared BCD, asked in another case and by latest');

  // Content stays reachable the authenticated ways.
  t.equal((await site.get(`/content/${pkg}/latest/install.sh`)).status, 401, '/content needs a token');
  const withToken = await site.get(`/content/${pkg}/latest/install.sh`, { authorization: `Bearer ${site.token}` });
  t.equal(withToken.text, SCRIPT, 'a token holder reads it');
  const links = await ok(site, 'POST', `/content/${pkg}/links`, { ttlSeconds: 60 });
  const signed = links.files.find((f: { path: string }) => f.path === 'install.sh').url as string;
  t.equal((await fetch(signed)).status, 200, 'so does a signed URL');
});

t.test('H-2 a new version moves what is declared: the old version is no longer a boot file', async (t) => {
  const { site, boot } = await lab(t);
  const src = (await ok(site, 'GET', `/content/${boot}`)).sourcePath as string;
  writeFileSync(path.join(src, 'vmlinuz'), 'kernel v2');
  await ok(site, 'POST', `/content/${boot}/import`, {});
  t.equal((await site.get(`/boot/content/${boot}/latest/vmlinuz`)).text, 'kernel v2');
  t.equal((await site.get(`/boot/content/${boot}/2/vmlinuz`)).text, 'kernel v2');
  t.equal((await site.get(`/boot/content/${boot}/1/vmlinuz`)).status, 404, 'version 1 is not what the image declares now');
});

t.test('L-7 the boot-file store is served, its manifest (host paths) and half-made copies are not', async (t) => {
  const { site, ipxeSource } = await lab(t);
  t.ok(readFileSync(path.join(site.dataDir, 'tftproot', 'manifest.json'), 'utf8').includes(ipxeSource), 'the manifest does record the host folder');
  for (const url of ['/boot/manifest.json', '/boot/MANIFEST.JSON', '/boot/./manifest.json', '/boot/.wimboot.importing']) {
    const r = await site.get(url);
    t.equal(r.status, 404, `${url} is not served`);
    t.notOk(r.text.includes(ipxeSource) || r.text.includes('/usr/lib/ipxe'), `${url}: no host path in the answer`);
  }
  const ipxe = await site.get('/boot/undionly.kpxe');
  t.equal(ipxe.status, 200, 'boot files are');
  t.equal(ipxe.text, 'undionly bytes');
  const missing = await site.get('/boot/nothing-here.efi');
  t.equal(missing.status, 404);
  t.notOk(missing.text.includes(site.dataDir), 'a miss names no host path');
});

t.test('H-2 L-7 the same over TFTP, with curl, tftp-hpa and atftp', async (t) => {
  const { site, pkg, boot, wimPkg } = await lab(t);
  const port = String(site.tftpPort);
  t.ok(site.tftpPort, 'the TFTP role is up');
  const out = tempDir(t, 'osdeploy-security-out-');
  let n = 0;
  const target = () => path.join(out, `f${++n}`);
  const got = (file: string): Buffer | null => (existsSync(file) ? readFileSync(file) : null);

  t.test('curl', { skip: !(await have('curl')) && 'curl is not installed' }, async (t) => {
    for (const name of [`content/${pkg}/latest/install.sh`, `content/${pkg}/1/install.sh`, `content/${boot}/latest/notes.txt`, 'manifest.json', 'Manifest.Json']) {
      const o = target();
      const r = await run('curl', ['-sS', '-o', o, `tftp://127.0.0.1:${port}/${name}`]);
      t.equal(r.code, 68, `${name}: curl exit 68, TFTP file not found`);
      t.notOk(got(o)?.toString().includes('hunter2'), `${name}: no bytes of it`);
    }
    const k = target();
    t.equal((await run('curl', ['-sS', '-o', k, `tftp://127.0.0.1:${port}/content/${boot}/latest/vmlinuz`])).code, 0);
    t.equal(sha(got(k) ?? Buffer.alloc(0)), sha(KERNEL), 'the declared kernel');
    const bcd = target();
    t.equal((await run('curl', ['-sS', '-o', bcd, `tftp://127.0.0.1:${port}/content/${wimPkg}/latest/boot%5CX64%5Cbcd`])).code, 0);
    t.equal(got(bcd)?.toString(), 'bcd store', 'a declared BCD asked the Windows way');
    const ipxe = target();
    t.equal((await run('curl', ['-sS', '-o', ipxe, `tftp://127.0.0.1:${port}/undionly.kpxe`])).code, 0);
    t.equal(got(ipxe)?.toString(), 'undionly bytes', 'the boot-file store');
  });

  t.test('tftp-hpa', { skip: !(await have('tftp')) && 'tftp-hpa is not installed' }, async (t) => {
    const o = target();
    const r = await run('tftp', ['127.0.0.1', port, '-m', 'binary', '-c', 'get', `content\\${pkg}\\latest\\install.sh`, o]);
    t.match(r.out, /Error code 1: file not found/, 'the package file: ERROR 1');
    t.notOk(got(o)?.toString().includes('hunter2'));
    const m = target();
    t.match((await run('tftp', ['127.0.0.1', port, '-m', 'binary', '-c', 'get', 'manifest.json', m])).out, /Error code 1: file not found/, 'the manifest: ERROR 1');
    const k = target();
    t.equal((await run('tftp', ['127.0.0.1', port, '-m', 'binary', '-c', 'get', `content\\${boot}\\latest\\initrd.img`, k])).code, 0);
    t.equal(got(k)?.toString(), INITRD.toString(), 'the declared initrd');
  });

  t.test('atftp', { skip: !(await have('atftp')) && 'atftp is not installed' }, async (t) => {
    const r = await run('atftp', ['--get', '-r', `content/${pkg}/latest/install.sh`, '-l', target(), '127.0.0.1', port]);
    t.not(r.code, 0, 'atftp fails on the package file');
    t.match(r.out, /file not found/i);
    const k = target();
    t.equal((await run('atftp', ['--get', '-r', `content/${boot}/latest/vmlinuz`, '-l', k, '--option', 'blksize 1468', '127.0.0.1', port])).code, 0);
    t.equal(sha(got(k) ?? Buffer.alloc(0)), sha(KERNEL));
  });
});
