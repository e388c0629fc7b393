/**
 * the TFTP service on loopback, driven by a raw UDP peer written here: transfer IDs,
 * refusals, malformed requests, foreign TIDs (ERROR 5), duplicate ACKs, silent clients (fake
 * clock), limits and shutdown. Real third-party clients are in clients.test.ts.
 */
import t, { type Test } from 'tap';
import dgram from 'node:dgram';
import { startTftpService, type TftpEngine, type TftpServiceOptions } from '../../../server/tftp/service.js';
import { RootedFileSource } from '../../../server/tftp/file-source.js';
import type { CreateSocket } from '../../../server/tftp/io.js';
import { decodeTftp, encodeTftp, type TftpPacket } from '../../../server/wire/tftp/index.js';
import { FakeClock, GeneratedSource, RawPeer, seededBytes, silentLog, tempTree, testEngines, waitFor, type Datagram } from './helpers.js';

const BIG = seededBytes(50_000, 1);
const tree = await tempTree({ 'big.bin': BIG, 'small.txt': 'line one\nline two\r\n', 'boot/x64/bcd': 'bcd' });
t.teardown(tree.cleanup);

/** Sockets the service creates, and whether each got closed. */
function tracking(): { create: CreateSocket; made: { closed: boolean }[] } {
  const made: { closed: boolean }[] = [];
  const create: CreateSocket = (type) => {
    const s = dgram.createSocket(type);
    const rec = { closed: false };
    s.on('close', () => (rec.closed = true));
    made.push(rec);
    return s;
  };
  return { create, made };
}

async function serviceOn(t: Test, engine: TftpEngine | undefined, extra: Partial<TftpServiceOptions> = {}) {
  const svc = await startTftpService({ port: 0, host: '127.0.0.1', source: new RootedFileSource([tree.root]), log: silentLog(), ...(engine ? { engine } : {}), ...extra });
  if (engine) t.equal(svc.engine, engine, `the ${engine} data path runs the transfers`);
  t.teardown(() => svc.close());
  return svc;
}

/** The service as the tests with a seam (clock, socket factory, fd-less source) get it: the JavaScript path. */
const service = (t: Test, extra: Partial<TftpServiceOptions> = {}) => serviceOn(t, undefined, extra);

async function peer(t: Test): Promise<RawPeer> {
  const p = await RawPeer.open();
  t.teardown(() => p.close());
  return p;
}

const rrq = (filename: string, options: Record<string, string> = {}, mode: 'octet' | 'netascii' = 'octet') =>
  encodeTftp({ op: 'RRQ', filename, mode, options: new Map(Object.entries(options)) });
const ack = (block: number) => encodeTftp({ op: 'ACK', block });

async function expectPacket(t: Test, p: RawPeer, what: string): Promise<[TftpPacket, Datagram]> {
  const d = await p.next();
  if (!d) throw new Error(`${what}: nothing received`);
  return [decodeTftp(d.msg), d];
}

/** Lockstep fetch through a raw peer (windowsize 1); returns the bytes and the DATA count. */
async function fetch(t: Test, p: RawPeer, port: number, name: string, options: Record<string, string> = {}, ackTwice = false) {
  await p.send(rrq(name, options), port);
  const chunks: Buffer[] = [];
  let datas = 0;
  let blksize = 512;
  for (;;) {
    const [pkt, d] = await expectPacket(t, p, 'fetch');
    if (pkt.op === 'OACK') {
      blksize = Number(pkt.options.get('blksize') ?? 512);
      await p.send(ack(0), d.port);
      continue;
    }
    if (pkt.op !== 'DATA') throw new Error(`unexpected ${pkt.op}`);
    datas++;
    chunks.push(Buffer.from(pkt.data));
    await p.send(ack(pkt.block), d.port);
    if (ackTwice) await p.send(ack(pkt.block), d.port);
    if (pkt.data.length < blksize) break;
  }
  return { data: Buffer.concat(chunks), datas };
}

