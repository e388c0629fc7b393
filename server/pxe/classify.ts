/**
 * `classify(packet, via)`: is this a PXE or HTTP-boot client we should answer, and
 * what do we know about the machine? Pure. Ignoring is a value with a reason (DESIGN.md lesson 4),
 * so the service logs it once at debug and stays silent (R-18: answer only PXE and HTTP-boot
 * clients; never the network's own DHCP traffic).
 */
import type { Buffer } from 'node:buffer';
import type { Architecture } from '../../policy/content-refs.js';
import { tryNormalizeUuid } from '../../policy/normalize.js';
import type { BootFacts } from '../../policy/resolve-boot.js';
import {
  BOOTREQUEST,
  BROADCAST_FLAG,
  MESSAGE_TYPE,
  OPTION,
  WireError,
  clientArchitectures,
  clientMachineId,
  hardwareAddress,
  hasOption,
  messageType,
  messageTypeName,
  pxeVendorOptions,
  userClasses,
  vendorClass,
  type DhcpPacket,
} from '../wire/dhcp/index.js';
import { ARCH_TYPES, archFromVendorClass, describeArchType, type Firmware } from './client-arch.js';

export type ClientKind = 'firmware' | 'ipxe' | 'httpBoot';
export type PxeRole = 'dhcp' | 'pxe';

/** Where a packet arrived: the role of the socket (67 = dhcp, 4011 = pxe) and the sender. */
export interface Via {
  readonly role: PxeRole;
  readonly address: string;
  readonly port: number;
}

export interface PxeFacts {
  /** Normalised; the booting interface (chaddr). */
  readonly macAddresses: readonly string[];
  /** From option 97, canonical; null when absent, malformed or a placeholder (all 0 / all F). */
  readonly smbiosUuid: string | null;
  readonly architecture: Architecture;
  readonly firmware: Firmware;
  readonly clientKind: ClientKind;
  /** The option 93 type the answer is for. */
  readonly archType: number;
  readonly messageType: number;
  readonly xid: number;
  readonly giaddr: string;
  readonly ciaddr: string;
  readonly vendorClass: 'PXEClient' | 'HTTPClient';
  readonly role: PxeRole;
  readonly broadcast: boolean;
  /** Option 43 sub-option 71 of a request on port 4011, echoed in the answer (PXE 2.1 boot server reply). */
  readonly bootItem: { readonly type: number; readonly layer: number } | null;
  /** Why option 97 gave no UUID, when it was present but unusable. */
  readonly uuidNote: string | null;
}

export type Classification = { readonly kind: 'pxe'; readonly facts: PxeFacts } | { readonly kind: 'ignore'; readonly reason: string };

const ignore = (reason: string): Classification => ({ kind: 'ignore', reason });

/** Runs a typed accessor; a malformed option becomes a reason instead of an exception. */
function read<T>(what: string, fn: () => T): T | { malformed: string } {
  try {
    return fn();
  } catch (e) {
    if (e instanceof WireError) return { malformed: `malformed ${what}: ${e.message}` };
    throw e;
  }
}
const isMalformed = (x: unknown): x is { malformed: string } => typeof x === 'object' && x !== null && 'malformed' in x;

/**
 * Option 97 type 0 carries the machine's SMBIOS UUID in EFI GUID layout: the first three fields
 * little-endian (RFC 4578 §2.3 defers to the EFI spec; EDK2 copies the GUID struct and iPXE
 * byte-swaps its RFC 4122 UUID to match). Swapping them back gives the UUID that dmidecode,
 * Windows and iPXE's `${uuid}` show, so the DHCP and HTTP stages of one boot agree.
 */
export function smbiosUuidFromGuid(id: Buffer): string | null {
  if (id.length !== 16) return null;
  const h = id.toString('hex');
  const swap = (s: string) => s.match(/../g)!.reverse().join('');
  return tryNormalizeUuid(`${swap(h.slice(0, 8))}${swap(h.slice(8, 12))}${swap(h.slice(12, 16))}${h.slice(16)}`);
}

function uuidOf(p: DhcpPacket): { uuid: string | null; note: string | null } {
  const mid = read('option 97', () => clientMachineId(p));
  if (mid === undefined) return { uuid: null, note: null };
  if (isMalformed(mid)) return { uuid: null, note: mid.malformed };
  if (mid.type !== 0 || mid.id.length !== 16) return { uuid: null, note: `option 97 type ${mid.type} with ${mid.id.length} octets is not a GUID` };
  const uuid = smbiosUuidFromGuid(mid.id);
  return uuid ? { uuid, note: null } : { uuid: null, note: 'option 97 holds a placeholder UUID (all zero or all FF)' };
}

/**
 * Message types and ports a proxyDHCP server answers (PXE 2.1: the proxy answers DHCPDISCOVER on
 * 67; the client then sends its ProxyDHCPREQUEST to 4011 — iPXE and EDK2 both do). A DHCPREQUEST
 * on 67 selects or renews a lease with the network's DHCP server, even one that names us: a
 * client that mistook our offer for a lease would get an ACK for address 0.0.0.0.
 */
