/**
 * R-37 cpio.ts: the initramfs archive, unpacked by GNU cpio (`cpio -idm --no-absolute-filenames`,
 * Debian's `cpio`) and compared file by file with what was written: contents, types, modes,
 * symbolic link targets, times, device numbers; each header where the newc format
 * (Documentation/driver-api/early-userspace/buffer-format.rst) puts it.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { CpioWriter, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, cpioNewc, cpioParts, type CpioEntry } from '../../../media/boot-env/cpio.js';
import { isRoot, run, tmpDir, which } from './fixtures/host.js';

const skip = which('cpio') ? false : 'GNU cpio is not installed (apt-get install cpio)';

const file = (name: string, data: Buffer | string, mode = 0o644, mtime?: number): CpioEntry => ({ name, mode: S_IFREG | mode, data: Buffer.from(data), ...(mtime === undefined ? {} : { mtime }) });
const dir = (name: string, mode = 0o755): CpioEntry => ({ name, mode: S_IFDIR | mode });
const link = (name: string, target: string): CpioEntry => ({ name, mode: S_IFLNK | 0o777, data: Buffer.from(target) });

/** Names of every length mod 4 and data of every length mod 4, so each padding case occurs. */
const ENTRIES: CpioEntry[] = [
  dir('bin'),
  dir('root', 0o700),
  dir('usr'),
  dir('usr/lib'),
  dir('usr/lib/x86_64-linux-gnu'),
  file('init', '#!/bin/busybox sh\necho hi\n', 0o755, 1_700_000_000),
  file('e', ''),
  file('ab', 'x'),
  file('abc', 'xy'),
  file('abcd', 'xyz'),
  file('bin/abcde', 'wxyz', 0o600, 1),
  file('usr/lib/x86_64-linux-gnu/libbig.so.1', randomBytes(70_001), 0o644, 1_234_567_890),
  file('root/secret', 'token\n', 0o600),
  file('bin/suid', 'x', 0o4755),
  file('usr/lib/naïve-ünïcode', 'utf-8 name'),
  link('lib', 'usr/lib'),
  link('bin/sh', 'busybox'),
  link('usr/lib/x86_64-linux-gnu/libbig.so', 'libbig.so.1'),
  link('abs', '/usr/lib/x86_64-linux-gnu/libbig.so.1'),
];

/** Unpacks `archive` with GNU cpio into a new folder and returns it. */
function unpack(t: Test, archive: Buffer): string {
  const out = tmpDir('cpio');
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  run('cpio', ['-idm', '--no-absolute-filenames', '--quiet'], { cwd: out, input: archive });
  return out;
}

function compareTree(t: Test, out: string, entries: readonly CpioEntry[]): void {
  for (const e of entries) {
    const at = path.join(out, e.name);
    const st = lstatSync(at);
    const type = e.mode & 0o170000;
    if (type === S_IFDIR) t.ok(st.isDirectory(), `${e.name} is a folder`);
    else if (type === S_IFLNK) t.equal(readlinkSync(at), e.data!.toString(), `${e.name} → ${e.data}`);
    else if (type === S_IFCHR) t.same([st.isCharacterDevice(), Math.floor(st.rdev / 256), st.rdev % 256], [true, ...e.rdev!], `${e.name} is char ${e.rdev}`);
    else {
      t.ok(st.isFile(), `${e.name} is a file`);
      t.ok(readFileSync(at).equals(e.data!), `${e.name}: same ${e.data!.length} bytes`);
      t.equal(st.mtimeMs / 1000, e.mtime ?? 0, `${e.name}: mtime kept`);
    }
    if (type !== S_IFLNK) t.equal((st.mode & 0o7777).toString(8), (e.mode & 0o7777).toString(8), `${e.name}: mode`);
    if (isRoot()) t.same([st.uid, st.gid], [0, 0], `${e.name}: owned by root`);
  }
}

t.test('R-37 cpioNewc: GNU cpio unpacks the same folders, files, modes, times and link targets', { skip }, async (t) => {
  const archive = cpioNewc(ENTRIES);
  t.same(run('cpio', ['-it', '--quiet'], { input: archive }).split('\n').filter(Boolean), ENTRIES.map((e) => e.name), 'cpio -t lists every entry, in order');
  compareTree(t, unpack(t, archive), ENTRIES);
});

