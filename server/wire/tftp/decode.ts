/**
 * `decodeTftp(buf)`: one UDP payload → one TFTP packet, or a `WireError` with a specific code.
 * Layouts are RFC 1350 §5 (RRQ/WRQ, DATA, ACK, ERROR) and RFC 2347 §2 (options, OACK).
 */
import { Reader, WireError } from '../bytes.js';
import {
  MAX_BLKSIZE,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_FILENAME_BYTES,
  MAX_OPTION_BYTES,
  MAX_OPTIONS,
  Opcode,
  type TftpPacket,
  type TftpWireErrorCode,
  type TransferMode,
} from './packet.js';

/** Runs `read`, renaming the reader's generic `too-long` to a field-specific code. */
function field<T>(read: () => T, tooLong: TftpWireErrorCode): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof WireError && err.code === 'too-long') throw new WireError(tooLong, err.message);
    throw err;
  }
}

/** Longest mode string we even look at ("netascii" is 8). */
const MAX_MODE_BYTES = 16;

function readMode(r: Reader): TransferMode {
  const mode = field(() => r.cstring(MAX_MODE_BYTES, 'mode', 'latin1'), 'bad-mode').toLowerCase();
  // RFC 1350 §5: modes are case-insensitive; "mail" is obsolete (RFC 1350 §1) and refused.
  if (mode === 'netascii' || mode === 'octet') return mode;
  throw new WireError('bad-mode', `unsupported transfer mode ${JSON.stringify(mode.slice(0, 16))}`);
}

/**
 * RFC 2347 §2: `opt1 0 value1 0 …` up to the end of the packet. Names are case-insensitive, so they
 * are lower-cased, and a name given twice is refused rather than guessed at. Trailing NUL padding
 * (some boot ROMs pad requests) is tolerated.
 */
function readOptions(r: Reader): Map<string, string> {
  const options = new Map<string, string>();
  while (r.remaining > 0) {
    if (r.restIsZero()) break;
    const name = field(() => r.cstring(MAX_OPTION_BYTES, 'option name'), 'option-too-long').toLowerCase();
    if (name.length === 0) throw new WireError('bad-option', `empty option name at offset ${r.offset - 1}`);
    if (r.remaining === 0) throw new WireError('missing-option-value', `option ${JSON.stringify(name)} has no value`);
    const value = field(() => r.cstring(MAX_OPTION_BYTES, `option ${name} value`), 'option-too-long');
    if (options.has(name)) throw new WireError('duplicate-option', `option ${JSON.stringify(name)} appears twice`);
    if (options.size >= MAX_OPTIONS) throw new WireError('too-many-options', `more than ${MAX_OPTIONS} options`);
    options.set(name, value);
  }
  return options;
}

function decodeRequest(r: Reader, op: 'RRQ' | 'WRQ'): TftpPacket {
  const filename = field(() => r.cstring(MAX_FILENAME_BYTES, 'filename'), 'filename-too-long');
  if (filename.length === 0) throw new WireError('empty-filename', 'empty filename');
  const mode = readMode(r);
  return { op, filename, mode, options: readOptions(r) };
}

function decodeError(r: Reader): TftpPacket {
  const code = r.u16('error code');
  // RFC 1350 §5 ends the message with a NUL; a client that forgets it still means "error",
  // so the rest of the packet is taken as the message rather than refusing the abort.
  let message: string;
  try {
    message = field(() => r.cstring(MAX_ERROR_MESSAGE_BYTES, 'error message'), 'message-too-long');
  } catch (err) {
    if (!(err instanceof WireError) || err.code !== 'missing-nul') throw err;
    message = r.rest().toString('utf8');
  }
  return { op: 'ERROR', code, message };
}

/** Decodes one TFTP packet; throws `WireError` (see `TftpWireErrorCode`) on anything malformed. */
export function decodeTftp(buf: Uint8Array): TftpPacket {
  const r = new Reader(buf);
  const opcode = r.u16('opcode');
  switch (opcode) {
    case Opcode.RRQ:
      return decodeRequest(r, 'RRQ');
    case Opcode.WRQ:
      return decodeRequest(r, 'WRQ');
    case Opcode.DATA: {
      const block = r.u16('block number');
      if (r.remaining > MAX_BLKSIZE) throw new WireError('data-too-long', `DATA carries ${r.remaining} bytes, more than ${MAX_BLKSIZE}`);
      return { op: 'DATA', block, data: r.rest() };
    }
    case Opcode.ACK:
      // Bytes after the block number are ignored as padding: the ACK's meaning is unambiguous.
      return { op: 'ACK', block: r.u16('block number') };
    case Opcode.ERROR:
      return decodeError(r);
    case Opcode.OACK:
      return { op: 'OACK', options: readOptions(r) };
    default:
      throw new WireError('bad-opcode', `unknown TFTP opcode ${opcode}`);
  }
}

/**
 * The block number of an ACK (RFC 1350 §5: opcode 4, block), or -1 for any other packet.
 * The transfer's hot path: no allocation, same leniency as `decodeTftp` (padding ignored).
 */
export function ackBlockOf(buf: Uint8Array): number {
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== Opcode.ACK) return -1;
  return ((buf[2] as number) << 8) | (buf[3] as number);
}
