/**
 * One running read transfer: its own UDP socket (the server's TID, RFC 1350 §4), the pure
 * `ReadTransfer` state machine, the file and the retransmission timer. The loop is thin
 * (DESIGN.md lesson 4): receive → decode → `transfer.step` → perform the actions.
 */
import { Buffer } from 'node:buffer';
import type { Logger } from 'pino';
import { WireError } from '../wire/bytes.js';
import { decodeTftp, encodeTftp, TftpErrorCode, writeDataHeader, DATA_HEADER_BYTES, Opcode } from '../wire/tftp/index.js';
import type { OpenFile } from './file-source.js';
import type { Clock, RemoteInfo, UdpSocket } from './io.js';
import { ReadAhead } from './read-ahead.js';
import { ReadTransfer, type TransferAction } from './transfer.js';

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
  /** Bytes per positioned read. */
  readChunkBytes: number;
  /** Called once, after the socket and file are closed. */
  onEnd: (outcome: SessionOutcome) => void;
}

export class TransferSession {
  private timer: unknown = null;
  private ended = false;
  private readonly queue: { next: number; last: number }[] = [];
  private pumping = false;
  private readonly cache: ReadAhead;
  private readonly startedAt: number;

  constructor(private readonly deps: SessionDeps) {
    this.cache = new ReadAhead(deps.file, deps.readChunkBytes);
    this.startedAt = deps.clock.now();
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
    const { client, log } = this.deps;
    if (rinfo.address !== client.address || rinfo.port !== client.port) {
      // RFC 1350 §4: a packet from a foreign TID gets ERROR 5 and leaves the transfer alone.
      // An ERROR is never answered, so two confused peers cannot ping-pong forever.
      log.debug({ from: `${rinfo.address}:${rinfo.port}` }, 'packet from an unknown transfer ID');
      if (msg.length >= 2 && msg.readUInt16BE(0) !== Opcode.ERROR) {
        this.send(encodeTftp({ op: 'ERROR', code: TftpErrorCode.UNKNOWN_TID, message: 'unknown transfer ID' }), rinfo);
      }
      return;
    }
    let packet;
    try {
      packet = decodeTftp(msg);
    } catch (err) {
      // a malformed packet never ends the transfer; the timer covers whatever it meant.
      log.debug({ code: err instanceof WireError ? err.code : 'unexpected', err: (err as Error).message }, 'malformed packet ignored');
      return;
    }
    if (packet.op === 'ACK') this.perform(this.deps.transfer.step({ kind: 'ack', block: packet.block }));
    else if (packet.op === 'ERROR') this.perform(this.deps.transfer.step({ kind: 'error', code: packet.code, message: packet.message }));
    else log.debug({ op: packet.op }, 'unexpected packet during a read ignored');
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
          if (!this.pumping) void this.pump();
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

  /** Sends queued blocks in order; synchronous while the read-ahead chunk holds them. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      const { transfer } = this.deps;
      for (let range = this.queue[0]; range && !this.ended; range = this.queue[0]) {
        while (range.next <= range.last) {
          const { offset, length } = transfer.blockRange(range.next);
          let data = this.cache.get(offset, length);
          if (data === null) {
            await this.cache.fill(offset, length);
            if (this.ended) return;
            data = this.cache.get(offset, length) as Buffer;
          }
          this.sendData(range.next, data);
          range.next++;
        }
        this.queue.shift();
      }
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'reading the file failed');
      this.finish({ ok: false, reason: 'read error' }, { code: TftpErrorCode.NOT_DEFINED, message: 'read error' });
    } finally {
      this.pumping = false;
    }
  }

  private sendData(block: number, data: Buffer): void {
    const header = Buffer.allocUnsafe(DATA_HEADER_BYTES);
    writeDataHeader(header, ReadTransfer.wireBlock(block));
    this.deps.socket.send([header, data], this.deps.client.port, this.deps.client.address);
  }

  private send(packet: Buffer, to: { address: string; port: number }, then?: () => void): void {
    this.deps.socket.send(packet, to.port, to.address, (err) => {
      if (err) this.deps.log.debug({ err: err.message }, 'send failed');
      then?.();
    });
  }

  private arm(ms: number): void {
    const { clock } = this.deps;
    if (this.timer !== null) clock.clearTimeout(this.timer);
    this.timer = clock.setTimeout(() => {
      this.timer = null;
      this.perform(this.deps.transfer.step({ kind: 'timeout' }));
    }, ms);
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