t.test('R-37 CpioWriter: streamed chunks unpack like the whole archive; bytes counts them all', { skip }, async (t) => {
  const chunks: Buffer[] = [];
  const w = new CpioWriter(async (c) => {
    chunks.push(Buffer.from(c));
  });
  for (const e of ENTRIES) await w.add(e);
  await w.end();
  const archive = Buffer.concat(chunks);
  t.equal(w.bytes, archive.length, 'bytes is what went to the sink');
  t.notOk(chunks.some((c) => c.length === 0), 'no empty writes');
  compareTree(t, unpack(t, archive), ENTRIES);
});

t.test('R-37 cpio: a device node (the image\'s /dev/console, char 5:1) unpacks as one', { skip: skip || (isRoot() ? false : 'mknod needs root') }, async (t) => {
  const entries: CpioEntry[] = [dir('dev'), { name: 'dev/console', mode: S_IFCHR | 0o600, rdev: [5, 1] }];
  compareTree(t, unpack(t, cpioNewc(entries)), entries);
});

/** Walks a newc archive by the format's rules: returns each header's offset, name and size. */
function walk(buf: Buffer): { at: number; name: string; size: number; mode: number }[] {
  const out = [];
  let at = 0;
  for (;;) {
    const field = (i: number) => parseInt(buf.toString('ascii', at + 6 + i * 8, at + 14 + i * 8), 16);
    if (buf.toString('ascii', at, at + 6) !== '070701') throw new Error(`no newc magic at ${at}`);
    const namesize = field(11);
    const size = field(6);
    const name = buf.toString('utf8', at + 110, at + 110 + namesize - 1);
    if (buf[at + 110 + namesize - 1] !== 0) throw new Error(`name at ${at} is not NUL-terminated`);
    out.push({ at, name, size, mode: field(1) });
    if (name === 'TRAILER!!!') return out;
    at += Math.ceil((110 + namesize) / 4) * 4;
    at += Math.ceil(size / 4) * 4;
  }
}

t.test('R-37 cpio newc layout: every header on a 4-byte boundary, a TRAILER!!! last, padding zeros', async (t) => {
  const archive = cpioNewc(ENTRIES);
  const heads = walk(archive);
  t.equal(heads.length, ENTRIES.length + 1, 'one header per entry and the trailer');
  t.same(heads.filter((h) => h.at % 4 !== 0), [], 'all headers 4-byte aligned');
  t.same(heads.slice(0, -1).map((h) => [h.name, h.size, h.mode]), ENTRIES.map((e) => [e.name, e.data?.length ?? 0, e.mode]), 'names, sizes and modes as given');
  const last = heads.at(-1)!;
  t.equal(last.name, 'TRAILER!!!');
  t.equal(archive.length % 4, 0, 'the archive ends on a 4-byte boundary');
  t.equal(archive.length, Math.ceil((last.at + 110 + 'TRAILER!!!'.length + 1) / 4) * 4, 'nothing after the trailer');
  // Padding between a name and its data, and after data, is zeros.
  const [head, name, pad, data, pad2] = cpioParts(file('abc', 'xy'), 7);
  t.equal(head!.length, 110, '110-byte header');
  t.same([...name!], [...Buffer.from('abc\0')], 'the name with its NUL');
  t.same([...pad!, ...pad2!], [0, 0, 0, 0], 'zero padding');
  t.equal(data!.toString(), 'xy');
  t.match(head!.toString('ascii'), /^070701[0-9a-f]{104}$/, 'hex fields');
});

t.test('R-37 cpio: an absolute name or a NUL in a name is refused', async (t) => {
  t.throws(() => cpioNewc([file('/etc/passwd', 'x')]), /bad entry name/, 'absolute');
  t.throws(() => cpioNewc([file('etc/pa\0sswd', 'x')]), /bad entry name/, 'NUL');
  const w = new CpioWriter(async () => {});
  await t.rejects(w.add(file('/init', 'x')), /bad entry name/, 'CpioWriter.add too');
  t.equal(w.bytes, 0, 'nothing written for a refused entry');
});
