/** Dotted-quad IPv4 addresses to and from their four network-order octets. */
import { Buffer } from 'node:buffer';
import { dhcpError } from './areas.js';

export const ZERO_ADDRESS = '0.0.0.0';

export function ipAt(buf: Uint8Array, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

const QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The four octets of `address`; `bad-field` for anything but a plain dotted quad. */
export function ipOctets(address: string, what = 'address'): Buffer {
  const m = QUAD.exec(address);
  const octets = m ? m.slice(1).map(Number) : [];
  if (octets.length !== 4 || octets.some((n) => n > 255)) throw dhcpError('bad-field', `${what}: ${JSON.stringify(address)} is not an IPv4 address`);
  return Buffer.from(octets);
}

export function isIpv4(address: string): boolean {
  const m = QUAD.exec(address);
  return m !== null && m.slice(1).every((n) => Number(n) <= 255);
}
