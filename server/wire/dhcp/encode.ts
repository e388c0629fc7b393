/**
 * `encodeDhcp(packet)`: a `DhcpPacket` → one UDP payload. Writes exactly what the packet says
 * (option instances, END, trailer), so a decoded packet re-encodes byte for byte; a packet built
 * from scratch (no `trailer`) is padded to the 300-octet BOOTP minimum (RFC 1542 §2.1).
 */
import { Buffer } from 'node:buffer';
import { Writer } from '../bytes.js';
import { dhcpError, writeArea, type AreaName } from './areas.js';
import { ipOctets } from './ipv4.js';
import { HEADER, MAGIC_COOKIE, MAX_DHCP_PACKET, MIN_BOOTP_SIZE, type DhcpPacket, type OptionArea } from './packet.js';

function checkInt(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw dhcpError('bad-field', `${what}: ${value} is not in 0..${max}`);
  return value;
}

/** A text field: latin1 octets, NUL-padded to `size`. */
function textField(text: string, size: number, what: string): Buffer {
  // latin1 would silently drop the high byte of any character above U+00FF.
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) throw dhcpError('bad-field', `${what}: character ${i} is not one octet`);
  if (text.length > size) throw dhcpError('bad-field', `${what}: ${text.length} octets do not fit the ${size}-octet field`);
  const out = Buffer.alloc(size);
  out.write(text, 'latin1');
  return out;
}

/** An overloaded field: its options, END and trailer, NUL-padded to `size`. */
function areaField(area: OptionArea, size: number, where: AreaName): Buffer {
  const w = new Writer(size);
  writeArea(w, area.options, area.end, area.trailer, where);
  const bytes = w.finish();
  if (bytes.length > size) throw dhcpError('bad-field', `${where}: ${bytes.length} octets of options do not fit the ${size}-octet field`);
  const out = Buffer.alloc(size);
  bytes.copy(out);
  return out;
}

/** Option 52 must agree with the areas the packet carries, or a decoder would read garbage. */
function checkOverload(p: DhcpPacket): void {
  const o52 = p.options.filter((o) => o.code === 52);
  const value = o52.length === 1 && o52[0]!.data.length === 1 ? (o52[0]!.data[0] as number) : o52.length === 0 ? 0 : -1;
  if (value < 0 || value > 3) throw dhcpError('bad-overload', 'option 52 must be one octet of 1, 2 or 3');
  if (Boolean(value & 1) !== Boolean(p.fileArea) || Boolean(value & 2) !== Boolean(p.snameArea)) {
    throw dhcpError('bad-overload', `option 52 = ${value} does not match the areas given (file: ${Boolean(p.fileArea)}, sname: ${Boolean(p.snameArea)})`);
  }
  if ((p.fileArea && p.file !== '') || (p.snameArea && p.sname !== '')) {
    throw dhcpError('bad-overload', 'an overloaded field cannot also carry text');
  }
}

export function encodeDhcp(p: DhcpPacket): Buffer {
  checkOverload(p);
  if (p.chaddr.length > 16) throw dhcpError('bad-field', `chaddr: ${p.chaddr.length} octets do not fit 16`);
  // Room for the largest packet we send, so the writer never has to grow for a valid one.
  const w = new Writer(2048);
  w.u8(checkInt(p.op, 0xff, 'op'))
    .u8(checkInt(p.htype, 0xff, 'htype'))
    .u8(checkInt(p.hlen, 16, 'hlen'))
    .u8(checkInt(p.hops, 0xff, 'hops'))
    .u32(checkInt(p.xid, 0xffffffff, 'xid'))
    .u16(checkInt(p.secs, 0xffff, 'secs'))
    .u16(checkInt(p.flags, 0xffff, 'flags'))
    .bytes(ipOctets(p.ciaddr, 'ciaddr'))
    .bytes(ipOctets(p.yiaddr, 'yiaddr'))
    .bytes(ipOctets(p.siaddr, 'siaddr'))
    .bytes(ipOctets(p.giaddr, 'giaddr'))
    .bytes(p.chaddr)
    .zeros(16 - p.chaddr.length)
    .bytes(p.snameArea ? areaField(p.snameArea, HEADER.snameSize, 'sname') : textField(p.sname, HEADER.snameSize, 'sname'))
    .bytes(p.fileArea ? areaField(p.fileArea, HEADER.fileSize, 'file') : textField(p.file, HEADER.fileSize, 'file'))
    .u32(MAGIC_COOKIE);
  writeArea(w, p.options, p.end ?? true, p.trailer, 'options');
  if (p.trailer === undefined && w.length < MIN_BOOTP_SIZE) w.zeros(MIN_BOOTP_SIZE - w.length);
  if (w.length > MAX_DHCP_PACKET) throw dhcpError('oversize', `${w.length} octets is more than ${MAX_DHCP_PACKET}`);
  return w.finish();
}