function messageReason(type: number, via: Via): string | null {
  const name = messageTypeName(type);
  if (via.role === 'pxe') {
    return type === MESSAGE_TYPE.REQUEST || type === MESSAGE_TYPE.INFORM ? null : `${name} to the PXE boot server port: only DHCPREQUEST and DHCPINFORM are answered there`;
  }
  if (type === MESSAGE_TYPE.DISCOVER || type === MESSAGE_TYPE.INFORM) return null;
  if (type === MESSAGE_TYPE.REQUEST) return `${name} to the proxyDHCP port is for the network's DHCP server (ProxyDHCPREQUESTs come to port 4011)`;
  return `${name} is not answered by a proxyDHCP server`;
}

function macOf(p: DhcpPacket): string | null {
  if (p.htype !== 1 || p.hlen !== 6) return null;
  const hw = hardwareAddress(p);
  if (hw.every((b) => b === 0) || ((hw[0] as number) & 1) === 1) return null; // missing, or multicast/broadcast
  return [...hw].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The first architecture in option 93 we can boot (RFC 4578 §2.1: most preferred first). */
function archTypeOf(p: DhcpPacket, vc: string): number | string {
  const listed = read('option 93', () => clientArchitectures(p));
  if (isMalformed(listed)) return listed.malformed;
  // PXE 2.0 ROMs predate option 93 but put the type in option 60; before that, all were x86 BIOS.
  const types = listed ?? [archFromVendorClass(vc) ?? 0];
  const usable = types.find((code) => ARCH_TYPES.get(code)?.architecture);
  return usable ?? `unsupported client architecture ${types.map(describeArchType).join(', ')}`;
}

function clientKindOf(p: DhcpPacket, vc: string, http: boolean): ClientKind {
  // iPXE identifies itself by user class "iPXE" and by its option 175; answer it with a script,
  // or it would chainload itself forever.
  const classes = read('option 77', () => userClasses(p));
  if ((Array.isArray(classes) && classes.includes('iPXE')) || hasOption(p, OPTION.ipxeEncapsulated)) return 'ipxe';
  return vc.startsWith('HTTPClient') || http ? 'httpBoot' : 'firmware';
}

export function classify(p: DhcpPacket, via: Via): Classification {
  if (p.op !== BOOTREQUEST) return ignore('BOOTREPLY: another server\'s answer, not a request');
  const type = read('option 53', () => messageType(p));
  if (isMalformed(type)) return ignore(type.malformed);
  if (type === undefined) return ignore('plain BOOTP request (no option 53)');
  const wrongMessage = messageReason(type, via);
  if (wrongMessage) return ignore(wrongMessage);

  // only PXE clients (PXE 2.1: option 60 "PXEClient:Arch:…") and UEFI HTTP-boot clients
  // (UEFI specification, HTTP Boot: "HTTPClient:Arch:…").
  const vc = vendorClass(p) ?? '';
  const kindOfClass = vc.startsWith('PXEClient') ? 'PXEClient' : vc.startsWith('HTTPClient') ? 'HTTPClient' : null;
  if (!kindOfClass) return ignore(vc ? `not a PXE or HTTP-boot client (option 60 ${JSON.stringify(vc.slice(0, 64))})` : 'not a PXE or HTTP-boot client (no option 60)');

  const mac = macOf(p);
  if (!mac) return ignore(`no usable client hardware address (htype ${p.htype}, hlen ${p.hlen})`);
  const archType = archTypeOf(p, vc);
  if (typeof archType === 'string') return ignore(archType);
  const arch = ARCH_TYPES.get(archType)!;
  const { uuid, note } = uuidOf(p);
  const vendor = via.role === 'pxe' ? read('option 43', () => pxeVendorOptions(p)) : undefined;

  return {
    kind: 'pxe',
    facts: {
      macAddresses: [mac],
      smbiosUuid: uuid,
      architecture: arch.architecture!,
      firmware: arch.firmware,
      clientKind: clientKindOf(p, vc, arch.http),
      archType,
      messageType: type,
      xid: p.xid,
      giaddr: p.giaddr,
      ciaddr: p.ciaddr,
      vendorClass: kindOfClass,
      role: via.role,
      broadcast: (p.flags & BROADCAST_FLAG) !== 0,
      bootItem: vendor && !isMalformed(vendor) ? (vendor.bootItem ?? null) : null,
      uuidNote: note,
    },
  };
}

/** What policy needs of a network boot: PXE, iPXE and HTTP boot are all `source: 'pxe'`. */
export function bootFactsOf(f: PxeFacts): BootFacts {
  return { macAddresses: f.macAddresses, smbiosUuid: f.smbiosUuid, architecture: f.architecture, source: 'pxe' };
}
