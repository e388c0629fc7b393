/**
 * The native TFTP data path (`native/tftp_transfer.c`, built by `npm ci` through node-gyp) when
 * it was built, else null with the reason: the service then runs every transfer on the
 * JavaScript path, which speaks the same protocol (see README "TFTP engine").
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeTransferOptions {
  readonly bindHost: string;
  readonly peerHost: string;
  readonly peerPort: number;
  /** An open, readable file descriptor; the caller closes it after `onEnd`. */
  readonly fd: number;
  readonly size: number;
  readonly blksize: number;
  readonly windowsize: number;
  readonly timeoutMs: number;
  readonly maxBackoffMs: number;
  readonly maxRetries: number;
  /** Blocks per positioned read (≥ windowsize). */
  readonly chunkBlocks: number;
  /** The encoded OACK to send first, or null to start with DATA 1. */
  readonly oack: Buffer | null;
}

export interface NativeTransferStats {
  readonly reason: string;
  readonly blocks_sent: number;
  readonly blocks_retransmitted: number;
  readonly timeouts: number;
  readonly duplicate_acks: number;
  readonly foreign: number;
  readonly malformed: number;
  readonly send_errors: number;
}

/** A running transfer; `port` is its transfer ID (RFC 1350 §4). */
export interface NativeTransferHandle {
  readonly port: number;
}

export interface NativeTftp {
  /** Binds the transfer socket and sends the OACK or DATA 1; throws if the socket cannot be made. */
  start(options: NativeTransferOptions, onEnd: (ok: boolean, stats: NativeTransferStats) => void): NativeTransferHandle;
  /** Ends a running transfer, telling the client the server is shutting down; no-op once ended. */
  abort(handle: NativeTransferHandle, reason: string): void;
}

const ADDON = path.join('native', 'build', 'Release', 'osdeploy_tftp.node');

let cached: { readonly native: NativeTftp | null; readonly why: string } | undefined;

/** Walks up from this module (server/tftp or dist/server/tftp) to the package root's addon. */
function addonPath(): string | null {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, ADDON);
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return null;
}

export function loadNativeTftp(): { readonly native: NativeTftp | null; readonly why: string } {
  if (cached) return cached;
  if (process.platform !== 'linux') {
    cached = { native: null, why: `the native data path is Linux-only (this is ${process.platform})` };
    return cached;
  }
  const file = addonPath();
  if (file === null) {
    cached = { native: null, why: `${ADDON} was not built (run \`npm run build:native\`; it needs python3, make and a C compiler)` };
    return cached;
  }
  try {
    cached = { native: createRequire(import.meta.url)(file) as NativeTftp, why: file };
  } catch (err) {
    cached = { native: null, why: `${file} did not load: ${(err as Error).message}` };
  }
  return cached;
}
