/**
 * R-21 block-number rollover with real clients: more than 65,535 blocks, served from a generated
 * file (no disk). At blksize 8 (the RFC 2348 minimum) half a megabyte is enough to wrap; at the
 * default 512 bytes the file is just over 32 MB.
 */
import t, { type Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTftpService } from '../../../server/tftp/service.js';
import { GeneratedSource, have, run, sha256, silentLog, tempTree, waitFor } from './helpers.js';

const SIZES = { 'roll8.bin': 65_536 * 8 + 1000, 'roll512.bin': 65_600 * 512 + 10 };
const source = new GeneratedSource(SIZES);
const out = await tempTree({});
const svc = await startTftpService({ port: 0, host: '127.0.0.1', source, log: silentLog() });
t.teardown(async () => {
  await svc.close();
  await out.cleanup();
});
const P = String(svc.port);
const expected = (name: keyof typeof SIZES) => sha256(GeneratedSource.contents(SIZES[name]));

async function check(t: Test, o: string, name: keyof typeof SIZES, code: number | null): Promise<void> {
  t.equal(code, 0, 'client exit 0');
  const got = await readFile(o).catch(() => Buffer.alloc(0));
  t.equal(got.length, SIZES[name], 'size');
  t.equal(sha256(got), expected(name), 'sha256 matches');
}

t.test('R-21 atftp blksize 8 windowsize 32: 65,661 blocks, wrapping past 65535 to 0', { skip: (await have('atftp')) ? false : 'atftp is not installed' }, async (t) => {
  const o = join(out.root, 'a8');
  const r = await run('atftp', ['--get', '-r', 'roll8.bin', '-l', o, '--option', 'blksize 8', '--option', 'windowsize 32', '127.0.0.1', P], { timeoutMs: 100_000 });
  await check(t, o, 'roll8.bin', r.code);
});

t.test('R-21 curl at 512-byte blocks over a 33.6 MB file', { skip: (await have('curl')) ? false : 'curl is not installed' }, async (t) => {
  const o = join(out.root, 'c512');
  const r = await run('curl', ['-sS', '-o', o, `tftp://127.0.0.1:${P}/roll512.bin`], { timeoutMs: 100_000 });
  await check(t, o, 'roll512.bin', r.code);
});

t.test('R-21 tftp-hpa (no options) over the same file', { skip: (await have('tftp')) ? false : 'tftp-hpa is not installed' }, async (t) => {
  const o = join(out.root, 't512');
  const r = await run('tftp', ['127.0.0.1', P, '-m', 'binary', '-c', 'get', 'roll512.bin', o], { timeoutMs: 100_000 });
  await check(t, o, 'roll512.bin', r.code);
  t.ok(await waitFor(() => svc.activeTransfers() === 0));
  t.equal(source.closed, source.opened, 'every generated file was closed');
});
