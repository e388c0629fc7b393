/**
 * `decodeDhcp(buf)`: one UDP payload → one `DhcpPacket`, or a `WireError` with a specific code
 * (`DhcpWireErrorCode`). Validates framing only — header, cookie, option lengths, option 52, and
 * fixed-length options that appear twice; what an option *means* is checked by the accessors in
 * `options.ts`, so a packet with one odd option can still be classified (and ignored) by reason.
 */
import { Buffer } from 'node:buffer';
import { dhcpError, readArea, type AreaName, type DecodedArea } from './areas.js';
import { ipAt } from './ipv4.js';
import {
  BOOTREPLY,
  BOOTREQUEST,
  FIXED_LENGTH_OPTIONS,
  HEADER,
  MAGIC_COOKIE,
  MAX_DHCP_PACKET,
  type DhcpOption,
  type DhcpPacket,
} from './packet.js';

const OVERLOAD = 52;

/** latin1 keeps every octet (1:1), so trimming only trailing NULs round-trips any field. */
function fieldText(buf: Buffer, start: number, size: number): string {
  let stop = start + size;
  while (stop > start && buf[stop - 1] === 0) stop--;
  return buf.toString('latin1', start, stop);
}

/** RFC 2132 §9.3: 1 = `file` holds options, 2 = `sname`, 3 = both. Only in the options field. */
function overloadOf(options: readonly DhcpOption[]): number {
  const found = options.filter((o) => o.code === OVERLOAD);
  if (found.length === 0) return 0;
  if (found.length > 1) throw dhcpError('duplicate-option', `option 52 (overload) appears ${found.length} times`);
  const data = found[0]!.data;
  if (data.length !== 1) throw dhcpError('bad-option-length', `option 52 (overload) must be 1 octet, got ${data.length}`);
  const value = data[0] as number;
  if (value < 1 || value > 3) throw dhcpError('bad-overload', `option 52 (overload) value ${value} is not 1, 2 or 3`);
  return value;
}

function overloadedArea(buf: Buffer, start: number, size: number, where: AreaName): DecodedArea {
  const area = readArea(buf, start, start + size, where);
  // An overload option inside an overloaded field would point the decoder back at itself.
  if (area.options.some((o) => o.code === OVERLOAD)) throw dhcpError('overload-loop', `option 52 (overload) inside the ${where} field`);
  return area;
}

/**
 * RFC 3396 lets any option repeat and be concatenated, but a second message type or server
 * identifier cannot mean anything and is how a hostile packet would smuggle one value past a
 * filter that reads the other: refuse it. A single instance must have its fixed length.
 */
function checkFixedLength(areas: readonly (DecodedArea | undefined)[]): void {
  const seen = new Set<number>();
  for (const area of areas) {
    for (const o of area?.options ?? []) {
      const size = FIXED_LENGTH_OPTIONS.get(o.code);
      if (size === undefined) continue;
      if (seen.has(o.code)) throw dhcpError('duplicate-option', `option ${o.code} appears more than once`);
      seen.add(o.code);
      if (o.data.length !== size) throw dhcpError('bad-option-length', `option ${o.code} must be ${size} octet(s), got ${o.data.length}`);
    }
  }
}

export function decodeDhcp(input: Uint8Array): DhcpPacket {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (buf.length > MAX_DHCP_PACKET) throw dhcpError('oversize', `${buf.length} octets is more than the ${MAX_DHCP_PACKET} a client sends`);
  if (buf.length < HEADER.cookie) throw dhcpError('truncated-header', `${buf.length} octets is shorter than the ${HEADER.cookie}-octet BOOTP header`);
  if (buf.length < HEADER.options || buf.readUInt32BE(HEADER.cookie) !== MAGIC_COOKIE) {
    throw dhcpError('bad-magic-cookie', 'no DHCP magic cookie 99.130.83.99 after the header');
  }
  const op = buf[0] as number;
  if (op !== BOOTREQUEST && op !== BOOTREPLY) throw dhcpError('bad-op', `op ${op} is neither BOOTREQUEST (1) nor BOOTREPLY (2)`);
  const hlen = buf[2] as number;
  if (hlen > 16) throw dhcpError('bad-hlen', `hlen ${hlen} is longer than the 16-octet chaddr field`);

  const main = readArea(buf, HEADER.options, buf.length, 'options');
  const overload = overloadOf(main.options);
  // RFC 3396 §6 reading order: options field, then file, then sname.
  const fileArea = overload & 1 ? overloadedArea(buf, HEADER.file, HEADER.fileSize, 'file') : undefined;
  const snameArea = overload & 2 ? overloadedArea(buf, HEADER.sname, HEADER.snameSize, 'sname') : undefined;
  checkFixedLength([main, fileArea, snameArea]);

  return {
    op,
    htype: buf[1] as number,
    hlen,
    hops: buf[3] as number,
    xid: buf.readUInt32BE(4),
    secs: buf.readUInt16BE(8),
    flags: buf.readUInt16BE(10),
    ciaddr: ipAt(buf, 12),
    yiaddr: ipAt(buf, 16),
    siaddr: ipAt(buf, 20),
    giaddr: ipAt(buf, 24),
    chaddr: Buffer.from(buf.subarray(HEADER.chaddr, HEADER.chaddr + 16)),
    sname: snameArea ? '' : fieldText(buf, HEADER.sname, HEADER.snameSize),
    file: fileArea ? '' : fieldText(buf, HEADER.file, HEADER.fileSize),
    options: main.options,
    end: main.end,
    trailer: main.trailer,
    ...(fileArea ? { fileArea } : {}),
    ...(snameArea ? { snameArea } : {}),
  };
}
