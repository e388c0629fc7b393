/**
 * `buildReply(request, classified, decision, config)`: the proxyDHCP answer, or null. Pure.
 *
 * A proxyDHCP server (PXE 2.1 specification, proxyDHCP; RFC 4578 §1) hands out no address — yiaddr stays
 * 0.0.0.0 and no lease options are sent — so it coexists with the network's DHCP server (R-18).
 * It answers a DHCPDISCOVER on 67 with a DHCPOFFER and a DHCPREQUEST/DHCPINFORM (usually on
 * 4011) with a DHCPACK, telling the client what to load:
 *   - PXE firmware: an iPXE binary by architecture over TFTP (siaddr + file), option 43 bit 3 so
 *     the ROM downloads it at once instead of prompting for a boot menu;
 *   - UEFI HTTP boot: the same binary as an http:// URL (option 67), with option 60 "HTTPClient",
 *     without which EDK2's HTTP boot driver does not treat the offer as one for it;
 *   - iPXE: the URL of its script generated from policy (R-18 "chainloads iPXE and then serves an
 *     iPXE script").
 */
import { Buffer } from 'node:buffer';
import {
  BOOTREPLY,
  BROADCAST_FLAG,
  DISCOVERY_CONTROL,
  MESSAGE_TYPE,
  OPTION,
  ZERO_ADDRESS,
  encodePxeVendorOptions,
  opt,
  optionData,
  type DhcpOption,
  type DhcpPacket,
} from '../wire/dhcp/index.js';
import type { Classification, PxeFacts, Via } from './classify.js';

export interface BootFileNames {
  /** Legacy BIOS PXE: iPXE's UNDI loader. */
  readonly bios: string;
  /** UEFI x64: `ipxe.efi` (own drivers) or `snponly.efi` (the firmware's network stack). */
  readonly uefiX64: string;
  readonly arm64: string;
  /** UEFI IA32 (rare tablets and early Macs). */
  readonly uefiX86: string;
}

export const DEFAULT_BOOT_FILES: BootFileNames = { bios: 'undionly.kpxe', uefiX64: 'ipxe.efi', arm64: 'ipxe-arm64.efi', uefiX86: 'ipxe-i386.efi' };

export interface ReplyConfig {
  /** Our address as clients reach it: server identifier, TFTP and HTTP host. */
  readonly advertiseAddress: string;
  readonly httpPort: number;
  readonly bootFiles: BootFileNames;
}

/** What `decide(facts)` answers; `answer: false` keeps the responder silent (R-18, R-19). */
export type PxeDecision = { readonly answer: true } | { readonly answer: false; readonly reason: string };

/** The iPXE binary for a client's architecture and firmware. */
export function bootFileFor(f: Pick<PxeFacts, 'architecture' | 'firmware'>, files: BootFileNames): string {
  if (f.firmware === 'bios') return files.bios;
  return f.architecture === 'arm64' ? files.arm64 : f.architecture === 'x86' ? files.uefiX86 : files.uefiX64;
}

const origin = (c: ReplyConfig): string => `http://${c.advertiseAddress}${c.httpPort === 80 ? '' : `:${c.httpPort}`}`;

/** The script URL for iPXE, with the identity this DHCP exchange gave (the route's BootQuery). */
export function ipxeScriptUrl(f: PxeFacts, c: ReplyConfig): string {
  const query = [`mac=${f.macAddresses[0]}`, ...(f.smbiosUuid ? [`uuid=${f.smbiosUuid}`] : []), `arch=${f.architecture}`, ...(f.firmware === 'uefi' ? ['uefi=true'] : [])];
  return `${origin(c)}/boot.ipxe?${query.join('&')}`;
}

/** What the client is told to load: a TFTP file name, or an http:// URL. */
export function bootTarget(f: PxeFacts, c: ReplyConfig): string {
  if (f.clientKind === 'ipxe') return ipxeScriptUrl(f, c);
  const file = bootFileFor(f, c.bootFiles);
  return f.clientKind === 'httpBoot' ? `${origin(c)}/boot/${encodeURI(file)}` : file;
}

/** The longest name that fits the 128-octet file field with its terminating NUL. */
const FILE_FIELD_MAX = 127;

