/**
 * `formatDhcp(packet)`: a stable, human-readable text dump, one field or option instance per line
 * (PAD runs collapsed). Used for the committed golden dumps beside the fixtures and for debugging;
 * it never throws — a value that does not fit its type is shown as hex with the reason.
 */
import { Buffer } from 'node:buffer';
import { WireError } from '../bytes.js';
import { ipAt } from './ipv4.js';
import { messageTypeName } from './options.js';
import type { DhcpOption, DhcpPacket, OptionArea } from './packet.js';
import { decodePxeVendorOptions } from './pxe-vendor.js';
import { decodeSubOptions } from './sub-options.js';

const NAMES: Record<number, string> = {
  1: 'subnet mask', 3: 'router', 6: 'domain name server', 12: 'host name', 43: 'vendor specific (PXE)', 50: 'requested address',
  51: 'lease time', 52: 'overload', 53: 'message type', 54: 'server identifier', 55: 'parameter request list',
  57: 'maximum message size', 60: 'vendor class', 61: 'client identifier', 66: 'tftp server name', 67: 'bootfile name',
  77: 'user class', 82: 'relay agent information', 93: 'client architecture', 94: 'client network interface',
  97: 'client machine id', 175: 'ipxe encapsulated',
};
const RELAY_SUB: Record<number, string> = { 1: 'circuit id', 2: 'remote id', 5: 'link selection', 11: 'server identifier override' };
const IPXE_SUB: Record<number, string> = { 16: 'pxe api extensions', 17: 'iscsi', 18: 'aoe', 19: 'http', 20: 'https', 177: 'bus id', 235: 'version' };

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const quoted = (b: Buffer): string => JSON.stringify(b.toString('latin1'));
const isText = (b: Buffer): boolean => b.length > 0 && b.every((c) => c >= 0x20 && c < 0x7f);

function subList(data: Buffer, padEnd: boolean, what: string, names: Record<number, string>): string[] {
  return decodeSubOptions(data, { padEnd, what }).map(
    (s) => `      ${s.code}${names[s.code] ? ` ${names[s.code]}` : ''}: ${isText(s.data) ? quoted(s.data) : hex(s.data) || '(empty)'}`,
  );
}

function pxeLines(data: Buffer): string[] {
  const v = decodePxeVendorOptions(data);
  const out: string[] = [];
  if (v.discoveryControl !== undefined) out.push(`6 discovery control: ${v.discoveryControl}`);
  if (v.multicastAddress !== undefined) out.push(`7 multicast address: ${v.multicastAddress}`);
  for (const s of v.bootServers ?? []) out.push(`8 boot servers: type ${s.type} ${s.addresses.join(' ')}`);
  for (const m of v.bootMenu ?? []) out.push(`9 boot menu: type ${m.type} ${JSON.stringify(m.description)}`);
  if (v.menuPrompt) out.push(`10 menu prompt: timeout ${v.menuPrompt.timeout} ${JSON.stringify(v.menuPrompt.prompt)}`);
  if (v.bootItem) out.push(`71 boot item: type ${v.bootItem.type} layer ${v.bootItem.layer}`);
  for (const o of v.other ?? []) out.push(`${o.code}: ${hex(o.data) || '(empty)'}`);
  return out.map((line) => `      ${line}`);
}

function u16List(d: Buffer): string {
  if (d.length === 0 || d.length % 2) throw new WireError('bad-option-length', 'odd length');
  return Array.from({ length: d.length / 2 }, (_, i) => d.readUInt16BE(2 * i)).join(' ');
}

