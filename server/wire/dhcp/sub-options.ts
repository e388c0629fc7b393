/**
 * Encapsulated sub-options: code, length, data inside one option's value. Used by option 43
 * (PXE vendor options, framed like RFC 2132 §8.4 with PAD and END), option 175 (iPXE, the same
 * framing) and option 82 (RFC 3046 §2.0: no PAD or END, every octet belongs to a sub-option).
 */
import { Buffer } from 'node:buffer';
import { dhcpError } from './areas.js';

export interface SubOption {
  readonly code: number;
  readonly data: Buffer;
}

export interface SubOptionFraming {
  /** 0 is a one-octet PAD and 255 ends the list (43, 175); otherwise every code is TLV (82). */
  readonly padEnd: boolean;
  /** Option name for error messages, e.g. "option 43". */
  readonly what: string;
}

export function decodeSubOptions(data: Uint8Array, framing: SubOptionFraming): SubOption[] {
  const out: SubOption[] = [];
  let i = 0;
  while (i < data.length) {
    const code = data[i] as number;
    if (framing.padEnd && code === 0) {
      i++;
      continue;
    }
    if (framing.padEnd && code === 255) break;
    if (i + 1 >= data.length) throw dhcpError('sub-option-overrun', `${framing.what}: sub-option ${code} at offset ${i} has no length octet`);
    const len = data[i + 1] as number;
    if (i + 2 + len > data.length) {
      throw dhcpError('sub-option-overrun', `${framing.what}: sub-option ${code} claims ${len} octet(s), ${data.length - i - 2} left`);
    }
    out.push({ code, data: Buffer.from(data.subarray(i + 2, i + 2 + len)) });
    i += 2 + len;
  }
  return out;
}

/** Sub-options in order, each at most 255 octets, then END when the framing has one. */
export function encodeSubOptions(list: readonly SubOption[], framing: SubOptionFraming): Buffer {
  const parts: Buffer[] = [];
  for (const s of list) {
    if (!Number.isInteger(s.code) || s.code < 0 || s.code > 255 || (framing.padEnd && (s.code === 0 || s.code === 255))) {
      throw dhcpError('bad-field', `${framing.what}: sub-option code ${s.code} cannot be encoded`);
    }
    if (s.data.length > 255) throw dhcpError('bad-field', `${framing.what}: sub-option ${s.code} is longer than 255 octets`);
    parts.push(Buffer.from([s.code, s.data.length]), s.data);
  }
  if (framing.padEnd) parts.push(Buffer.from([255]));
  return Buffer.concat(parts);
}

/** Values of every instance of `code`, concatenated (the RFC 3396 rule, applied inside). */
export function subOptionData(list: readonly SubOption[], code: number): Buffer | undefined {
  const found = list.filter((s) => s.code === code);
  if (found.length === 0) return undefined;
  return found.length === 1 ? found[0]!.data : Buffer.concat(found.map((s) => s.data));
}
