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
import { Worker } from 'node:worker_threads';
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

  t.test('R-21 an ICMP error on the connected socket does not stop the transfer (the client comes back on its port)', async (t) => {
    const svc = await service(t, { timeoutMs: 100, maxRetries: 8 });
    let p = await peer(t);
    const clientPort = p.port;
    await p.send(rrq('big.bin'), svc.port);
    const [first, tid] = await next(p, 'DATA 1');
    t.match(first, { op: 'DATA', block: 1 });
    p.close(); // the retransmission of DATA 1 now draws an ICMP port unreachable
    await new Promise((r) => setTimeout(r, 250));
    p = await RawPeer.open(clientPort);
    t.teardown(() => p.close());
    const blocks: number[] = [];
    for (let b = 1; b <= 3; b++) {
      await p.send(ack(b), tid);
      let pkt: TftpPacket;
      do [pkt] = await next(p, `DATA ${b + 1}`);
      while (pkt.op === 'DATA' && pkt.block !== b + 1);
      blocks.push((pkt as { block: number }).block);
    }
    t.same(blocks, [2, 3, 4], 'the transfer went on after the socket error');
    await p.send(encodeTftp({ op: 'ERROR', code: 0, message: 'enough' }), tid);
    t.ok(await waitFor(() => svc.activeTransfers() === 0));
  });

  t.test('R-21 300 transfers at once each get their own transfer ID', async (t) => {
    const svc = await service(t, { timeoutMs: 30_000 });
    const peers = await Promise.all(Array.from({ length: 300 }, () => peer(t)));
    const tids: number[] = [];
    // In batches of 50, so the listening socket's receive buffer never drops a request.
    for (let i = 0; i < peers.length; i += 50) {
      const batch = peers.slice(i, i + 50);
      await Promise.all(batch.map((p) => p.send(rrq('big.bin'), svc.port)));
      tids.push(...(await Promise.all(batch.map(async (p) => (await next(p, 'DATA 1'))[1]))));
    }
    t.equal(svc.activeTransfers(), 300, 'all 300 are running');
    t.equal(new Set(tids).size, 300, 'no two transfers share a port');
    await Promise.all(peers.map((p, i) => p.send(encodeTftp({ op: 'ERROR', code: 0, message: 'stop' }), tids[i]!)));
    t.ok(await waitFor(() => svc.activeTransfers() === 0));
  });

  t.test('R-32 an over-long ERROR without its NUL is malformed and ignored, as on the JavaScript path', async (t) => {
    const svc = await service(t, { timeoutMs: 30_000 });
    const p = await peer(t);
    await p.send(rrq('big.bin'), svc.port);
    const [, tid] = await next(p, 'DATA 1');
    await p.send(Buffer.concat([Buffer.from([0, 5, 0, 0]), Buffer.alloc(1100, 0x41)]), tid);
    await p.send(ack(1), tid);
    t.match((await next(p, 'DATA 2'))[0], { op: 'DATA', block: 2 }, 'the transfer goes on');
    await p.send(encodeTftp({ op: 'ERROR', code: 0, message: 'enough' }), tid);
    t.ok(await waitFor(() => svc.activeTransfers() === 0), 'a well-formed ERROR ends it');
  });

  t.test('R-32 the addon refuses options out of range instead of running with them', async (t) => {
    const { native: addon } = loadNativeTftp();
    const good = { bindHost: '127.0.0.1', peerHost: '127.0.0.1', peerPort: 9, fd: 0, size: 10, blksize: 512, windowsize: 1, timeoutMs: 100, maxBackoffMs: 100, maxRetries: 1, chunkBlocks: 256, oack: null };
    for (const bad of [{ chunkBlocks: Infinity }, { chunkBlocks: 2 ** 30 }, { timeoutMs: Infinity }, { maxRetries: NaN }, { fd: 2 ** 40 }, { blksize: 7 }, { windowsize: 40_000 }, { blksize: 512.5 }, { peerHost: 'example.org' }])
      t.throws(() => addon!.start({ ...good, ...bad }, () => {}), /out of range|bad address/, JSON.stringify(bad));
  });

  t.test('R-32 a worker thread that ends with a transfer running does not take the process down', async (t) => {
    const { why: addonPath } = loadNativeTftp();
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const fs = require('node:fs');
      const addon = require(workerData.addon);
      const fd = fs.openSync(workerData.file, 'r');
      const h = addon.start({ bindHost: '127.0.0.1', peerHost: '127.0.0.1', peerPort: 9, fd, size: 300000, blksize: 512, windowsize: 4,
        timeoutMs: 50, maxBackoffMs: 50, maxRetries: 100, chunkBlocks: 256, oack: null }, () => {});
      parentPort.postMessage(h.port);`;
    const worker = new Worker(code, { eval: true, workerData: { addon: addonPath, file: join(tree.root, 'big.bin') } });
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    t.ok(port > 0, 'the worker started a transfer');
    t.equal(await worker.terminate(), 1, 'the worker was terminated mid-transfer');
    await new Promise((r) => setTimeout(r, 200));
    t.pass('this process is still running');
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