t.test('R-21 a client that goes silent is retried with backoff, then dropped and its socket closed (fake clock)', async (t) => {
  const clock = new FakeClock();
  const sockets = tracking();
  const svc = await service(t, { clock, createSocket: sockets.create, timeoutMs: 1000, maxRetries: 3 });
  const p = await peer(t);
  await p.send(rrq('big.bin'), svc.port);
  const [first] = await expectPacket(t, p, 'DATA 1');
  t.match(first, { op: 'DATA', block: 1 });
  t.equal(sockets.made.length, 2, 'listener + one transfer socket');
  for (const wait of [1000, 2000, 4000]) {
    clock.advance(wait - 1);
    t.same(await p.drain(30), [], `nothing before ${wait} ms`);
    clock.advance(1);
    t.match((await expectPacket(t, p, 'retransmission'))[0], { op: 'DATA', block: 1 }, `DATA 1 again after ${wait} ms`);
  }
  clock.advance(8000);
  t.same((await expectPacket(t, p, 'give up'))[0], { op: 'ERROR', code: 0, message: 'transfer timed out' });
  t.ok(await waitFor(() => svc.activeTransfers() === 0), 'transfer dropped');
  t.ok(await waitFor(() => sockets.made[1]?.closed === true), 'its socket closed');
  t.equal(clock.pending, 0, 'no timer left');
});

t.test('R-21 silent clients on the real clock are dropped too', async (t) => {
  const sockets = tracking();
  const svc = await service(t, { createSocket: sockets.create, timeoutMs: 20, maxRetries: 2 });
  const p = await peer(t);
  await p.send(rrq('big.bin', { blksize: '1024' }), svc.port);
  await p.send(rrq('big.bin', { blksize: '1024' }), svc.port); // a retransmitted RRQ is not a second transfer
  t.match((await expectPacket(t, p, 'OACK'))[0], { op: 'OACK' });
  t.ok(await waitFor(() => svc.activeTransfers() === 0));
  t.equal(sockets.made.length, 2, 'one transfer socket for the duplicate RRQ');
  t.ok(sockets.made.every((s, i) => i === 0 || s.closed));
  const got = await p.drain(50);
  t.ok(got.every((d) => decodeTftp(d.msg).op === 'OACK' || decodeTftp(d.msg).op === 'ERROR'), 'only OACK retransmissions and the final ERROR');
});

t.test('R-21 close() aborts running transfers and closes every socket', async (t) => {
  const sockets = tracking();
  const svc = await startTftpService({ port: 0, host: '127.0.0.1', source: new RootedFileSource([tree.root]), log: silentLog(), createSocket: sockets.create });
  const p = await peer(t);
  await p.send(rrq('big.bin'), svc.port);
  await expectPacket(t, p, 'DATA 1');
  await svc.close();
  t.equal(svc.activeTransfers(), 0);
  t.same((await expectPacket(t, p, 'shutdown'))[0], { op: 'ERROR', code: 0, message: 'server shutting down' });
  t.ok(await waitFor(() => sockets.made.every((s) => s.closed)));
});

t.test('R-32 a file that shrinks under a transfer ends it with ERROR 0, not a short file', async (t) => {
  const shrinking = {
    open: async () => ({ size: 4096, read: async () => 0, close: async () => {} }),
  };
  const svc = await service(t, { source: shrinking });
  const p = await peer(t);
  await p.send(rrq('any.bin'), svc.port);
  t.same((await expectPacket(t, p, 'read error'))[0], { op: 'ERROR', code: 0, message: 'read error' });
  t.ok(await waitFor(() => svc.activeTransfers() === 0));
});

