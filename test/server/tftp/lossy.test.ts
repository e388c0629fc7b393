/**
 * R-21 transfers through a lossy UDP relay written here: 2 % of the datagrams are dropped in each
 * direction (seeded PRNG), and every real client still receives the file byte-exact. The server's
 * default retransmission timeout is shortened so the test stays quick; curl negotiates its own
 * (RFC 2349 timeout option) and gets 1 s through --connect-timeout 3.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTftpService } from '../../../server/tftp/service.js';
import { RootedFileSource } from '../../../server/tftp/file-source.js';
import { LossyRelay, have, run, seededBytes, sha256, silentLog, tempTree, testEngines } from './helpers.js';

const files = { 'lossy.bin': seededBytes(400_000, 21), 'small.bin': seededBytes(100_000, 22) };
const tree = await tempTree(files);
const out = await tempTree({});
t.teardown(async () => {
  await tree.cleanup();
  await out.cleanup();
});

for (const engine of testEngines()) {
  t.test(`engine: ${engine}`, async (t) => {
    const svc = await startTftpService({ port: 0, host: '127.0.0.1', source: new RootedFileSource([tree.root]), log: silentLog(), engine, timeoutMs: 100 });
    t.teardown(() => svc.close());
    t.equal(svc.engine, engine, `transfers run on the ${engine} data path`);

    const cases: { label: string; client: string; file: keyof typeof files; args: (port: string, o: string) => [string, string[]] }[] = [
      { label: 'tftp-hpa, 512-byte blocks', client: 'tftp', file: 'lossy.bin', args: (port, o) => ['tftp', ['127.0.0.1', port, '-m', 'binary', '-c', 'get', 'lossy.bin', o]] },
      {
        label: 'atftp, blksize 1468, windowsize 16',
        client: 'atftp',
        file: 'lossy.bin',
        args: (port, o) => ['atftp', ['--get', '-r', 'lossy.bin', '-l', o, '--option', 'blksize 1468', '--option', 'windowsize 16', '127.0.0.1', port]],
      },
      { label: 'atftp, blksize 512', client: 'atftp', file: 'lossy.bin', args: (port, o) => ['atftp', ['--get', '-r', 'lossy.bin', '-l', o, '--option', 'blksize 512', '127.0.0.1', port]] },
      {
        label: 'curl, blksize 1468, timeout 1',
        client: 'curl',
        file: 'small.bin',
        args: (port, o) => ['curl', ['-sS', '--connect-timeout', '3', '--tftp-blksize', '1468', '-o', o, `tftp://127.0.0.1:${port}/small.bin`]],
      },
    ];

    for (const [i, c] of cases.entries()) {
      const skip = (await have(c.client)) ? false : `${c.client} is not installed`;
      t.test(`R-21 ${c.label}: byte-exact through 2 % loss each way`, { skip }, async (t) => {
        const relay = await LossyRelay.open(svc.port, 0.02, 1000 + i);
        t.teardown(() => relay.close());
        const o = join(out.root, `${engine}-lossy-${i}`);
        const [cmd, argv] = c.args(String(relay.port), o);
        const r = await run(cmd, argv, { timeoutMs: 100_000 });
        t.equal(r.code, 0, `exit 0 ${r.stderr.slice(0, 300)}`);
        const got = await readFile(o).catch(() => Buffer.alloc(0));
        t.equal(sha256(got), sha256(files[c.file]), 'sha256 matches');
        t.ok(relay.dropped > 0, `the relay dropped ${relay.dropped} of ${relay.dropped + relay.forwarded} datagrams`);
      });
    }
  });
}
