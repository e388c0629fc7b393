/**
 * The pure state machine of one TFTP read transfer (server side): events in, actions out.
 * No sockets, no file reads and no clock: the service performs the actions (send, arm the timer)
 * and feeds back what happened (ACK, ERROR, timeout).
 *
 * Blocks are numbered absolutely from 1 (the OACK is block 0, RFC 2347 §3); the wire carries the
 * low 16 bits, so block 65536 goes out as 0 (the rollover tftp-hpa, curl and atftp expect).
 * An ACK is mapped back to the one absolute block in flight with those low bits.
 *
 * Retransmission happens only on timeout, never on a duplicate ACK: answering duplicates is the
 * Sorcerer's Apprentice bug (RFC 1123 §4.2.3.1) that doubles every packet after one delay.
 * With a window (RFC 7440 §4), an ACK for a block inside the window means the client saw a gap:
 * the next window starts right after the ACKed block.
 */
import { TftpErrorCode } from '../wire/tftp/index.js';

export interface TransferConfig {
  /** Bytes to send (after any netascii conversion). */
  size: number;
  blksize: number;
  windowsize: number;
  /** First retransmission timeout; doubles on every consecutive timeout. */
  timeoutMs: number;
  /** Upper bound of the doubled timeout. */
  maxBackoffMs: number;
  /** Consecutive timeouts tolerated before the transfer is abandoned. */
  maxRetries: number;
  /** Options to acknowledge (RFC 2347); empty or absent → no OACK, DATA 1 goes first. */
  oack?: ReadonlyMap<string, string>;
}

export type TransferEvent =
  | { kind: 'start' }
  | { kind: 'ack'; block: number }
  | { kind: 'error'; code: number; message: string }
  | { kind: 'timeout' };

export type TransferAction =
  | { kind: 'send-oack'; options: ReadonlyMap<string, string> }
  /** Send blocks `first..last` (absolute numbers, inclusive) in order. */
  | { kind: 'send-blocks'; first: number; last: number; retransmit: boolean }
  /** (Re)arm the one retransmission timer; an earlier one is cancelled. */
  | { kind: 'arm-timer'; ms: number }
  /** The last block was acknowledged. */
  | { kind: 'done' }
  /** Abandon the transfer, telling the client `error` if present. */
  | { kind: 'fail'; reason: string; error?: { code: number; message: string } };

export type TransferPhase = 'idle' | 'oack' | 'data' | 'done' | 'failed';

export interface TransferStats {
  blocksSent: number;
  blocksRetransmitted: number;
  timeouts: number;
  duplicateAcks: number;
}

export class ReadTransfer {
  private state: TransferPhase = 'idle';
  /** Highest block the client has acknowledged (0 = the OACK, or nothing yet without one). */
  private acked = 0;
  /** Highest block sent so far. */
  private sent = 0;
  private retries = 0;
  /** Number of the final (short or empty) block. */
  readonly lastBlock: number;
  readonly stats: TransferStats = { blocksSent: 0, blocksRetransmitted: 0, timeouts: 0, duplicateAcks: 0 };

  constructor(readonly config: TransferConfig) {
    if (!(config.blksize >= 1) || !(config.windowsize >= 1) || !(config.size >= 0)) throw new RangeError('bad transfer config');
    // RFC 1350 §6: the transfer ends with a block shorter than blksize, possibly empty.
    this.lastBlock = Math.floor(config.size / config.blksize) + 1;
  }

  get phase(): TransferPhase {
    return this.state;
  }

  /** Highest acknowledged block (absolute). */
  get lastAcked(): number {
    return this.acked;
  }

  /** Wire block number of absolute block `n` (RFC 1350 block numbers are 16 bits). */
  static wireBlock(n: number): number {
    return n & 0xffff;
  }

  /** Byte offset and length of absolute block `n` (1-based). */
  blockRange(n: number): { offset: number; length: number } {
    const offset = (n - 1) * this.config.blksize;
    return { offset, length: Math.max(0, Math.min(this.config.blksize, this.config.size - offset)) };
  }

  step(event: TransferEvent): TransferAction[] {
    if (this.state === 'done' || this.state === 'failed') return [];
    switch (event.kind) {
      case 'start':
        return this.start();
      case 'ack':
        return this.onAck(event.block);
      case 'error':
        // RFC 1350 §7: an ERROR ends the transfer and is never acknowledged or answered.
        this.state = 'failed';
        return [{ kind: 'fail', reason: `client error ${event.code}: ${event.message}` }];
      case 'timeout':
        return this.onTimeout();
    }
  }

  private start(): TransferAction[] {
    if (this.state !== 'idle') return [];
    const oack = this.config.oack;
    if (oack && oack.size > 0) {
      // RFC 2347 §3: the OACK comes first and is acknowledged with ACK 0.
      this.state = 'oack';
      return [{ kind: 'send-oack', options: oack }, this.timer()];
    }
    this.state = 'data';
    return this.sendWindow(1, false);
  }

  private onAck(wire: number): TransferAction[] {
    if (this.state === 'oack') {
      if (wire !== 0) return [];
      this.state = 'data';
      this.retries = 0;
      return this.sendWindow(1, false);
    }
    if (this.state !== 'data') return [];
    // The only candidates are blocks in flight: acked+1 .. sent (a window never exceeds 65535).
    const delta = (wire - (this.acked & 0xffff)) & 0xffff;
    if (delta === 0) {
      // Duplicate: no retransmission here (Sorcerer's Apprentice); the timer covers real loss.
      this.stats.duplicateAcks++;
      return [];
    }
    const block = this.acked + delta;
    if (block > this.sent) return []; // never sent: a stale ACK from before a wrap, or junk
    this.acked = block;
    this.retries = 0;
    if (block === this.lastBlock) {
      this.state = 'done';
      return [{ kind: 'done' }];
    }
    // Mid-window ACK (RFC 7440 §4): blocks after it are resent as part of the new window.
    return this.sendWindow(block + 1, block < this.sent);
  }

  private onTimeout(): TransferAction[] {
    if (this.state === 'idle') return [];
    this.stats.timeouts++;
    this.retries++;
    if (this.retries > this.config.maxRetries) {
      this.state = 'failed';
      return [
        {
          kind: 'fail',
          reason: `no answer after ${this.config.maxRetries} retransmissions`,
          error: { code: TftpErrorCode.NOT_DEFINED, message: 'transfer timed out' },
        },
      ];
    }
    if (this.state === 'oack') return [{ kind: 'send-oack', options: this.config.oack ?? new Map() }, this.timer()];
    return this.sendWindow(this.acked + 1, true);
  }

  /** Sends `first` and the blocks after it, up to one window or the last block. */
  private sendWindow(first: number, retransmit: boolean): TransferAction[] {
    const last = Math.min(first + this.config.windowsize - 1, this.lastBlock);
    const count = last - first + 1;
    const fresh = Math.max(0, last - Math.max(this.sent, first - 1));
    this.stats.blocksSent += count;
    this.stats.blocksRetransmitted += count - fresh;
    if (last > this.sent) this.sent = last;
    return [{ kind: 'send-blocks', first, last, retransmit: retransmit || fresh < count }, this.timer()];
  }

  /** Exponential backoff, capped (RFC 1123 §4.2.3.2 asks for an adaptive timeout). */
  private timer(): TransferAction {
    const ms = Math.min(this.config.timeoutMs * 2 ** this.retries, Math.max(this.config.timeoutMs, this.config.maxBackoffMs));
    return { kind: 'arm-timer', ms };
  }
}
