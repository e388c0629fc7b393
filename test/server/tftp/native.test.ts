/**
 * on the native data path (native/tftp_transfer.c) where the JavaScript path's tests
 * use seams it does not have (an injected clock, a socket factory, an fd-less source): timeouts
 * on the real clock, sockets released (counted in /proc/self/fd), shutdown, a file that shrinks
 * mid-transfer, a mid-window ACK (RFC 7440 §4), IPv6, and `engine: 'native'` when it is missing.
 * The real-client, lossy and hostile-packet tests run on both paths (clients, lossy, service,
 * rollover test files).
 */
import t, { type Test } from 'tap';
import dgram from 'node:dgram';
import { readdirSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { RootedFileSource } from '../../../server/tftp/file-source.js';
import { loadNativeTftp } from '../../../server/tftp/native.js';
import { startTftpService, type TftpServiceOptions } from '../../../server/tftp/service.js';
import { decodeTftp, encodeTftp, type TftpPacket } from '../../../server/wire/tftp/index.js';
import { RawPeer, seededBytes, silentLog, tempTree, testEngines, waitFor } from './helpers.js';

const BIG = seededBytes(300_000, 7);
const tree = await tempTree({ 'big.bin': BIG, 'shrink.bin': seededBytes(1_000_000, 8) });
t.teardown(() => tree.cleanup());

const openFds = (): number => readdirSync('/proc/self/fd').length;
const rrq = (filename: string, options: Record<string, string> = {}) => encodeTftp({ op: 'RRQ', filename, mode: 'octet', options: new Map(Object.entries(options)) });
const ack = (block: number) => encodeTftp({ op: 'ACK', block });

async function service(t: Test, extra: Partial<TftpServiceOptions> = {}) {
  const svc = await startTftpService({ port: 0, host: '127.0.0.1', source: new RootedFileSource([tree.root]), log: silentLog(), engine: 'native', ...extra });
  t.teardown(() => svc.close());
  t.equal(svc.engine, 'native');
  return svc;
}

async function peer(t: Test): Promise<RawPeer> {
  const p = await RawPeer.open();
  t.teardown(() => p.close());
  return p;
}

async function next(p: RawPeer, what: string): Promise<[TftpPacket, number]> {
  const d = await p.next();
  if (!d) throw new Error(`${what}: nothing received`);
  return [decodeTftp(d.msg), d.port];
}

const native = testEngines().includes('native');

/** false when ::1 can be bound, else why not (some containers have no IPv6). */
async function ipv6(): Promise<string | false> {
  const s = dgram.createSocket('udp6');
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, '::1', () => resolve());
    });
    return false;
  } catch (err) {
    return `no IPv6 loopback here: ${(err as Error).message}`;
  } finally {
    s.close();
  }
}