/** What every data path must do the same way (the seams above are the JavaScript path's). */
for (const engine of testEngines()) {
  const service = (t: Test, extra: Partial<TftpServiceOptions> = {}) => serviceOn(t, engine, extra);

  t.test(`${engine}: R-21 a read with options: OACK from a fresh transfer ID, then the file`, async (t) => {
    const svc = await service(t);
    const p = await peer(t);
    await p.send(rrq('big.bin', { blksize: '1468', tsize: '0', foo: 'bar' }), svc.port);
    const [oack, d] = await expectPacket(t, p, 'OACK');
    t.same(oack, { op: 'OACK', options: new Map([['blksize', '1468'], ['tsize', String(BIG.length)]]) }, 'unknown option left out');
    t.not(d.port, svc.port, 'the transfer uses its own port (RFC 1350 §4)');
    t.equal(svc.activeTransfers(), 1);
    await p.send(ack(0), d.port);
    const [first] = await expectPacket(t, p, 'DATA 1');
    t.match(first, { op: 'DATA', block: 1 });
    t.equal((first as { data: Uint8Array }).data.length, 1468);
    p.close();
    const q = await peer(t);
    const got = await fetch(t, q, svc.port, 'big.bin', { blksize: '1468' });
    t.ok(got.data.equals(BIG), 'byte-exact');
  });

  t.test(`${engine}: R-21 refusals: write requests, missing files, hostile paths`, async (t) => {
    const svc = await service(t);
    const p = await peer(t);
    await p.send(encodeTftp({ op: 'WRQ', filename: 'x', mode: 'octet', options: new Map() }), svc.port);
    const [wrq, d] = await expectPacket(t, p, 'WRQ');
    t.same(wrq, { op: 'ERROR', code: 2, message: 'read-only server' });
    t.equal(d.port, svc.port);
    await p.send(rrq('nope.efi'), svc.port);
    t.same((await expectPacket(t, p, 'missing'))[0], { op: 'ERROR', code: 1, message: 'file not found' });
    for (const hostile of ['../../etc/passwd', 'boot\\..\\..\\etc\\shadow', 'a\0b']) {
      await p.send(Buffer.concat([Buffer.from([0, 1]), Buffer.from(hostile), Buffer.from([0]), Buffer.from('octet\0')]), svc.port);
      const [pkt] = await expectPacket(t, p, hostile);
      // A NUL inside the name ends it early ("a"), which is simply not found.
      t.match(pkt, { op: 'ERROR', code: hostile.includes('\0') ? 4 : 2 }, JSON.stringify(hostile));
    }
    t.equal(svc.activeTransfers(), 0);
  });

  t.test(`${engine}: R-32 malformed datagrams are answered or ignored and never stop the service`, async (t) => {
    const svc = await service(t);
    const p = await peer(t);
    const send = (b: number[]) => p.send(Buffer.from(b), svc.port);
    await p.send(Buffer.from('\0\x01file\0mail\0'), svc.port);
    t.match((await expectPacket(t, p, 'bad mode'))[0], { op: 'ERROR', code: 4, message: 'malformed request: bad-mode' });
    await p.send(Buffer.from('\0\x01file\0octet\0tsize\x000\0TSIZE\x000\0'), svc.port);
    t.match((await expectPacket(t, p, 'duplicate option'))[0], { op: 'ERROR', code: 8, message: 'malformed request: duplicate-option' });
    await send([]);
    await send([0]);
    await send([0, 9, 1, 2, 3]);
    await send([0, 4, 0, 1]); // a stray ACK on the request port
    await send([0, 5, 0, 0, 0]); // a stray ERROR
    await send([0x47, 0x45, 0x54, 0x20]); // "GET "
    t.same(await p.drain(200), [], 'junk and strays get no answer');
    const got = await fetch(t, p, svc.port, 'small.txt');
    t.equal(got.data.toString(), 'line one\nline two\r\n', 'still serving');
  });

  t.test(`${engine}: R-21 a packet from a foreign TID gets ERROR 5 and the transfer goes on`, async (t) => {
    const svc = await service(t);
    const p = await peer(t);
    const intruder = await peer(t);
    await p.send(rrq('big.bin'), svc.port);
    const [first, d] = await expectPacket(t, p, 'DATA 1');
    t.match(first, { op: 'DATA', block: 1 });
    await intruder.send(ack(1), d.port);
    t.same((await expectPacket(t, intruder, 'ERROR 5'))[0], { op: 'ERROR', code: 5, message: 'unknown transfer ID' });
    await intruder.send(encodeTftp({ op: 'ERROR', code: 0, message: 'x' }), d.port);
    t.same(await intruder.drain(100), [], 'an ERROR from a foreign TID is not answered');
    const chunks = [Buffer.from((first as { data: Uint8Array }).data)];
    await p.send(ack(1), d.port);
    for (;;) {
      const [pkt] = await expectPacket(t, p, 'DATA');
      if (pkt.op !== 'DATA') throw new Error(pkt.op);
      chunks.push(Buffer.from(pkt.data));
      await p.send(ack(pkt.block), d.port);
      if (pkt.data.length < 512) break;
    }
    t.ok(Buffer.concat(chunks).equals(BIG), 'the transfer completed byte-exact');
    t.ok(await waitFor(() => svc.activeTransfers() === 0));
  });

  t.test(`${engine}: R-32 ACKs padded with zeros (some firmware pads to a minimum frame) still drive the transfer`, async (t) => {
    const svc = await service(t, { timeoutMs: 30_000 });
    const p = await peer(t);
    await p.send(rrq('big.bin'), svc.port);
    const chunks: Buffer[] = [];
    for (;;) {
      const [pkt, d] = await expectPacket(t, p, 'DATA');
      if (pkt.op !== 'DATA') throw new Error(pkt.op);
      chunks.push(Buffer.from(pkt.data));
      await p.send(Buffer.concat([ack(pkt.block), Buffer.alloc(42)]), d.port);
      if (pkt.data.length < 512) break;
    }
    t.ok(Buffer.concat(chunks).equals(BIG), 'byte-exact with padded ACKs');
    t.ok(await waitFor(() => svc.activeTransfers() === 0), 'the padded final ACK ended the transfer');
  });

  t.test(`${engine}: R-21 every ACK sent twice: each DATA still goes out once (no Sorcerer’s Apprentice)`, async (t) => {
    const svc = await service(t, { timeoutMs: 30_000 });
    const p = await peer(t);
    const got = await fetch(t, p, svc.port, 'big.bin', {}, true);
    t.ok(got.data.equals(BIG));
    t.equal(got.datas, Math.floor(BIG.length / 512) + 1, 'one DATA per block');
    t.same(await p.drain(300), [], 'no late duplicates');
  });

  t.test(`${engine}: R-21 a client ERROR ends the transfer; maxTransfers answers "busy"`, async (t) => {
    const svc = await service(t, { maxTransfers: 1, timeoutMs: 30_000 });
    const p = await peer(t);
    const other = await peer(t);
    await p.send(rrq('big.bin'), svc.port);
    const [, d] = await expectPacket(t, p, 'DATA 1');
    await other.send(rrq('big.bin'), svc.port);
    t.same((await expectPacket(t, other, 'busy'))[0], { op: 'ERROR', code: 0, message: 'server busy, try again later' });
    await p.send(encodeTftp({ op: 'ERROR', code: 0, message: 'user cancelled' }), d.port);
    t.ok(await waitFor(() => svc.activeTransfers() === 0));
    t.same(await p.drain(100), [], 'no answer to an ERROR');
  });

  t.test(`${engine}: R-21 netascii reads convert line ends (RFC 1350 §1)`, async (t) => {
    const svc = await service(t);
    const p = await peer(t);
    await p.send(rrq('small.txt', { tsize: '0' }, 'netascii'), svc.port);
    const [oack, d] = await expectPacket(t, p, 'OACK');
    t.same(oack, { op: 'OACK', options: new Map([['tsize', '22']]) }, 'tsize is the converted size');
    await p.send(ack(0), d.port);
    const [data] = await expectPacket(t, p, 'DATA');
    t.same(Buffer.from((data as { data: Uint8Array }).data).toString('latin1'), 'line one\r\nline two\r\0\r\n');
    await p.send(ack(1), d.port);
  });

  t.test(`${engine}: R-32 a netascii read of a large file is refused instead of scanning it`, async (t) => {
    const svc = await service(t, { source: new GeneratedSource({ 'huge.wim': 17 * 1024 * 1024, 'menu.cfg': 100 }) });
    const p = await peer(t);
    await p.send(rrq('huge.wim', {}, 'netascii'), svc.port);
    t.same((await expectPacket(t, p, 'refusal'))[0], { op: 'ERROR', code: 0, message: 'netascii is limited to 16 MiB files; use octet (binary) mode' });
    await p.send(rrq('menu.cfg', {}, 'netascii'), svc.port);
    t.match((await expectPacket(t, p, 'small netascii'))[0], { op: 'DATA', block: 1 });
  });

  t.test(`${engine}: R-21 a host name to bind is resolved (the literal fast path falls back to DNS)`, async (t) => {
    const svc = await service(t, { host: 'localhost' });
    const p = await peer(t);
    const got = await fetch(t, p, svc.port, 'small.txt');
    t.equal(got.data.toString(), 'line one\nline two\r\n');
  });
}
