/**
 * Option codes, typed accessors and builders. Accessors read the *merged* value of an option:
 * every instance, from the options field, then `file`, then `sname`, concatenated (RFC 3396 §6),
 * and throw a `WireError` (`bad-option-length`, `sub-option-overrun`, …) when the value does not
 * fit its type. Codes follow RFC 2132 unless noted.
 */
import { Buffer } from 'node:buffer';
import { dhcpError } from './areas.js';
import { ipAt, ipOctets } from './ipv4.js';
import type { DhcpOption, DhcpPacket } from './packet.js';
import { decodePxeVendorOptions, type PxeVendorOptions } from './pxe-vendor.js';
import { decodeSubOptions, type SubOption } from './sub-options.js';

export const OPTION = {
  pad: 0,
  subnetMask: 1,
  router: 3,
  hostName: 12,
  vendorSpecific: 43,
  requestedAddress: 50,
  leaseTime: 51,
  overload: 52,
  messageType: 53,
  serverIdentifier: 54,
  parameterRequestList: 55,
  maxMessageSize: 57,
  vendorClass: 60,
  clientIdentifier: 61,
  tftpServerName: 66,
  bootfileName: 67,
  /** RFC 3004. */
  userClass: 77,
  /** RFC 3046. */
  relayAgentInformation: 82,
  /** RFC 4578 §2.1. */
  clientArchitecture: 93,
  /** RFC 4578 §2.2. */
  clientNetworkInterface: 94,
  /** RFC 4578 §2.3. */
  clientMachineId: 97,
  /** iPXE's encapsulated options (feature indicators, bus id, version). */
  ipxeEncapsulated: 175,
  end: 255,
} as const;

/** RFC 2132 §9.6. */
export const MESSAGE_TYPE = { DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7, INFORM: 8 } as const;
const MESSAGE_NAMES = ['', 'DHCPDISCOVER', 'DHCPOFFER', 'DHCPREQUEST', 'DHCPDECLINE', 'DHCPACK', 'DHCPNAK', 'DHCPRELEASE', 'DHCPINFORM'];
export const messageTypeName = (t: number): string => MESSAGE_NAMES[t] || `message type ${t}`;

/** RFC 2131 §2 figure 2: the one defined bit of `flags`. */
export const BROADCAST_FLAG = 0x8000;

/** Every option instance in RFC 3396 §6 reading order: options field, `file`, `sname`. */
export function allOptions(p: DhcpPacket): DhcpOption[] {
  return [...p.options, ...(p.fileArea?.options ?? []), ...(p.snameArea?.options ?? [])];
}

/** The merged value of `code` (RFC 3396: instances concatenated in reading order). */
export function optionData(p: DhcpPacket, code: number): Buffer | undefined {
  const found = allOptions(p).filter((o) => o.code === code && code !== OPTION.pad);
  if (found.length === 0) return undefined;
  return found.length === 1 ? found[0]!.data : Buffer.concat(found.map((o) => o.data));
}

export const hasOption = (p: DhcpPacket, code: number): boolean => optionData(p, code) !== undefined;

function sized(data: Buffer | undefined, size: number, code: number): Buffer | undefined {
  if (data && data.length !== size) throw dhcpError('bad-option-length', `option ${code} must be ${size} octet(s), got ${data.length}`);
  return data;
}

/** NVT ASCII text; a trailing NUL some firmware includes is not part of the value (RFC 2132 §2). */
function text(data: Buffer | undefined): string | undefined {
  if (!data) return undefined;
  let stop = data.length;
  while (stop > 0 && data[stop - 1] === 0) stop--;
  return data.toString('latin1', 0, stop);
}

export const messageType = (p: DhcpPacket): number | undefined => sized(optionData(p, OPTION.messageType), 1, OPTION.messageType)?.[0];

export function serverIdentifier(p: DhcpPacket): string | undefined {
  const d = sized(optionData(p, OPTION.serverIdentifier), 4, OPTION.serverIdentifier);
  return d && ipAt(d, 0);
}

export const parameterRequestList = (p: DhcpPacket): number[] => [...(optionData(p, OPTION.parameterRequestList) ?? [])];

export const maxMessageSize = (p: DhcpPacket): number | undefined => sized(optionData(p, OPTION.maxMessageSize), 2, OPTION.maxMessageSize)?.readUInt16BE(0);

export const vendorClass = (p: DhcpPacket): string | undefined => text(optionData(p, OPTION.vendorClass));
export const clientIdentifier = (p: DhcpPacket): Buffer | undefined => optionData(p, OPTION.clientIdentifier);
export const tftpServerName = (p: DhcpPacket): string | undefined => text(optionData(p, OPTION.tftpServerName));
export const bootfileName = (p: DhcpPacket): string | undefined => text(optionData(p, OPTION.bootfileName));

