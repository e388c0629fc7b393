/**
 * boot files over HTTP (`/boot/…`, what iPXE fetches), against curl on a real socket: the
 * whole file byte-exact, ranges (206), an unsatisfiable range (416), HEAD, an empty file, and a
 * file large enough that the two-buffer pump takes many turns.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { apiHarness } from '../../fixtures/api-harness.js';

// Asynchronous: the service answers on this process's event loop.
const run = promisify(execFile);
const curl = async (args: string[]): Promise<Buffer> => (await run('curl', ['-sS', ...args], { encoding: 'buffer', maxBuffer: 64 << 20 })).stdout;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

t.test('R-22 /boot/… serves boot files whole, by range and by HEAD, to curl', async (t) => {
  const h = await apiHarness(t);
  const root = path.join(h.dataDir, 'tftproot');
  mkdirSync(path.join(root, 'images'), { recursive: true });
  const big = randomBytes(5 * 1024 * 1024 + 12345);
  writeFileSync(path.join(root, 'images', 'initrd.img'), big);
  writeFileSync(path.join(root, 'empty.bin'), Buffer.alloc(0));
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}/boot`;

  const whole = (await curl([`${base}/images/initrd.img`]));
  t.equal(whole.length, big.length, 'every byte');
  t.equal(sha(whole), sha(big), 'byte-exact');

  const headers = (await curl(['-D', '-', '-o', '/dev/null', '-r', '1000-1999', `${base}/images/initrd.img`])).toString();
  t.match(headers, /^HTTP\/1\.1 206/, '206 for a range');
  t.match(headers, new RegExp(`content-range: bytes 1000-1999/${big.length}`, 'i'));
  t.equal(sha((await curl(['-r', '1000-1999', `${base}/images/initrd.img`]))), sha(big.subarray(1000, 2000)), 'the range, byte-exact');
  t.equal(sha((await curl(['-r', '-100', `${base}/images/initrd.img`]))), sha(big.subarray(big.length - 100)), 'a suffix range');

  const unsatisfiable = (await curl(['-D', '-', '-o', '/dev/null', '-r', `${big.length + 5}-`, `${base}/images/initrd.img`])).toString();
  t.match(unsatisfiable, /^HTTP\/1\.1 416/, '416 past the end');
  t.match(unsatisfiable, new RegExp(`content-range: bytes \\*/${big.length}`, 'i'));

  const head = (await curl(['-I', `${base}/images/initrd.img`])).toString();
  t.match(head, /^HTTP\/1\.1 200/);
  t.match(head, new RegExp(`content-length: ${big.length}`, 'i'), 'HEAD says the size, with no body');

  t.equal((await curl([`${base}/empty.bin`])).length, 0, 'an empty file is an empty body');
  t.match((await curl(['-D', '-', '-o', '/dev/null', `${base}/nothing-here.bin`])).toString(), /^HTTP\/1\.1 404/, 'a missing file is 404');
});
