/**
 * One running read transfer: its own UDP socket (the server's TID, RFC 1350 §4), the pure
 * `ReadTransfer` state machine, the file and the retransmission timer. The loop is thin
 * (DESIGN.md lesson 4): receive → decode → `transfer.step` → perform the actions.
 *
 * The per-ACK path allocates little: ACKs are read without a full decode, packets come ready-made
 * from the `PacketCache`, sending is synchronous while the cache holds the blocks, and the timer is
 * re-armed lazily (a deadline moves; the underlying timer is replaced only when it would fire late).
 */
import type { Buffer } from 'node:buffer';
import type { Logger } from 'pino';
import { WireError } from '../wire/bytes.js';
import { ackBlockOf, decodeTftp, encodeTftp, Opcode, TftpErrorCode } from '../wire/tftp/index.js';
import type { OpenFile } from './file-source.js';
import { endpoint, type Clock, type RemoteInfo, type UdpSocket } from './io.js';
import { PacketCache } from './packet-cache.js';
import type { ReadTransfer, TransferAction } from './transfer.js';

export interface SessionOutcome {
  ok: boolean;
  reason: string;
}

export interface SessionDeps {
  socket: UdpSocket;
  client: { address: string; port: number };
  file: OpenFile;
  transfer: ReadTransfer;
  clock: Clock;
  log: Logger;
  /** Blocks per positioned read. */
  readChunkBlocks: number;
  /** Called once, after the socket and file are closed. */
  onEnd: (outcome: SessionOutcome) => void;
}

export class TransferSession {
  private timer: unknown = null;
  /** When the current timer fires, and when the transfer actually times out (≥ timerAt). */
  private timerAt = 0;
  private deadline = 0;
  private ended = false;
  private reading = false;
  private readonly queue: { next: number; last: number }[] = [];
  private readonly cache: PacketCache;
  private readonly startedAt: number;
  private readonly port: number;
  private readonly address: string;

  constructor(private readonly deps: SessionDeps) {
    const { size, blksize } = deps.transfer.config;
    this.cache = new PacketCache(deps.file, size, blksize, deps.readChunkBlocks);
    this.startedAt = deps.clock.now();
    this.port = deps.client.port;
    this.address = deps.client.address;
    deps.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    deps.socket.on('error', (err) => this.deps.log.debug({ err: err.message }, 'transfer socket error'));
  }

  start(): void {
    this.perform(this.deps.transfer.step({ kind: 'start' }));
  }

