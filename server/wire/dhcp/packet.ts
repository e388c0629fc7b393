/**
 * The DHCP/BOOTP packet model (RFC 2131 §2, RFC 951) and the limits and error codes of its codec.
 *
 * A decoded packet keeps every option *instance* in wire order, where it was (options field, or
 * `file`/`sname` when option 52 overloads them, RFC 2132 §9.3), whether END was seen and the bytes
 * after it. That is what lets `encodeDhcp(decodeDhcp(x))` give back `x` byte for byte, which the
 * golden tests rely on. Typed, merged views (RFC 3396 concatenation) live in `options.ts`.
 */
import type { Buffer } from 'node:buffer';

/** One option instance as it appeared on the wire. PAD (code 0) has empty data; END is never listed. */
export interface DhcpOption {
  readonly code: number;
  readonly data: Buffer;
}

/** One place options live: the options field, or `file`/`sname` when overloaded. */
export interface OptionArea {
  readonly options: readonly DhcpOption[];
  /** END (255) was present. A missing END is tolerated: some ROMs stop when the field is full. */
  readonly end: boolean;
  /** Bytes after END (usually PAD up to a 300- or 548-byte frame), kept for byte-exact re-encoding. */
  readonly trailer: Buffer;
}

export interface DhcpPacket {
  /** 1 BOOTREQUEST, 2 BOOTREPLY. */
  readonly op: number;
  /** Hardware type, 1 = Ethernet (RFC 1700 "ARP hardware types"). */
  readonly htype: number;
  readonly hlen: number;
  readonly hops: number;
  readonly xid: number;
  readonly secs: number;
  /** Bit 15 is the broadcast flag (RFC 2131 §2 figure 2); the rest must be zero. */
  readonly flags: number;
  readonly ciaddr: string;
  readonly yiaddr: string;
  readonly siaddr: string;
  readonly giaddr: string;
  /** All 16 bytes of the field; the hardware address is the first `hlen`. */
  readonly chaddr: Buffer;
  /** latin1 text of the field with trailing NULs removed; '' when the field carries options. */
  readonly sname: string;
  readonly file: string;
  /** Option instances of the options field, in wire order. */
  readonly options: readonly DhcpOption[];
  /** END seen in the options field; `undefined` means true (what the encoder writes). */
  readonly end?: boolean;
  /** Bytes after END. `undefined`: the encoder pads the packet to the 300-byte BOOTP minimum. */
  readonly trailer?: Buffer;
  /** Options carried in `file` (option 52 value 1 or 3). */
  readonly fileArea?: OptionArea;
  /** Options carried in `sname` (option 52 value 2 or 3). */
  readonly snameArea?: OptionArea;
}

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;

/** RFC 2131 §3 / RFC 1497: the four octets 99.130.83.99 that start the options field. */
export const MAGIC_COOKIE = 0x63825363;

/** Field offsets and sizes of the fixed BOOTP header (RFC 2131 §2 figure 1). */
export const HEADER = {
  chaddr: 28,
  sname: 44,
  snameSize: 64,
  file: 108,
  fileSize: 128,
  cookie: 236,
  options: 240,
} as const;

/** RFC 1542 §2.1: a BOOTP message is at least 300 octets; some PXE ROMs drop shorter replies. */
export const MIN_BOOTP_SIZE = 300;

/**
 * Largest datagram we decode. A client sends at most one Ethernet frame: EDK2 and iPXE advertise
 * 1472 (1500 − 20 IP − 8 UDP) in option 57, Intel PXE ROMs 1260 or 548. 1500 leaves a margin and
 * refuses anything that could only come from a fragmented or hostile sender.
 */
export const MAX_DHCP_PACKET = 1500;

/** Options whose value has one fixed length; a second instance cannot be concatenated (RFC 3396 §4). */
export const FIXED_LENGTH_OPTIONS: ReadonlyMap<number, number> = new Map([
  [50, 4], // requested IP address
  [51, 4], // lease time
  [52, 1], // option overload
  [53, 1], // DHCP message type
  [54, 4], // server identifier
  [57, 2], // maximum DHCP message size
]);

/** The specific reasons `decodeDhcp`, `encodeDhcp` and the typed accessors refuse input. */
export type DhcpWireErrorCode =
  | 'truncated-header' // shorter than the 236-byte BOOTP header
  | 'bad-magic-cookie' // no 99.130.83.99 after the header (plain BOOTP or garbage)
  | 'oversize' // longer than MAX_DHCP_PACKET
  | 'bad-op' // op is neither BOOTREQUEST nor BOOTREPLY
  | 'bad-hlen' // hlen > 16, the size of chaddr
  | 'option-overrun' // an option's length runs past the end of its area
  | 'bad-overload' // option 52 is not one byte of 1, 2 or 3, or contradicts the encoded areas
  | 'overload-loop' // option 52 inside file/sname: an area pointing at itself
  | 'duplicate-option' // a fixed-length option appears more than once
  | 'bad-option-length' // an option's length does not fit its type
  | 'sub-option-overrun' // an encapsulated sub-option runs past its option
  | 'bad-sub-option-length' // an encapsulated sub-option's length does not fit its type
  | 'bad-field'; // encoder: a header field out of range or too long
