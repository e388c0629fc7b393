/**
 * Reading and writing one option area: the options field, or `file`/`sname` when option 52
 * overloads them. RFC 2132 §2 framing: PAD (0) and END (255) are single octets, every other
 * option is code, length, data. Each area must frame on its own (RFC 2131 §4.1: an option may
 * not straddle two fields; RFC 3396 splits long ones into instances instead).
 */
import { Buffer } from 'node:buffer';
import { WireError, type Writer } from '../bytes.js';
import type { DhcpOption, DhcpWireErrorCode } from './packet.js';

export const PAD = 0;
export const END = 255;
const EMPTY = Buffer.alloc(0);

export type AreaName = 'options' | 'file' | 'sname';

export interface DecodedArea {
  readonly options: DhcpOption[];
  readonly end: boolean;
  readonly trailer: Buffer;
}

export function dhcpError(code: DhcpWireErrorCode, message: string): WireError<DhcpWireErrorCode> {
  return new WireError(code, message);
}

/** Options in `buf[start, stop)`. Copies the data so a packet never pins a receive buffer. */
export function readArea(buf: Buffer, start: number, stop: number, where: AreaName): DecodedArea {
  const options: DhcpOption[] = [];
  let i = start;
  while (i < stop) {
    const code = buf[i] as number;
    if (code === PAD) {
      // PAD runs are legal anywhere (RFC 2132 §3.1); the size cap bounds them, so they are kept.
      options.push({ code: PAD, data: EMPTY });
      i++;
      continue;
    }
    if (code === END) return { options, end: true, trailer: Buffer.from(buf.subarray(i + 1, stop)) };
    if (i + 1 >= stop) throw dhcpError('option-overrun', `${where}: option ${code} at offset ${i} has no length octet`);
    const len = buf[i + 1] as number;
    if (i + 2 + len > stop) {
      throw dhcpError('option-overrun', `${where}: option ${code} at offset ${i} claims ${len} octet(s), ${stop - i - 2} left`);
    }
    options.push({ code, data: Buffer.from(buf.subarray(i + 2, i + 2 + len)) });
    i += 2 + len;
  }
  return { options, end: false, trailer: EMPTY };
}

/**
 * Writes options, END and trailer. A value longer than 255 octets is split into consecutive
 * instances (RFC 3396 §5), which a decoder concatenates back.
 */
export function writeArea(w: Writer, options: readonly DhcpOption[], end: boolean, trailer: Buffer | undefined, where: AreaName): void {
  for (const o of options) {
    if (!Number.isInteger(o.code) || o.code < 0 || o.code >= END) {
      throw dhcpError('bad-field', `${where}: option code ${o.code} cannot be encoded (END is written by the encoder)`);
    }
    if (o.code === PAD) {
      if (o.data.length !== 0) throw dhcpError('bad-field', `${where}: PAD carries no data`);
      w.u8(PAD);
      continue;
    }
    if (o.data.length === 0) {
      w.u8(o.code).u8(0);
      continue;
    }
    for (let at = 0; at < o.data.length; at += 255) {
      const chunk = o.data.subarray(at, Math.min(at + 255, o.data.length));
      w.u8(o.code).u8(chunk.length).bytes(chunk);
    }
  }
  if (end) w.u8(END);
  if (trailer) w.bytes(trailer);
}