  /** Ends the transfer from outside (server shutdown), telling the client. */
  abort(reason: string): void {
    this.finish({ ok: false, reason }, { code: TftpErrorCode.NOT_DEFINED, message: 'server shutting down' });
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.ended) return;
    if (rinfo.port !== this.port || rinfo.address !== this.address) return this.foreign(msg, rinfo);
    const block = ackBlockOf(msg);
    if (block >= 0) return this.perform(this.deps.transfer.step({ kind: 'ack', block }));
    let packet;
    try {
      packet = decodeTftp(msg);
    } catch (err) {
      // a malformed packet never ends the transfer; the timer covers whatever it meant.
      this.deps.log.debug({ code: err instanceof WireError ? err.code : 'unexpected', err: (err as Error).message }, 'malformed packet ignored');
      return;
    }
    if (packet.op === 'ERROR') this.perform(this.deps.transfer.step({ kind: 'error', code: packet.code, message: packet.message }));
    else this.deps.log.debug({ op: packet.op }, 'unexpected packet during a read ignored');
  }

  /**
   * RFC 1350 §4: a packet from a foreign TID gets ERROR 5 and leaves the transfer alone.
   * An ERROR is never answered, so two confused peers cannot ping-pong forever.
   */
  private foreign(msg: Buffer, rinfo: RemoteInfo): void {
    this.deps.log.debug({ from: endpoint(rinfo) }, 'packet from an unknown transfer ID');
    if (msg.length >= 2 && msg.readUInt16BE(0) !== Opcode.ERROR) {
      this.send(encodeTftp({ op: 'ERROR', code: TftpErrorCode.UNKNOWN_TID, message: 'unknown transfer ID' }), rinfo);
    }
  }

  private perform(actions: readonly TransferAction[]): void {
    for (const a of actions) {
      if (this.ended) return;
      switch (a.kind) {
        case 'send-oack':
          this.send(encodeTftp({ op: 'OACK', options: new Map(a.options) }), this.deps.client);
          break;
        case 'send-blocks':
          this.queue.push({ next: a.first, last: a.last });
          this.pump();
          break;
        case 'arm-timer':
          this.arm(a.ms);
          break;
        case 'done':
          this.finish({ ok: true, reason: 'complete' });
          break;
        case 'fail':
          this.finish({ ok: false, reason: a.reason }, a.error);
          break;
      }
    }
  }

  /** Sends queued blocks in order; waits for a read only when the cache lacks the next block. */
  private pump(): void {
    if (this.reading) return;
    const { socket } = this.deps;
    for (let range = this.queue[0]; range && !this.ended; range = this.queue[0]) {
      while (range.next <= range.last) {
        const packet = this.cache.get(range.next);
        if (packet === null) return this.refill(range.next);
        socket.send(packet, this.port, this.address);
        range.next++;
      }
      this.queue.shift();
    }
  }

  private refill(block: number): void {
    this.reading = true;
    this.cache.fill(block).then(
      () => {
        this.reading = false;
        if (!this.ended) this.pump();
      },
      (err: unknown) => {
        this.reading = false;
        this.deps.log.warn({ err: (err as Error).message }, 'reading the file failed');
        this.finish({ ok: false, reason: 'read error' }, { code: TftpErrorCode.NOT_DEFINED, message: 'read error' });
      },
    );
  }

  private send(packet: Buffer, to: { address: string; port: number }, then?: () => void): void {
    this.deps.socket.send(packet, to.port, to.address, (err) => {
      if (err) this.deps.log.debug({ err: err.message }, 'send failed');
      then?.();
    });
  }

  /** Moves the timeout to `ms` from now, touching the underlying timer only if it would fire late. */
  private arm(ms: number): void {
    const { clock } = this.deps;
    this.deadline = clock.now() + ms;
    if (this.timer !== null && this.timerAt <= this.deadline) return;
    if (this.timer !== null) clock.clearTimeout(this.timer);
    this.timerAt = this.deadline;
    this.timer = clock.setTimeout(() => this.onTimer(), ms);
  }

  private onTimer(): void {
    this.timer = null;
    const { clock } = this.deps;
    const left = this.deadline - clock.now();
    if (left > 0) {
      // The deadline moved while this timer was pending (ACKs arrived): wait for the rest.
      this.timerAt = this.deadline;
      this.timer = clock.setTimeout(() => this.onTimer(), left);
      return;
    }
    this.perform(this.deps.transfer.step({ kind: 'timeout' }));
  }

  /** Stops timers, optionally tells the client why, closes the socket and the file. */
  private finish(outcome: SessionOutcome, error?: { code: number; message: string }): void {
    if (this.ended) return;
    this.ended = true;
    const { clock, socket, file, log, transfer } = this.deps;
    if (this.timer !== null) clock.clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
    const close = (): void => {
      try {
        socket.close();
      } catch {
        // already closed
      }
      file.close().then(
        () => this.deps.onEnd(outcome),
        () => this.deps.onEnd(outcome),
      );
    };
    const fields = { ...transfer.stats, bytes: transfer.config.size, ms: clock.now() - this.startedAt, reason: outcome.reason };
    if (outcome.ok) log.info(fields, 'transfer complete');
    else log.info(fields, 'transfer failed');
    if (error) this.send(encodeTftp({ op: 'ERROR', code: error.code, message: error.message }), this.deps.client, close);
    else close();
  }
}