if (!native) {
  t.test('engine "native" is refused with the reason when it was not built', async (t) => {
    await t.rejects(startTftpService({ port: 0, host: '127.0.0.1', source: new RootedFileSource([tree.root]), log: silentLog(), engine: 'native' }), /TFTP engine "native" is not available/);
  });
} else {
  t.test('the addon loads from the package root', async (t) => {
    t.match(loadNativeTftp().why, /native\/build\/Release\/osdeploy_tftp\.node$/);
  });

  t.test('R-21 a silent client is retried from the first unacknowledged block, then told and dropped; no descriptor is left', async (t) => {
    const svc = await service(t, { timeoutMs: 40, maxRetries: 3 });
    const p = await peer(t);
    const idle = openFds();
    await p.send(rrq('big.bin'), svc.port);
    const [first, tid] = await next(p, 'DATA 1');
    t.match(first, { op: 'DATA', block: 1 });
    t.equal(openFds(), idle + 3, 'a transfer holds two sockets on its port (one connected to the client, one for foreign TIDs) and its file');
    await p.send(ack(1), tid);
    t.match((await next(p, 'DATA 2'))[0], { op: 'DATA', block: 2 });
    // Silence from here: DATA 2 again three times (40, 80, 160 ms), then ERROR 0.
    const got: TftpPacket[] = [];
    for (let i = 0; i < 4; i++) got.push((await next(p, `after timeout ${i + 1}`))[0]);
    t.match(got.slice(0, 3), [{ op: 'DATA', block: 2 }, { op: 'DATA', block: 2 }, { op: 'DATA', block: 2 }], 'the unacknowledged block is resent per timeout');
    t.same(got[3], { op: 'ERROR', code: 0, message: 'transfer timed out' });
    t.ok(await waitFor(() => svc.activeTransfers() === 0), 'transfer dropped');
    t.ok(await waitFor(() => openFds() === idle), 'its socket and file are closed');
    t.same(await p.drain(150), [], 'nothing after the ERROR');
  });

  t.test('R-21 an OACK nobody acknowledges is resent, then the transfer gives up', async (t) => {
    const svc = await service(t, { timeoutMs: 30, maxRetries: 2 });
    const p = await peer(t);
    await p.send(rrq('big.bin', { blksize: '1024' }), svc.port);
    const ops: string[] = [];
    for (let i = 0; i < 4; i++) ops.push((await next(p, `packet ${i}`))[0].op);
    t.same(ops, ['OACK', 'OACK', 'OACK', 'ERROR']);
    t.ok(await waitFor(() => svc.activeTransfers() === 0));
  });

  t.test('R-21 windowsize: an ACK inside the window starts the next window right after it (RFC 7440 §4)', async (t) => {
    const svc = await service(t, { timeoutMs: 30_000 });
    const p = await peer(t);
    await p.send(rrq('big.bin', { windowsize: '4', blksize: '512' }), svc.port);
    const [oack, tid] = await next(p, 'OACK');
    t.same(oack, { op: 'OACK', options: new Map([['blksize', '512'], ['windowsize', '4']]) });
    await p.send(ack(0), tid);
    const first = [];
    for (let i = 0; i < 4; i++) first.push(((await next(p, 'window 1'))[0] as { block: number }).block);
    t.same(first, [1, 2, 3, 4], 'the first window');
    await p.send(ack(2), tid);
    const second = [];
    for (let i = 0; i < 4; i++) second.push(((await next(p, 'window 2'))[0] as { block: number }).block);
    t.same(second, [3, 4, 5, 6], 'blocks 3 and 4 again, then 5 and 6');
    await p.send(ack(6), tid);
    await p.send(ack(6), tid); // a duplicate: no second window
    const third = await p.drain(200);
    t.same(third.map((d) => (decodeTftp(d.msg) as { block: number }).block), [7, 8, 9, 10], 'one window for the duplicate ACK pair');
    await p.send(encodeTftp({ op: 'ERROR', code: 0, message: 'done testing' }), tid);
    t.ok(await waitFor(() => svc.activeTransfers() === 0), 'a client ERROR ends it');
  });

  t.test('R-32 a file that shrinks under a native transfer ends it with ERROR 0, never a short file', async (t) => {
    const svc = await service(t, { timeoutMs: 30_000 });
    const p = await peer(t);
    await p.send(rrq('shrink.bin'), svc.port);
    let [pkt, tid] = await next(p, 'DATA 1');
    await truncate(join(tree.root, 'shrink.bin'), 1000);
    let last = 0;
    while (pkt.op === 'DATA') {
      last = pkt.block;
      await p.send(ack(pkt.block), tid);
      [pkt, tid] = await next(p, `after DATA ${last}`);
    }
    t.same(pkt, { op: 'ERROR', code: 0, message: 'read error' }, 'the client is told');
    t.ok(last >= 256, `the blocks read before the truncation went out (last DATA ${last})`);
    t.ok(await waitFor(() => svc.activeTransfers() === 0));
  });

  t.test('R-21 close() aborts native transfers with ERROR 0 and releases every descriptor', async (t) => {
    const svc = await startTftpService({ port: 0, host: '127.0.0.1', source: new RootedFileSource([tree.root]), log: silentLog(), engine: 'native' });
    const p = await peer(t);
    const idle = openFds();
    await p.send(rrq('big.bin'), svc.port);
    await next(p, 'DATA 1');
    await svc.close();
    t.equal(svc.activeTransfers(), 0);
    t.same((await next(p, 'shutdown'))[0], { op: 'ERROR', code: 0, message: 'server shutting down' });
    t.ok(await waitFor(() => openFds() === idle - 1), 'no transfer socket or file left open, and the listener is closed');
  });

  t.test('R-21 IPv6: a transfer over ::1 on the native path', { skip: await ipv6() }, async (t) => {
    const svc = await service(t, { host: '::1' });
    const s = dgram.createSocket('udp6');
    await new Promise<void>((r) => s.bind(0, '::1', () => r()));
    t.teardown(() => s.close());
    const chunks: Buffer[] = [];
    const done = new Promise<void>((resolve) => {
      s.on('message', (msg, r) => {
        const pkt = decodeTftp(msg);
        if (pkt.op !== 'DATA') return;
        chunks.push(Buffer.from(pkt.data));
        s.send(ack(pkt.block), r.port, r.address);
        if (pkt.data.length < 512) resolve();
      });
    });
    s.send(rrq('big.bin'), svc.port, '::1');
    await done;
    t.ok(Buffer.concat(chunks).equals(BIG), 'byte-exact over IPv6');
  });
}
