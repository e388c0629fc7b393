/**
 * PXE vendor options: option 43 when option 60 is "PXEClient" (PXE 2.1 specification §2.2.5,
 * table 2-1 "PXE DHCP options (encapsulated in option 43)"). The ones a proxyDHCP server and its
 * clients use are typed; any other sub-option is kept in `other` in wire order.
 */
import { Buffer } from 'node:buffer';
import { dhcpError } from './areas.js';
import { ipAt, ipOctets } from './ipv4.js';
import { decodeSubOptions, encodeSubOptions, subOptionData, type SubOption } from './sub-options.js';

export const PXE_SUB_OPTION = {
  discoveryControl: 6,
  multicastAddress: 7,
  bootServers: 8,
  bootMenu: 9,
  menuPrompt: 10,
  bootItem: 71,
} as const;

/** PXE_DISCOVERY_CONTROL bits (sub-option 6); bits 4–7 must be zero. */
export const DISCOVERY_CONTROL = {
  noBroadcast: 1,
  noMulticast: 2,
  serverListOnly: 4,
  /** Bit 3: a boot file name in the offer is downloaded at once — no prompt, menu or discovery. */
  useBootFile: 8,
} as const;

export interface PxeBootServer {
  readonly type: number;
  readonly addresses: readonly string[];
}
export interface PxeMenuItem {
  readonly type: number;
  readonly description: string;
}
export interface PxeVendorOptions {
  readonly discoveryControl?: number;
  readonly multicastAddress?: string;
  readonly bootServers?: readonly PxeBootServer[];
  readonly bootMenu?: readonly PxeMenuItem[];
  readonly menuPrompt?: { readonly timeout: number; readonly prompt: string };
  /** Sub-option 71: the boot server type and layer a client asks for on port 4011, echoed back. */
  readonly bootItem?: { readonly type: number; readonly layer: number };
  readonly other?: readonly SubOption[];
}

const FRAMING = { padEnd: true, what: 'option 43' } as const;
const TYPED: ReadonlySet<number> = new Set(Object.values(PXE_SUB_OPTION));

function exact(data: Buffer, size: number, name: string): Buffer {
  if (data.length !== size) throw dhcpError('bad-sub-option-length', `option 43 ${name} must be ${size} octet(s), got ${data.length}`);
  return data;
}

function bootServers(data: Buffer): PxeBootServer[] {
  const out: PxeBootServer[] = [];
  for (let i = 0; i < data.length; ) {
    if (i + 3 > data.length) throw dhcpError('bad-sub-option-length', 'option 43 boot servers: truncated entry');
    const type = data.readUInt16BE(i);
    const count = data[i + 2] as number;
    if (i + 3 + 4 * count > data.length) throw dhcpError('bad-sub-option-length', `option 43 boot servers: ${count} address(es) do not fit`);
    out.push({ type, addresses: Array.from({ length: count }, (_, k) => ipAt(data, i + 3 + 4 * k)) });
    i += 3 + 4 * count;
  }
  return out;
}

function bootMenu(data: Buffer): PxeMenuItem[] {
  const out: PxeMenuItem[] = [];
  for (let i = 0; i < data.length; ) {
    if (i + 3 > data.length) throw dhcpError('bad-sub-option-length', 'option 43 boot menu: truncated entry');
    const len = data[i + 2] as number;
    if (i + 3 + len > data.length) throw dhcpError('bad-sub-option-length', `option 43 boot menu: description of ${len} octet(s) does not fit`);
    out.push({ type: data.readUInt16BE(i), description: data.toString('latin1', i + 3, i + 3 + len) });
    i += 3 + len;
  }
  return out;
}

export function decodePxeVendorOptions(value: Uint8Array): PxeVendorOptions {
  const subs = decodeSubOptions(value, FRAMING);
  const get = (code: number) => subOptionData(subs, code);
  const dc = get(PXE_SUB_OPTION.discoveryControl);
  const mc = get(PXE_SUB_OPTION.multicastAddress);
  const servers = get(PXE_SUB_OPTION.bootServers);
  const menu = get(PXE_SUB_OPTION.bootMenu);
  const prompt = get(PXE_SUB_OPTION.menuPrompt);
  const item = get(PXE_SUB_OPTION.bootItem);
  if (prompt && prompt.length < 1) throw dhcpError('bad-sub-option-length', 'option 43 menu prompt has no timeout octet');
  const other = subs.filter((s) => !TYPED.has(s.code));
  return {
    ...(dc ? { discoveryControl: exact(dc, 1, 'discovery control')[0] as number } : {}),
    ...(mc ? { multicastAddress: ipAt(exact(mc, 4, 'multicast address'), 0) } : {}),
    ...(servers ? { bootServers: bootServers(servers) } : {}),
    ...(menu ? { bootMenu: bootMenu(menu) } : {}),
    ...(prompt ? { menuPrompt: { timeout: prompt[0] as number, prompt: prompt.toString('latin1', 1) } } : {}),
    ...(item ? { bootItem: { type: exact(item, 4, 'boot item').readUInt16BE(0), layer: item.readUInt16BE(2) } } : {}),
    ...(other.length ? { other } : {}),
  };
}

function u16(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw dhcpError('bad-field', `option 43: ${n} is not a 16-bit value`);
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function octet(n: number, what: string): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xff) throw dhcpError('bad-field', `option 43 ${what}: ${n} is not one octet`);
  return Buffer.from([n]);
}

/** Sub-options in PXE-spec order (6, 7, 8, 9, 10, 71, others), then END. */
export function encodePxeVendorOptions(v: PxeVendorOptions): Buffer {
  const subs: SubOption[] = [];
  const add = (code: number, data: Buffer) => subs.push({ code, data });
  if (v.discoveryControl !== undefined) add(PXE_SUB_OPTION.discoveryControl, octet(v.discoveryControl, 'discovery control'));
  if (v.multicastAddress !== undefined) add(PXE_SUB_OPTION.multicastAddress, ipOctets(v.multicastAddress, 'option 43 multicast address'));
  if (v.bootServers) {
    add(PXE_SUB_OPTION.bootServers, Buffer.concat(v.bootServers.flatMap((s) => [u16(s.type), octet(s.addresses.length, 'boot server count'), ...s.addresses.map((a) => ipOctets(a))])));
  }
  if (v.bootMenu) {
    add(PXE_SUB_OPTION.bootMenu, Buffer.concat(v.bootMenu.flatMap((m) => [u16(m.type), octet(m.description.length, 'menu description length'), Buffer.from(m.description, 'latin1')])));
  }
  if (v.menuPrompt) add(PXE_SUB_OPTION.menuPrompt, Buffer.concat([octet(v.menuPrompt.timeout, 'menu prompt timeout'), Buffer.from(v.menuPrompt.prompt, 'latin1')]));
  if (v.bootItem) add(PXE_SUB_OPTION.bootItem, Buffer.concat([u16(v.bootItem.type), u16(v.bootItem.layer)]));
  subs.push(...(v.other ?? []));
  return encodeSubOptions(subs, FRAMING);
}
