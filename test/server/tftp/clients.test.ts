/**
 * R-21 real third-party TFTP clients (curl, tftp-hpa, atftp) against the real service on
 * loopback: every fetched file's sha256 equals the source's. Windows `\` paths, netascii,
 * blksize/windowsize negotiation and hostile paths. Each client test is skipped, with the
 * reason, where its binary is missing; CI installs them (curl, tftp-hpa, atftp).
 */
import t, { type Test } from 'tap';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startTftpService } from '../../../server/tftp/service.js';
import { RootedFileSource } from '../../../server/tftp/file-source.js';
import { have, run, seededBytes, sha256, silentLog, tempTree, waitFor, testEngines } from './helpers.js';

const files = {
  'big.bin': seededBytes(3_000_000, 11),
  'boot/x64/boot.sdi': seededBytes(70_000, 12),
  'exact.bin': seededBytes(1024, 13),
  'empty.bin': Buffer.alloc(0),
  'menu.txt': Buffer.from('DEFAULT linux\nLABEL linux\r\n  KERNEL vmlinuz\n\rlast line without newline'),
};
const tree = await tempTree(files);
const out = await tempTree({});
t.teardown(async () => {
  await tree.cleanup();
  await out.cleanup();
});

for (const engine of testEngines()) {
  t.test(`engine: ${engine}`, async (t) => {
    const svc = await startTftpService({ port: 0, host: '127.0.0.1', source: new RootedFileSource([tree.root]), log: silentLog(), engine });
    t.teardown(() => svc.close());
    t.equal(svc.engine, engine, `transfers run on the ${engine} data path`);
    const P = String(svc.port);
    let n = 0;
    const target = () => join(out.root, `${engine}-out-${++n}`);

    async function sameFile(t: Test, path: string, expected: Buffer, what: string): Promise<void> {
      const got = await readFile(path).catch(() => null);
      t.equal(got === null ? 'missing' : sha256(got), sha256(expected), `${what}: sha256 matches`);
    }

    const skip = async (bin: string) => ((await have(bin)) ? false : `${bin} is not installed (Debian: apt-get install ${bin === 'tftp' ? 'tftp-hpa' : bin})`);

    t.test('R-21 curl: default 512-byte blocks, --tftp-blksize 1468, and a Windows path', { skip: await skip('curl') }, async (t) => {
      for (const args of [[], ['--tftp-blksize', '1468'], ['--tftp-blksize', '65464']]) {
        const o = target();
        const r = await run('curl', ['-sS', ...args, '-o', o, `tftp://127.0.0.1:${P}/big.bin`]);
        t.equal(r.code, 0, `curl ${args.join(' ')} exit 0 ${r.stderr}`);
        await sameFile(t, o, files['big.bin'], `curl ${args.join(' ') || 'default'}`);
      }
      const o = target();
      const r = await run('curl', ['-sS', '-o', o, `tftp://127.0.0.1:${P}/Boot\\x64\\BOOT.SDI`]);
      t.equal(r.code, 0, r.stderr);
      await sameFile(t, o, files['boot/x64/boot.sdi'], 'curl Boot\\x64\\BOOT.SDI');
      const e = target();
      t.equal((await run('curl', ['-sS', '-o', e, `tftp://127.0.0.1:${P}/exact.bin`])).code, 0);
      await sameFile(t, e, files['exact.bin'], 'a multiple of 512 bytes (empty final block)');
    });

    t.test('R-21 tftp-hpa: binary, verbose, netascii and a Windows path', { skip: await skip('tftp') }, async (t) => {
      const o = target();
      const r = await run('tftp', ['127.0.0.1', P, '-m', 'binary', '-c', 'get', 'big.bin', o]);
      t.equal(r.code, 0);
      await sameFile(t, o, files['big.bin'], 'tftp -m binary');
      const v = target();
      const rv = await run('tftp', ['-v', '127.0.0.1', P, '-m', 'binary', '-c', 'get', 'Boot\\x64\\BOOT.SDI', v]);
      t.match(rv.stdout, /Received 70000 bytes/, 'verbose output reports the size');
      await sameFile(t, v, files['boot/x64/boot.sdi'], 'tftp -v Boot\\x64\\BOOT.SDI');
      const a = target();
      t.equal((await run('tftp', ['127.0.0.1', P, '-c', 'get', 'menu.txt', a])).code, 0);
      await sameFile(t, a, files['menu.txt'], 'tftp default (netascii) mode: converted and converted back');
      for (const name of ['empty.bin', 'exact.bin'] as const) {
        const o2 = target();
        await run('tftp', ['127.0.0.1', P, '-m', 'binary', '-c', 'get', name, o2]);
        await sameFile(t, o2, files[name], `tftp ${name}`);
      }
    });

    t.test('R-21 atftp: blksize and windowsize negotiation (RFC 2348, RFC 7440)', { skip: await skip('atftp') }, async (t) => {
      const cases: string[][] = [
        [],
        ['--option', 'blksize 1468', '--option', 'windowsize 16'],
        ['--option', 'blksize 8192', '--option', 'windowsize 16'],
        ['--option', 'blksize 1468', '--option', 'windowsize 4', '--option', 'tsize enable', '--option', 'timeout 2'],
      ];
      for (const opts of cases) {
        const o = target();
        const r = await run('atftp', ['--get', '-r', 'big.bin', '-l', o, ...opts, '127.0.0.1', P]);
        t.equal(r.code, 0, `atftp ${opts.join(' ')} exit 0 ${r.stderr.slice(0, 200)}`);
        await sameFile(t, o, files['big.bin'], `atftp ${opts.filter((x) => x !== '--option').join(', ') || 'no options'}`);
      }
      const e = target();
      t.equal((await run('atftp', ['--get', '-r', 'empty.bin', '-l', e, '--option', 'blksize 1468', '127.0.0.1', P])).code, 0);
      await sameFile(t, e, files['empty.bin'], 'atftp empty file (one empty DATA block)');
    });

    t.test('R-21 hostile paths get a TFTP error, never a file outside the root', async (t) => {
      if (await have('curl')) {
        const o = target();
        const r = await run('curl', ['-sS', '--path-as-is', '-o', o, `tftp://127.0.0.1:${P}/../../etc/passwd`]);
        t.equal(r.code, 69, 'curl exit 69: TFTP permission problem (ERROR 2 access violation)');
        t.equal(await stat(o).catch(() => null), null, 'nothing written');
        const r2 = await run('curl', ['-sS', '-o', target(), `tftp://127.0.0.1:${P}//etc/passwd`]);
        t.equal(r2.code, 68, 'an absolute path stays in the root: curl exit 68, file not found');
      }
      if (await have('tftp')) {
        const o = target();
        const r = await run('tftp', ['127.0.0.1', P, '-m', 'binary', '-c', 'get', '..\\..\\etc\\passwd', o]);
        t.match(r.stdout + r.stderr, /Error code 2: access violation/, 'tftp-hpa reports ERROR 2');
        const size = (await stat(o).catch(() => null))?.size ?? 0;
        t.equal(size, 0, 'nothing received');
      }
      if (await have('atftp')) {
        const r = await run('atftp', ['--get', '-r', '../../etc/passwd', '-l', target(), '127.0.0.1', P]);
        t.not(r.code, 0, 'atftp fails');
        t.match(r.stdout + r.stderr, /access violation/);
      }
      t.ok(await waitFor(() => svc.activeTransfers() === 0));
    });

    t.test('R-21 50 concurrent curl fetches are all byte-exact and leave no transfer behind', { skip: await skip('curl') }, async (t) => {
      const outs = Array.from({ length: 50 }, () => target());
      const results = await Promise.all(
        outs.map((o, i) => run('curl', ['-sS', ...(i % 2 ? ['--tftp-blksize', '1468'] : []), '-o', o, `tftp://127.0.0.1:${P}/${i % 3 ? 'big.bin' : 'Boot/X64/boot.sdi'}`], { timeoutMs: 100_000 })),
      );
      t.same(
        results.map((r) => r.code),
        outs.map(() => 0),
        'every curl exited 0',
      );
      let good = 0;
      for (const [i, o] of outs.entries()) {
        const got = await readFile(o).catch(() => Buffer.alloc(0));
        if (sha256(got) === sha256(i % 3 ? files['big.bin'] : files['boot/x64/boot.sdi'])) good++;
      }
      t.equal(good, 50, 'all 50 files match');
      t.ok(await waitFor(() => svc.activeTransfers() === 0), 'activeTransfers() back to 0');
    });
  });
}
