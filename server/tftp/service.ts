/**
 * The TFTP service (SPEC R-21): a read-only RFC 1350 server with option negotiation (RFC 2347),
 * blksize (RFC 2348), tsize and timeout (RFC 2349) and windowsize (RFC 7440).
 *
 * One socket listens for requests; every accepted read gets its own socket on an ephemeral port,
 * which is the server's transfer ID (RFC 1350 §4), bound to the same host. Requests that cannot
 * be served are answered with an ERROR from the listening socket. Nothing a client sends can
 * crash the service (SPEC R-32): malformed packets are logged at debug and ignored or answered.
 */
import type { Logger } from 'pino';
import { WireError } from '../wire/bytes.js';
import { decodeTftp, encodeTftp, MAX_BLKSIZE, Opcode, TftpErrorCode, type RequestPacket } from '../wire/tftp/index.js';
import { PathRefusedError, type BootFileSource, type OpenFile } from './file-source.js';
import { bindSocket, createUdpSocket, systemClock, type Clock, type CreateSocket, type RemoteInfo, type SocketType, type UdpSocket } from './io.js';
import { netasciiFile } from './netascii.js';
import { negotiate } from './negotiate.js';
import { TransferSession } from './session.js';
import { ReadTransfer } from './transfer.js';

export interface TftpServiceOptions {
  /** UDP port for requests (69 in production; 0 picks a free one). */
  port: number;
  /** Address to bind the listening and the transfer sockets to. */
  host: string;
  source: BootFileSource;
  log: Logger;
  clock?: Clock;
  /** Largest blksize granted (default 65464, the RFC 2348 maximum). */
  maxBlksize?: number;
  /** Largest windowsize granted (default 64). */
  maxWindowsize?: number;
  /** Concurrent transfers before new requests get "server busy" (default 512). */
  maxTransfers?: number;
  /** First retransmission timeout when the client does not negotiate one (default 1000 ms). */
  timeoutMs?: number;
  /** Consecutive timeouts before a transfer is dropped (default 5). */
  maxRetries?: number;
  createSocket?: CreateSocket;
}

export interface TftpService {
  /** The bound request port. */
  readonly port: number;
  /** Transfers in progress, including requests still opening their file. */
  activeTransfers(): number;
  /** Stops listening and aborts every transfer; resolves once all sockets and files are closed. */
  close(): Promise<void>;
}

/** Largest UDP payload minus the DATA header: what one datagram can carry. */
const UDP_MAX_PAYLOAD: Record<SocketType, number> = { udp4: 65507, udp6: 65527 };
const MIN_READ_CHUNK = 128 * 1024;
const MAX_READ_CHUNK = 4 * 1024 * 1024;

interface Slot {
  session: TransferSession | null;
  ended: Promise<void>;
  end: () => void;
}

