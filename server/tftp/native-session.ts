/**
 * One read transfer on the native data path: the same job as `TransferSession`, with the
 * per-block loop (ACK in, window out, retransmission timer) in `native/tftp_transfer.c`. The
 * negotiation, the OACK's encoding, the file (opened through the rooted file source) and the
 * logging stay here.
 */
import type { Logger } from 'pino';
import { encodeTftp } from '../wire/tftp/index.js';
import type { OpenFile } from './file-source.js';
import type { NativeTftp, NativeTransferHandle, NativeTransferStats } from './native.js';
import type { SessionOutcome } from './session.js';
import type { TransferConfig } from './transfer.js';

export interface NativeSessionDeps {
  native: NativeTftp;
  bindHost: string;
  client: { address: string; port: number };
  file: OpenFile;
  /** The file's descriptor (`OpenFile.fd`), read by the native side. */
  fd: number;
  config: TransferConfig;
  chunkBlocks: number;
  log: Logger;
  now: () => number;
  onEnd: (outcome: SessionOutcome) => void;
}

export class NativeTransferSession {
  private handle: NativeTransferHandle | null = null;
  private readonly startedAt: number;

  constructor(private readonly deps: NativeSessionDeps) {
    this.startedAt = deps.now();
  }

  /** Starts the transfer; throws (nothing sent, nothing to clean up but the file) if the socket cannot be made. */
  start(): void {
    const { native, config, fd, client } = this.deps;
    const oack = config.oack && config.oack.size > 0 ? encodeTftp({ op: 'OACK', options: new Map(config.oack) }) : null;
    this.handle = native.start(
      {
        bindHost: this.deps.bindHost,
        peerHost: client.address,
        peerPort: client.port,
        fd,
        size: config.size,
        blksize: config.blksize,
        windowsize: config.windowsize,
        timeoutMs: config.timeoutMs,
        maxBackoffMs: config.maxBackoffMs,
        maxRetries: config.maxRetries,
        chunkBlocks: Math.max(this.deps.chunkBlocks, config.windowsize),
        oack,
      },
      (ok, stats) => this.ended(ok, stats),
    );
  }

  abort(reason: string): void {
    if (this.handle) this.deps.native.abort(this.handle, reason);
  }

  private ended(ok: boolean, s: NativeTransferStats): void {
    const { log, file, config } = this.deps;
    if (s.foreign > 0 || s.malformed > 0 || s.send_errors > 0) log.debug({ foreign: s.foreign, malformed: s.malformed, sendErrors: s.send_errors }, 'packets ignored or answered with ERROR 5 during the transfer');
    const fields = {
      blocksSent: s.blocks_sent,
      blocksRetransmitted: s.blocks_retransmitted,
      timeouts: s.timeouts,
      duplicateAcks: s.duplicate_acks,
      bytes: config.size,
      ms: this.deps.now() - this.startedAt,
      reason: s.reason,
      engine: 'native',
    };
    log.info(fields, ok ? 'transfer complete' : 'transfer failed');
    const outcome = { ok, reason: s.reason };
    file.close().then(
      () => this.deps.onEnd(outcome),
      () => this.deps.onEnd(outcome),
    );
  }
}
