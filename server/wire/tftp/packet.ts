/**
 * TFTP packet model (RFC 1350 §5, RFC 2347 §2 for OACK). Opcodes and error codes are the RFCs'
 * numbers; option names are kept lower-cased because RFC 2347 §2 makes them case-insensitive.
 */

/** RFC 1350 §5 opcodes, plus OACK from RFC 2347 §2. */
export const Opcode = {
  RRQ: 1,
  WRQ: 2,
  DATA: 3,
  ACK: 4,
  ERROR: 5,
  OACK: 6,
} as const;
export type OpcodeName = keyof typeof Opcode;

/** RFC 1350 appendix "Error Codes", plus 8 from RFC 2347 §2. */
export const TftpErrorCode = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  OPTION_REFUSED: 8,
} as const;

/** RFC 1350 §5 modes; "mail" is obsolete and refused. Names are case-insensitive on the wire. */
export type TransferMode = 'netascii' | 'octet';

/** Largest DATA payload any negotiation can give (RFC 2348 §2: blksize ≤ 65464). */
export const MAX_BLKSIZE = 65464;
/** Default block size without a blksize option (RFC 1350 §1). */
export const DEFAULT_BLKSIZE = 512;
/** Longest filename we accept, in bytes (RFC 2347 §2 bounds the whole request to 512 octets). */
export const MAX_FILENAME_BYTES = 512;
/** Longest option name or value we accept, in bytes. */
export const MAX_OPTION_BYTES = 255;
/** Most options we accept in one request or OACK; real clients send at most five or six. */
export const MAX_OPTIONS = 16;
/** Longest ERROR message we accept, in bytes. */
export const MAX_ERROR_MESSAGE_BYTES = 1024;

export interface RequestPacket {
  op: 'RRQ' | 'WRQ';
  filename: string;
  mode: TransferMode;
  /** RFC 2347 options, names lower-cased, values as sent. */
  options: Map<string, string>;
}

export interface DataPacket {
  op: 'DATA';
  /** Wire block number 0..65535 (wraps after 65535). */
  block: number;
  data: Uint8Array;
}

export interface AckPacket {
  op: 'ACK';
  block: number;
}

export interface ErrorPacket {
  op: 'ERROR';
  code: number;
  message: string;
}

export interface OackPacket {
  op: 'OACK';
  options: Map<string, string>;
}

export type TftpPacket = RequestPacket | DataPacket | AckPacket | ErrorPacket | OackPacket;

/** Codes of `WireError` thrown by `decodeTftp`/`encodeTftp`, besides the reader's own. */
export type TftpWireErrorCode =
  | 'truncated'
  | 'missing-nul'
  | 'bad-opcode'
  | 'bad-mode'
  | 'empty-filename'
  | 'filename-too-long'
  | 'bad-option'
  | 'option-too-long'
  | 'missing-option-value'
  | 'duplicate-option'
  | 'too-many-options'
  | 'data-too-long'
  | 'message-too-long'
  | 'out-of-range'
  | 'bad-string';
