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
import { bindSocket, createUdpSocket, endpoint, systemClock, type Clock, type CreateSocket, type RemoteInfo, type SocketType, type UdpSocket } from './io.js';
import { netasciiFile } from './netascii.js';
import { negotiate, type NegotiationLimits } from './negotiate.js';
import { loadNativeTftp, type NativeTftp } from './native.js';
import { NativeTransferSession } from './native-session.js';
import { TransferSession } from './session.js';
import { ReadTransfer, type TransferConfig } from './transfer.js';

export interface TftpServiceOptions {
  /** UDP port for requests (69 in production; 0 picks a free one). */
  port: number;
  /** Address to bind the listening and the transfer sockets to ('::' or an IPv6 address → udp6). */
  host: string;
  source: BootFileSource;
  log: Logger;
  clock?: Clock;
  /** Largest blksize granted (default 65464, the RFC 2348 maximum). */
  maxBlksize?: number;
  /** Largest windowsize granted (default 64, at most 32767). */
  maxWindowsize?: number;
  /** Largest window in bytes, windowsize × blksize (default 64 KiB; see `NegotiationLimits`). */
  maxWindowBytes?: number;
  /** Concurrent transfers before new requests get "server busy" (default 512). */
  maxTransfers?: number;
  /** First retransmission timeout when the client does not negotiate one (default 1000 ms). */
  timeoutMs?: number;
  /** Consecutive timeouts before a transfer is dropped (default 5). */
  maxRetries?: number;
  createSocket?: CreateSocket;
  /**
   * Which data path runs the transfers: `native` (native/tftp_transfer.c, refused at start when
   * it was not built), `js` (TransferSession over dgram), or `auto` (default): native for files
   * with a descriptor when it was built and no test seam (`clock`, `createSocket`) is injected.
   */
  engine?: TftpEngine;
}

export type TftpEngine = 'auto' | 'native' | 'js';

export interface TftpService {
  /** The bound request port. */
  readonly port: number;
  /** Transfers in progress, including requests still opening their file. */
  activeTransfers(): number;
  /** The data path transfers of files with a descriptor take. */
  readonly engine: 'native' | 'js';
  /** Stops listening and aborts every transfer; resolves once all sockets and files are closed. */
  close(): Promise<void>;
}

/** Largest UDP payload on each family: what one DATA datagram can carry, header included. */
const UDP_MAX_PAYLOAD: Record<SocketType, number> = { udp4: 65507, udp6: 65527 };
const MIN_READ_CHUNK = 128 * 1024;
const MAX_WINDOWSIZE = 32767;
/**
 * Netascii is for text (configs, menus); converting it costs a pass over the file in JS, so a
 * netascii read of a large file (a WIM, a kernel) is refused rather than letting any client make
 * the service scan gigabytes.
 */
const MAX_NETASCII_BYTES = 16 * 1024 * 1024;
const MAX_READ_CHUNK = 4 * 1024 * 1024;

interface Slot {
  session: { abort(reason: string): void } | null;
  ended: Promise<void>;
  release: () => void;
}

export async function startTftpService(options: TftpServiceOptions): Promise<TftpService> {
  const type: SocketType = options.host.includes(':') ? 'udp6' : 'udp4';
  const listener = (options.createSocket ?? createUdpSocket)(type);
  await bindSocket(listener, options.port, options.host);
  let native: NativeTftp | null = null;
  const engine = options.engine ?? 'auto';
  if (engine !== 'js') {
    const loaded = loadNativeTftp();
    if (engine === 'native' && loaded.native === null) {
      await new Promise<void>((r) => listener.close(() => r()));
      throw new Error(`TFTP engine "native" is not available: ${loaded.why}`);
    }
    if (engine === 'native' || (options.clock === undefined && options.createSocket === undefined)) native = loaded.native;
    if (native === null && engine === 'auto') options.log.debug({ why: loaded.why }, 'tftp: native data path not used');
  }
  const server = new TftpServer(options, type, listener, native);
  return { port: server.port, engine: native ? 'native' : 'js', activeTransfers: () => server.active(), close: () => server.close() };
}

class TftpServer {
  readonly port: number;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly limits: NegotiationLimits;
  private readonly slots = new Map<string, Slot>();
  private closing = false;