/**
 * RFC 3004 §4: a sequence of (length, class) pairs. iPXE and Windows send one bare string
 * instead ("iPXE", not 04 "iPXE"); a value that does not parse as pairs is that one class.
 */
export function userClasses(p: DhcpPacket): string[] | undefined {
  const d = optionData(p, OPTION.userClass);
  if (!d) return undefined;
  const out: string[] = [];
  for (let i = 0; i < d.length; ) {
    const len = d[i] as number;
    if (len === 0 || i + 1 + len > d.length) return [d.toString('latin1')];
    out.push(d.toString('latin1', i + 1, i + 1 + len));
    i += 1 + len;
  }
  return out;
}

/** RFC 3046 §2.0: sub-options (1 circuit id, 2 remote id, …) with no PAD or END. */
export function relayAgentInformation(p: DhcpPacket): SubOption[] | undefined {
  const d = optionData(p, OPTION.relayAgentInformation);
  return d && decodeSubOptions(d, { padEnd: false, what: 'option 82' });
}

/** RFC 4578 §2.1: one or more 16-bit architecture types, most preferred first. */
export function clientArchitectures(p: DhcpPacket): number[] | undefined {
  const d = optionData(p, OPTION.clientArchitecture);
  if (!d) return undefined;
  if (d.length === 0 || d.length % 2 !== 0) throw dhcpError('bad-option-length', `option 93 must be a non-empty list of 16-bit types, got ${d.length} octet(s)`);
  return Array.from({ length: d.length / 2 }, (_, i) => d.readUInt16BE(2 * i));
}

/** RFC 4578 §2.2: interface type (1 = UNDI) and its major/minor version, e.g. 1.2.1 or 1.3.16. */
export function clientNetworkInterface(p: DhcpPacket): { type: number; major: number; minor: number } | undefined {
  const d = sized(optionData(p, OPTION.clientNetworkInterface), 3, OPTION.clientNetworkInterface);
  return d && { type: d[0] as number, major: d[1] as number, minor: d[2] as number };
}

/** RFC 4578 §2.3: a type octet (0 = GUID) and the identifier (16 octets for type 0). */
export function clientMachineId(p: DhcpPacket): { type: number; id: Buffer } | undefined {
  const d = optionData(p, OPTION.clientMachineId);
  if (!d) return undefined;
  if (d.length < 1) throw dhcpError('bad-option-length', 'option 97 is empty');
  return { type: d[0] as number, id: d.subarray(1) };
}

export function pxeVendorOptions(p: DhcpPacket): PxeVendorOptions | undefined {
  const d = optionData(p, OPTION.vendorSpecific);
  return d && decodePxeVendorOptions(d);
}

/** iPXE's option 175, framed like option 43; its presence alone says the client is iPXE. */
export function ipxeOptions(p: DhcpPacket): SubOption[] | undefined {
  const d = optionData(p, OPTION.ipxeEncapsulated);
  return d && decodeSubOptions(d, { padEnd: true, what: 'option 175' });
}

/** The client hardware address: the first `hlen` octets of chaddr. */
export const hardwareAddress = (p: DhcpPacket): Buffer => p.chaddr.subarray(0, p.hlen);

/** The boot file field as a C string (up to the first NUL). */
export function bootFileField(p: DhcpPacket): string {
  const nul = p.file.indexOf('\0');
  return nul < 0 ? p.file : p.file.slice(0, nul);
}

/** Builders for option instances. */
export const opt = {
  bytes: (code: number, data: Uint8Array | readonly number[]): DhcpOption => ({ code, data: Buffer.from(data as Uint8Array) }),
  messageType: (type: number): DhcpOption => ({ code: OPTION.messageType, data: Buffer.from([type]) }),
  ip: (code: number, address: string): DhcpOption => ({ code, data: ipOctets(address, `option ${code}`) }),
  text: (code: number, value: string): DhcpOption => {
    // latin1 would silently drop the high byte of any character above U+00FF.
    if ([...value].some((c) => c.charCodeAt(0) > 0xff)) throw dhcpError('bad-field', `option ${code}: text is not one octet per character`);
    return { code, data: Buffer.from(value, 'latin1') };
  },
  u16: (code: number, value: number): DhcpOption => {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw dhcpError('bad-field', `option ${code}: ${value} is not a 16-bit value`);
    const data = Buffer.alloc(2);
    data.writeUInt16BE(value);
    return { code, data };
  },
};