export async function startTftpService(options: TftpServiceOptions): Promise<TftpService> {
  const clock = options.clock ?? systemClock;
  const createSocket = options.createSocket ?? createUdpSocket;
  const type: SocketType = options.host.includes(':') ? 'udp6' : 'udp4';
  const maxTransfers = options.maxTransfers ?? 512;
  const timeoutMs = options.timeoutMs ?? 1000;
  const maxRetries = options.maxRetries ?? 5;
  const limits = {
    maxBlksize: Math.min(options.maxBlksize ?? MAX_BLKSIZE, MAX_BLKSIZE, UDP_MAX_PAYLOAD[type] - 4),
    maxWindowsize: options.maxWindowsize ?? 64,
    defaultTimeoutMs: timeoutMs,
  };
  const log = options.log.child({ svc: 'tftp' });
  const slots = new Map<string, Slot>();
  let closing = false;

  const listener = createSocket(type);
  await bindSocket(listener, options.port, options.host);
  const port = listener.address().port;
  listener.on('error', (err) => log.warn({ err: err.message }, 'listening socket error'));
  listener.on('message', (msg, rinfo) => {
    try {
      onRequest(msg, rinfo);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'request handling failed');
    }
  });
  log.info({ host: options.host, port }, 'tftp listening');

  function replyError(to: RemoteInfo, code: number, message: string): void {
    listener.send(encodeTftp({ op: 'ERROR', code, message }), to.port, to.address, (err) => {
      if (err) log.debug({ err: err.message }, 'error reply failed');
    });
  }

  function onRequest(msg: Buffer, rinfo: RemoteInfo): void {
    if (closing) return;
    let packet;
    try {
      packet = decodeTftp(msg);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      const client = `${rinfo.address}:${rinfo.port}`;
      log.debug({ client, code: err.code, err: err.message }, 'malformed packet');
      const opcode = msg.length >= 2 ? msg.readUInt16BE(0) : -1;
      if (opcode === Opcode.RRQ || opcode === Opcode.WRQ) {
        // RFC 2347 §2: problems with options are ERROR 8; everything else is an illegal operation.
        const optionProblem = /option/.test(err.code);
        replyError(rinfo, optionProblem ? TftpErrorCode.OPTION_REFUSED : TftpErrorCode.ILLEGAL_OPERATION, `malformed request: ${err.code}`);
      }
      return;
    }
    if (packet.op === 'WRQ') {
      log.info({ client: `${rinfo.address}:${rinfo.port}`, file: packet.filename }, 'write request refused');
      replyError(rinfo, TftpErrorCode.ACCESS_VIOLATION, 'read-only server');
    } else if (packet.op === 'RRQ') {
      void startTransfer(packet, rinfo);
    } else {
      log.debug({ client: `${rinfo.address}:${rinfo.port}`, op: packet.op }, 'stray packet on the request port');
    }
  }

  async function startTransfer(request: RequestPacket, rinfo: RemoteInfo): Promise<void> {
    const key = `${rinfo.address}|${rinfo.port}`;
    const tlog = log.child({ client: `${rinfo.address}:${rinfo.port}`, file: request.filename });
    if (slots.has(key)) {
      // A retransmitted RRQ: the transfer already running answers it through its own timer.
      tlog.debug('duplicate request ignored');
      return;
    }
    if (slots.size >= maxTransfers) {
      tlog.warn({ maxTransfers }, 'too many transfers');
      replyError(rinfo, TftpErrorCode.NOT_DEFINED, 'server busy, try again later');
      return;
    }
    let end = (): void => {};
    const slot: Slot = { session: null, ended: new Promise((r) => (end = r)), end: () => end() };
    slots.set(key, slot);
    const release = (): void => {
      slots.delete(key);
      slot.end();
    };
    let file: OpenFile | null = null;
    let socket: UdpSocket | null = null;
    try {
      file = await openFile(request, rinfo, tlog);
      if (file === null || closing) {
        await file?.close();
        return release();
      }
      socket = createSocket(type);
      await bindSocket(socket, 0, options.host);
      if (closing) throw new Error('server closing');
      const n = negotiate(request.options, file.size, limits);
      const transfer = new ReadTransfer({
        size: file.size,
        blksize: n.blksize,
        windowsize: n.windowsize,
        timeoutMs: n.timeoutMs,
        maxBackoffMs: Math.max(n.timeoutMs, 8 * timeoutMs),
        maxRetries,
        oack: n.oack,
      });
      const chunk = Math.min(Math.max(MIN_READ_CHUNK, n.blksize * n.windowsize), MAX_READ_CHUNK);
      slot.session = new TransferSession({
        socket,
        client: { address: rinfo.address, port: rinfo.port },
        file,
        transfer,
        clock,
        log: tlog,
        readChunkBytes: Math.ceil(chunk / n.blksize) * n.blksize,
        onEnd: release,
      });
      tlog.debug({ mode: request.mode, size: file.size, blksize: n.blksize, windowsize: n.windowsize, oack: Object.fromEntries(n.oack) }, 'transfer started');
      slot.session.start();
    } catch (err) {
      tlog.warn({ err: (err as Error).message }, 'could not start the transfer');
      replyError(rinfo, TftpErrorCode.NOT_DEFINED, 'server error');
      try {
        socket?.close();
      } catch {
        // never bound
      }
      await file?.close().catch(() => undefined);
      release();
    }
  }

  /** The file to send (converted for netascii), or null after answering the client with an ERROR. */
  async function openFile(request: RequestPacket, rinfo: RemoteInfo, tlog: Logger): Promise<OpenFile | null> {
    let file: OpenFile | null;
    try {
      file = await options.source.open(request.filename);
    } catch (err) {
      if (!(err instanceof PathRefusedError)) throw err;
      tlog.info({ reason: err.reason }, 'path refused');
      replyError(rinfo, TftpErrorCode.ACCESS_VIOLATION, 'access violation');
      return null;
    }
    if (file === null) {
      tlog.info('file not found');
      replyError(rinfo, TftpErrorCode.FILE_NOT_FOUND, 'file not found');
      return null;
    }
    if (request.mode === 'octet') return file;
    try {
      return await netasciiFile(file);
    } catch (err) {
      await file.close().catch(() => undefined);
      throw err;
    }
  }

  return {
    port,
    activeTransfers: () => slots.size,
    async close() {
      if (closing) return;
      closing = true;
      await new Promise<void>((r) => listener.close(() => r()));
      const waits = [...slots.values()].map((s) => {
        s.session?.abort('server closing');
        return s.ended;
      });
      await Promise.all(waits);
      log.info('tftp stopped');
    },
  };
}