  constructor(
    private readonly options: TftpServiceOptions,
    private readonly type: SocketType,
    private readonly listener: UdpSocket,
    private readonly native: NativeTftp | null,
  ) {
    this.clock = options.clock ?? systemClock;
    this.limits = {
      maxBlksize: Math.min(options.maxBlksize ?? MAX_BLKSIZE, MAX_BLKSIZE, UDP_MAX_PAYLOAD[type] - 4),
      // Above 32767 blocks in flight a late ACK could pass for a new one (16-bit block numbers).
      maxWindowsize: Math.min(options.maxWindowsize ?? 64, MAX_WINDOWSIZE),
      maxWindowBytes: options.maxWindowBytes ?? 64 * 1024,
      defaultTimeoutMs: options.timeoutMs ?? 1000,
    };
    // A caller may already have handed us a `{svc:'tftp'}` child; binding it twice would repeat the key.
    this.log = options.log.bindings().svc === 'tftp' ? options.log : options.log.child({ svc: 'tftp' });
    this.port = listener.address().port;
    listener.on('error', (err) => this.log.warn({ err: err.message }, 'listening socket error'));
    listener.on('message', (msg, rinfo) => {
      try {
        this.onRequest(msg, rinfo);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'request handling failed');
      }
    });
    this.log.info({ host: options.host, port: this.port, engine: native ? 'native' : 'js' }, 'tftp listening');
  }

  active(): number {
    return this.slots.size;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await new Promise<void>((r) => this.listener.close(() => r()));
    const waits = [...this.slots.values()].map((s) => {
      s.session?.abort('server closing');
      return s.ended;
    });
    await Promise.all(waits);
    this.log.info('tftp stopped');
  }

  private replyError(to: RemoteInfo, code: number, message: string): void {
    this.listener.send(encodeTftp({ op: 'ERROR', code, message }), to.port, to.address, (err) => {
      if (err) this.log.debug({ err: err.message }, 'error reply failed');
    });
  }

  private onRequest(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closing || rinfo.port === 0) return; // port 0 cannot be answered (a spoofed or broken source)
    let packet;
    try {
      packet = decodeTftp(msg);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      this.log.debug({ client: endpoint(rinfo), code: err.code, err: err.message }, 'malformed packet');
      const opcode = msg.length >= 2 ? msg.readUInt16BE(0) : -1;
      if (opcode === Opcode.RRQ || opcode === Opcode.WRQ) {
        // RFC 2347 §2: problems with options are ERROR 8; everything else is an illegal operation.
        const code = err.code.includes('option') ? TftpErrorCode.OPTION_REFUSED : TftpErrorCode.ILLEGAL_OPERATION;
        this.replyError(rinfo, code, `malformed request: ${err.code}`);
      }
      return;
    }
    if (packet.op === 'WRQ') {
      this.log.info({ client: endpoint(rinfo), file: packet.filename }, 'write request refused');
      this.replyError(rinfo, TftpErrorCode.ACCESS_VIOLATION, 'read-only server');
    } else if (packet.op === 'RRQ') {
      void this.startTransfer(packet, rinfo);
    } else {
      this.log.debug({ client: endpoint(rinfo), op: packet.op }, 'stray packet on the request port');
    }
  }

  /** Reserves a slot for the client, or answers why not. */
  private reserve(key: string, rinfo: RemoteInfo, tlog: Logger): Slot | null {
    if (this.slots.has(key)) {
      // A retransmitted RRQ: the transfer already running answers it through its own timer.
      tlog.debug('duplicate request ignored');
      return null;
    }
    const maxTransfers = this.options.maxTransfers ?? 512;
    if (this.slots.size >= maxTransfers) {
      tlog.warn({ maxTransfers }, 'too many transfers');
      this.replyError(rinfo, TftpErrorCode.NOT_DEFINED, 'server busy, try again later');
      return null;
    }
    let end = (): void => {};
    const ended = new Promise<void>((r) => (end = r));
    const slot: Slot = {
      session: null,
      ended,
      release: () => {
        this.slots.delete(key);
        end();
      },
    };
    this.slots.set(key, slot);
    return slot;
  }

  private async startTransfer(request: RequestPacket, rinfo: RemoteInfo): Promise<void> {
    const tlog = this.log.child({ client: endpoint(rinfo), file: request.filename });
    const slot = this.reserve(`${rinfo.address}|${rinfo.port}`, rinfo, tlog);
    if (!slot) return;
    let file: OpenFile | null = null;
    let socket: UdpSocket | null = null;
    try {
      file = await this.openFile(request, rinfo, tlog);
      if (file === null || this.closing) {
        await file?.close();
        return slot.release();
      }
      const { config, chunkBlocks } = this.transferConfig(request, file, tlog);
      const fd = file.fd;
      if (this.native && fd !== undefined) {
        const session = new NativeTransferSession({
          native: this.native,
          bindHost: this.listener.address().address,
          client: { address: rinfo.address, port: rinfo.port },
          file,
          fd,
          config,
          chunkBlocks,
          log: tlog,
          now: () => this.clock.now(),
          onEnd: slot.release,
        });
        try {
          session.start();
          slot.session = session;
          return;
        } catch (err) {
          // Nothing was sent: an address the addon cannot parse or a socket it cannot make.
          tlog.debug({ err: (err as Error).message }, 'native data path refused the transfer; it runs on the JavaScript path');
        }
      }
      socket = (this.options.createSocket ?? createUdpSocket)(this.type);
      await bindSocket(socket, 0, this.options.host);
      if (this.closing) throw new Error('server closing');
      const session = new TransferSession({
        socket,
        client: { address: rinfo.address, port: rinfo.port },
        file,
        transfer: new ReadTransfer(config),
        clock: this.clock,
        log: tlog,
        readChunkBlocks: chunkBlocks,
        onEnd: slot.release,
      });
      slot.session = session;
      session.start();
    } catch (err) {
      tlog.warn({ err: (err as Error).message }, 'could not start the transfer');
      this.replyError(rinfo, TftpErrorCode.NOT_DEFINED, 'server error');
      try {
        socket?.close();
      } catch {
        // never bound
      }
      await file?.close().catch(() => undefined);
      slot.release();
    }
  }

  /** The negotiated transfer (RFC 2347) and how many blocks each positioned read covers. */
  private transferConfig(request: RequestPacket, file: OpenFile, tlog: Logger): { config: TransferConfig; chunkBlocks: number } {
    const n = negotiate(request.options, file.size, this.limits);
    const baseTimeout = this.limits.defaultTimeoutMs;
    const config: TransferConfig = {
      size: file.size,
      blksize: n.blksize,
      windowsize: n.windowsize,
      timeoutMs: n.timeoutMs,
      maxBackoffMs: Math.max(n.timeoutMs, 8 * baseTimeout),
      maxRetries: this.options.maxRetries ?? 5,
      oack: n.oack,
    };
    const chunk = Math.min(Math.max(MIN_READ_CHUNK, n.blksize * n.windowsize), MAX_READ_CHUNK);
    tlog.debug({ mode: request.mode, size: file.size, blksize: n.blksize, windowsize: n.windowsize, oack: Object.fromEntries(n.oack) }, 'transfer started');
    return { config, chunkBlocks: Math.ceil(chunk / n.blksize) };
  }

  /** The file to send (converted for netascii), or null after answering the client with an ERROR. */
  private async openFile(request: RequestPacket, rinfo: RemoteInfo, tlog: Logger): Promise<OpenFile | null> {
    let file: OpenFile | null;
    try {
      file = await this.options.source.open(request.filename);
    } catch (err) {
      if (!(err instanceof PathRefusedError)) throw err;
      tlog.info({ reason: err.reason }, 'path refused');
      this.replyError(rinfo, TftpErrorCode.ACCESS_VIOLATION, 'access violation');
      return null;
    }
    if (file === null) {
      tlog.info('file not found');
      this.replyError(rinfo, TftpErrorCode.FILE_NOT_FOUND, 'file not found');
      return null;
    }
    if (request.mode === 'octet') return file;
    if (file.size > MAX_NETASCII_BYTES) {
      await file.close();
      tlog.info({ size: file.size }, 'netascii refused for a large file');
      this.replyError(rinfo, TftpErrorCode.NOT_DEFINED, 'netascii is limited to 16 MiB files; use octet (binary) mode');
      return null;
    }
    try {
      return await netasciiFile(file);
    } catch (err) {
      await file.close().catch(() => undefined);
      throw err;
    }
  }
}
