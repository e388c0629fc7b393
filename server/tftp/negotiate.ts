/**
 * RFC 2347 option negotiation for a read request: which of the client's options we accept and
 * with which values. The result's `oack` holds exactly the accepted options in the client's order;
 * when it is empty no OACK is sent and the transfer starts with DATA 1 (RFC 2347 §3).
 * Unknown options and malformed values are ignored, as RFC 2347 §2 allows, rather than refused:
 * boot ROMs send odd option sets and a plain transfer is better than none.
 */
import { DEFAULT_BLKSIZE, MAX_BLKSIZE } from '../wire/tftp/index.js';

export interface NegotiationLimits {
  /** Largest block size we grant (already clamped to what the socket can carry). */
  maxBlksize: number;
  /** Largest window we grant (RFC 7440 allows up to 65535). */
  maxWindowsize: number;
  /**
   * Largest window in payload bytes (windowsize × blksize). A window arrives as one burst and must
   * fit the client's receive buffer (212,992 bytes by default on Linux, counting per-datagram
   * overhead; far less in boot firmware), or its tail is dropped every time and each window waits
   * out a retransmission timeout.
   */
  maxWindowBytes: number;
  /** Retransmission timeout when the client does not ask for one. */
  defaultTimeoutMs: number;
}

export interface Negotiated {
  blksize: number;
  windowsize: number;
  timeoutMs: number;
  /** Accepted options to send in the OACK; empty → no OACK. */
  oack: Map<string, string>;
}

/** RFC 2348 §2: valid block sizes are 8..65464 octets. */
export const MIN_BLKSIZE = 8;
/** RFC 7440 §2: windowsize is 1..65535 blocks. */
export const MAX_WINDOWSIZE = 65535;

/** A plain decimal number (RFC 2347 values are ASCII digits), or null. */
function decimal(value: string): number | null {
  if (!/^[0-9]{1,10}$/.test(value)) return null;
  return Number(value);
}

/** Negotiates the options of an RRQ for a file of `size` bytes (as it will be sent). */
export function negotiate(requested: ReadonlyMap<string, string>, size: number, limits: NegotiationLimits): Negotiated {
  const out: Negotiated = { blksize: DEFAULT_BLKSIZE, windowsize: 1, timeoutMs: limits.defaultTimeoutMs, oack: new Map() };
  for (const [name, value] of requested) {
    const n = decimal(value);
    if (n === null) continue;
    switch (name) {
      case 'blksize':
        // RFC 2348 §2: below 8 is invalid (ignored); above what we allow, answer a smaller value.
        if (n >= MIN_BLKSIZE) {
          out.blksize = Math.min(n, limits.maxBlksize, MAX_BLKSIZE);
          out.oack.set(name, String(out.blksize));
        }
        break;
      case 'tsize':
        // RFC 2349 §4: on a read request the client sends 0 and the server answers the size.
        out.oack.set(name, String(size));
        break;
      case 'timeout':
        // RFC 2349 §3: 1..255 seconds; the server echoes the value it accepts unchanged.
        if (n >= 1 && n <= 255) {
          out.timeoutMs = n * 1000;
          out.oack.set(name, String(n));
        }
        break;
      case 'windowsize':
        // RFC 7440 §2: 1..65535; the server may answer a smaller window.
        if (n >= 1 && n <= MAX_WINDOWSIZE) {
          out.windowsize = Math.min(n, Math.max(1, limits.maxWindowsize));
          out.oack.set(name, String(out.windowsize));
        }
        break;
      default:
        break;
    }
  }
  if (out.oack.has('windowsize')) {
    // RFC 7440 §2 lets the server answer a smaller window; keep the burst within the byte budget.
    out.windowsize = Math.max(1, Math.min(out.windowsize, Math.floor(limits.maxWindowBytes / out.blksize)));
    out.oack.set('windowsize', String(out.windowsize));
  }
  return out;
}