function replyOptions(request: DhcpPacket, f: PxeFacts, target: string, c: ReplyConfig): DhcpOption[] {
  const options: DhcpOption[] = [
    opt.messageType(f.messageType === MESSAGE_TYPE.DISCOVER ? MESSAGE_TYPE.OFFER : MESSAGE_TYPE.ACK),
    opt.ip(OPTION.serverIdentifier, c.advertiseAddress),
    // PXE 2.1 (proxyDHCP offer): without option 60 "PXEClient" the ROM does not see a PXE offer.
    opt.text(OPTION.vendorClass, f.vendorClass),
  ];
  // PXE 2.1 proxyDHCP offer contents: the client's UUID/GUID (97) is returned when it sent one.
  const guid = optionData(request, OPTION.clientMachineId);
  if (guid) options.push(opt.bytes(OPTION.clientMachineId, guid));
  if (f.clientKind === 'firmware') {
    const pxe = encodePxeVendorOptions({
      discoveryControl: DISCOVERY_CONTROL.useBootFile,
      ...(f.bootItem ? { bootItem: f.bootItem } : {}),
    });
    options.push(opt.bytes(OPTION.vendorSpecific, pxe));
  } else {
    // iPXE and EDK2 HTTP boot read the URL from option 67 (longer than the file field allows).
    options.push(opt.text(OPTION.bootfileName, target));
  }
  // RFC 3046 §2.2: a server that understands option 82 echoes it unchanged, last.
  const relay = optionData(request, OPTION.relayAgentInformation);
  if (relay) options.push(opt.bytes(OPTION.relayAgentInformation, relay));
  return options;
}

export function buildReply(request: DhcpPacket, classified: Classification, decision: PxeDecision, c: ReplyConfig): DhcpPacket | null {
  if (classified.kind !== 'pxe' || !decision.answer) return null;
  const f = classified.facts;
  const target = bootTarget(f, c);
  const offer = f.messageType === MESSAGE_TYPE.DISCOVER;
  return {
    op: BOOTREPLY,
    htype: request.htype,
    hlen: request.hlen,
    hops: 0,
    xid: request.xid,
    secs: 0,
    // RFC 2131 §4.1: the broadcast bit is the client's; every other bit must be zero.
    flags: request.flags & BROADCAST_FLAG,
    // RFC 2131 table 3: 0 in a DHCPOFFER, the client's ciaddr in a DHCPACK.
    ciaddr: offer ? ZERO_ADDRESS : request.ciaddr,
    yiaddr: ZERO_ADDRESS, // proxyDHCP: never an address (R-18)
    siaddr: c.advertiseAddress, // TFTP server for firmware; harmless for HTTP clients
    giaddr: request.giaddr,
    chaddr: Buffer.from(request.chaddr),
    sname: '',
    file: target.length <= FILE_FIELD_MAX ? target : '',
    options: replyOptions(request, f, target, c),
  };
}

export interface ReplyRouting {
  /** Where clients listen: 68 (RFC 2131 §4.1); a high port in loopback tests. */
  readonly clientPort?: number;
  /** Where relay agents listen: 67. */
  readonly relayPort?: number;
  /** 255.255.255.255 by default; a subnet's directed broadcast picks the interface on a multi-homed host. */
  readonly broadcastAddress?: string;
}

export interface ReplyTarget {
  readonly address: string;
  readonly port: number;
  readonly broadcast: boolean;
}

/**
 * Where the answer goes (RFC 2131 §4.1; PXE 2.1: port 4011 replies go to the sender). Pure.
 *  - port 4011: back to the sender's address and port (the client already has an address);
 *  - relayed (giaddr set): to the relay agent's server port, which forwards it;
 *  - ciaddr set (DHCPINFORM): unicast to the client;
 *  - otherwise broadcast: a proxy assigns no yiaddr to unicast to and cannot add an ARP entry.
 */
export function replyDestination(request: DhcpPacket, via: Via, routing: ReplyRouting = {}): ReplyTarget {
  if (via.role === 'pxe') return { address: via.address, port: via.port, broadcast: false };
  if (request.giaddr !== ZERO_ADDRESS) return { address: request.giaddr, port: routing.relayPort ?? 67, broadcast: false };
  const clientPort = routing.clientPort ?? 68;
  if (request.ciaddr !== ZERO_ADDRESS) return { address: request.ciaddr, port: clientPort, broadcast: false };
  return { address: routing.broadcastAddress ?? '255.255.255.255', port: clientPort, broadcast: true };
}
