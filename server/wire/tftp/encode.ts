/**
 * `encodeTftp(packet)`: the inverse of `decodeTftp`, refusing what the decoder would refuse
 * (RFC 1350 §5 layouts, RFC 2347 §2 options). `writeDataHeader` lets the service build DATA
 * packets in place around file bytes it has already read.
 */
import { Buffer } from 'node:buffer';
import { WireError, Writer } from '../bytes.js';
import { MAX_BLKSIZE, MAX_ERROR_MESSAGE_BYTES, MAX_FILENAME_BYTES, MAX_OPTION_BYTES, MAX_OPTIONS, Opcode, type TftpPacket } from './packet.js';

/** Bytes before the payload of a DATA packet: opcode and block number (RFC 1350 §5). */
export const DATA_HEADER_BYTES = 4;

function checkLength(s: string, max: number, code: 'filename-too-long' | 'option-too-long' | 'message-too-long', what: string): void {
  const n = Buffer.byteLength(s, 'utf8');
  if (n > max) throw new WireError(code, `${what}: ${n} bytes, more than ${max}`);
}

function writeOptions(w: Writer, options: ReadonlyMap<string, string>): void {
  if (options.size > MAX_OPTIONS) throw new WireError('too-many-options', `more than ${MAX_OPTIONS} options`);
  const seen = new Set<string>();
  for (const [name, value] of options) {
    if (name.length === 0) throw new WireError('bad-option', 'empty option name');
    const key = name.toLowerCase();
    if (seen.has(key)) throw new WireError('duplicate-option', `option ${JSON.stringify(name)} appears twice`);
    seen.add(key);
    checkLength(name, MAX_OPTION_BYTES, 'option-too-long', 'option name');
    checkLength(value, MAX_OPTION_BYTES, 'option-too-long', `option ${name} value`);
    w.cstring(name, 'option name').cstring(value, `option ${name} value`);
  }
}

/** Writes opcode DATA and `block` into the first four bytes of `target`. */
export function writeDataHeader(target: Buffer, block: number): void {
  target[0] = 0;
  target[1] = Opcode.DATA;
  target[2] = (block >>> 8) & 0xff;
  target[3] = block & 0xff;
}

/** Encodes one TFTP packet; throws `WireError` for values that cannot be on the wire. */
export function encodeTftp(p: TftpPacket): Buffer {
  switch (p.op) {
    case 'RRQ':
    case 'WRQ': {
      if (p.filename.length === 0) throw new WireError('empty-filename', 'empty filename');
      checkLength(p.filename, MAX_FILENAME_BYTES, 'filename-too-long', 'filename');
      const w = new Writer(64).u16(Opcode[p.op]).cstring(p.filename, 'filename').cstring(p.mode, 'mode', 'latin1');
      writeOptions(w, p.options);
      return w.finish();
    }
    case 'DATA': {
      if (p.data.length > MAX_BLKSIZE) throw new WireError('data-too-long', `DATA of ${p.data.length} bytes, more than ${MAX_BLKSIZE}`);
      const w = new Writer(DATA_HEADER_BYTES + p.data.length, { fixed: true });
      return w.u16(Opcode.DATA).u16(p.block, 'block number').bytes(p.data).finish();
    }
    case 'ACK':
      return new Writer(4, { fixed: true }).u16(Opcode.ACK).u16(p.block, 'block number').finish();
    case 'ERROR':
      checkLength(p.message, MAX_ERROR_MESSAGE_BYTES, 'message-too-long', 'error message');
      return new Writer(8 + p.message.length).u16(Opcode.ERROR).u16(p.code, 'error code').cstring(p.message, 'error message').finish();
    case 'OACK': {
      const w = new Writer(64).u16(Opcode.OACK);
      writeOptions(w, p.options);
      return w.finish();
    }
  }
}