/** The value of one option instance, plus indented sub-option lines for encapsulated options. */
function describe(o: DhcpOption): { value: string; more: string[] } {
  const d = o.data;
  const one = (value: string) => ({ value, more: [] as string[] });
  switch (o.code) {
    case 53: return one(d.length === 1 ? messageTypeName(d[0] as number) : hex(d));
    case 1: case 3: case 6: case 50: case 54: return one(d.length % 4 === 0 && d.length ? Array.from({ length: d.length / 4 }, (_, i) => ipAt(d, 4 * i)).join(' ') : hex(d));
    case 51: return one(d.length === 4 ? String(d.readUInt32BE(0)) : hex(d));
    case 52: case 57: return one(d.length === 1 ? String(d[0]) : d.length === 2 ? String(d.readUInt16BE(0)) : hex(d));
    case 55: return one([...d].join(' '));
    case 93: return one(u16List(d));
    case 94: return one(d.length === 3 ? `type ${d[0]} version ${d[1]}.${d[2]}` : hex(d));
    case 97: return one(d.length ? `type ${d[0]} ${hex(d.subarray(1))}` : '(empty)');
    case 61: return one(d.length ? `type ${d[0]} ${hex(d.subarray(1))}` : '(empty)');
    case 82: return { value: `${d.length} octets`, more: subList(d, false, 'option 82', RELAY_SUB) };
    case 175: return { value: `${d.length} octets`, more: subList(d, true, 'option 175', IPXE_SUB) };
    case 43: return { value: `${d.length} octets`, more: pxeLines(d) };
    default: return one(isText(d) ? quoted(d) : hex(d) || '(empty)');
  }
}

function optionLines(options: readonly DhcpOption[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < options.length; i++) {
    const o = options[i]!;
    if (o.code === 0) {
      let run = 1;
      while (options[i + 1]?.code === 0) {
        run++;
        i++;
      }
      lines.push(`  PAD x${run}`);
      continue;
    }
    const name = NAMES[o.code] ? ` ${NAMES[o.code]}` : '';
    try {
      const { value, more } = describe(o);
      lines.push(`  ${o.code}${name} (${lenOf(o)}): ${value}`, ...more);
    } catch (e) {
      lines.push(`  ${o.code}${name} (${lenOf(o)}): ${hex(o.data)} (malformed: ${e instanceof Error ? e.message : String(e)})`);
    }
  }
  return lines;
}
const lenOf = (o: DhcpOption): string => `len ${o.data.length}`;

function trailerLine(trailer: Buffer | undefined): string {
  if (!trailer) return 'trailer: (canonical padding)';
  if (trailer.length === 0) return 'trailer: none';
  return trailer.every((b) => b === 0) ? `trailer: ${trailer.length} zero octets` : `trailer: ${hex(trailer)}`;
}

function areaLines(title: string, area: OptionArea): string[] {
  return [`${title}:`, ...optionLines(area.options), area.end ? 'end' : 'no END', trailerLine(area.trailer)];
}

export function formatDhcp(p: DhcpPacket): string {
  const flags = `0x${p.flags.toString(16).padStart(4, '0')}${p.flags & 0x8000 ? ' (broadcast)' : ''}`;
  const lines = [
    `op ${p.op} ${p.op === 1 ? 'BOOTREQUEST' : p.op === 2 ? 'BOOTREPLY' : '?'}  htype ${p.htype}  hlen ${p.hlen}  hops ${p.hops}`,
    `xid 0x${p.xid.toString(16).padStart(8, '0')}  secs ${p.secs}  flags ${flags}`,
    `ciaddr ${p.ciaddr}  yiaddr ${p.yiaddr}  siaddr ${p.siaddr}  giaddr ${p.giaddr}`,
    `chaddr ${[...p.chaddr.subarray(0, Math.min(p.hlen, 16))].map((b) => b.toString(16).padStart(2, '0')).join(':')}${p.chaddr.subarray(p.hlen).some((b) => b !== 0) ? ` (+${hex(p.chaddr.subarray(p.hlen))})` : ''}`,
    `sname ${p.snameArea ? '(options)' : JSON.stringify(p.sname)}`,
    `file ${p.fileArea ? '(options)' : JSON.stringify(p.file)}`,
    'options:',
    ...optionLines(p.options),
    p.end === false ? 'no END' : 'end',
    trailerLine(p.trailer),
    ...(p.fileArea ? areaLines('file options', p.fileArea) : []),
    ...(p.snameArea ? areaLines('sname options', p.snameArea) : []),
  ];
  return `${lines.join('\n')}\n`;
}
