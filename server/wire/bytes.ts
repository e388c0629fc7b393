/**
 * Bounds-checked byte reader and writer shared by the wire codecs (DHCP, TFTP).
 *
 * Every read checks the remaining length first and throws a `WireError` instead of returning
 * `undefined` or reading past the end: hostile packets must fail with a specific, testable code
 * (SPEC R-32, DESIGN.md "hostile-input tests"). Multi-byte integers are network order (big-endian).
 * Pure: imports nothing but Node's Buffer.
 */
import { Buffer } from 'node:buffer';

/** Codes raised by the reader/writer themselves; codecs add their own (e.g. `bad-opcode`). */
export type BytesErrorCode = 'truncated' | 'missing-nul' | 'too-long' | 'out-of-range' | 'overflow' | 'bad-string';

/** A decoding or encoding failure with a machine-readable code, e.g. `truncated`. */
export class WireError<C extends string = string> extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly code: C,
    message: string,
  ) {
    super(message);
  }
}

/** Reads a buffer front to back; never reads past `end`. */
export class Reader {
  private pos: number;
  private readonly end: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    if (start < 0 || end > buf.length || start > end) throw new WireError('out-of-range', `bad reader window ${start}..${end}`);
    this.pos = start;
    this.end = end;
  }

  /** Offset of the next byte to read, relative to the start of the buffer. */
  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.pos) {
      throw new WireError('truncated', `${what}: need ${n} byte(s) at offset ${this.pos}, ${this.end - this.pos} left`);
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const b = this.buf;
    const v = ((b[this.pos] as number) << 8) | (b[this.pos + 1] as number);
    this.pos += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const b = this.buf;
    const p = this.pos;
    // Multiply instead of `<< 24` so the result stays an unsigned number.
    const v = (b[p] as number) * 0x1000000 + (((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number));
    this.pos += 4;
    return v;
  }

  /** `n` bytes as a view on the same memory (no copy). */
  bytes(n: number, what = 'bytes'): Buffer {
    if (!Number.isInteger(n) || n < 0) throw new WireError('out-of-range', `${what}: bad length ${n}`);
    this.need(n, what);
    const out = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, n);
    this.pos += n;
    return out;
  }

  skip(n: number, what = 'skip'): void {
    this.bytes(n, what);
  }

  /** Everything left, as a view. */
  rest(): Buffer {
    return this.bytes(this.remaining, 'rest');
  }

  /** True when every remaining byte is zero (padding). */
  restIsZero(): boolean {
    for (let i = this.pos; i < this.end; i++) if (this.buf[i] !== 0) return false;
    return true;
  }

  /**
   * A NUL-terminated string of at most `maxBytes` bytes before the NUL; consumes the NUL.
   * `too-long` when no NUL appears within `maxBytes + 1` bytes and more data follows,
   * `missing-nul` when the packet ends first.
   */
  cstring(maxBytes: number, what = 'string', encoding: BufferEncoding = 'utf8'): string {
    const limit = Math.min(this.end, this.pos + maxBytes + 1);
    let i = this.pos;
    while (i < limit && this.buf[i] !== 0) i++;
    if (i === limit) {
      if (limit < this.end || i - this.pos > maxBytes) {
        throw new WireError('too-long', `${what}: longer than ${maxBytes} bytes at offset ${this.pos}`);
      }
      throw new WireError('missing-nul', `${what}: no terminating NUL after offset ${this.pos}`);
    }
    const s = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, i - this.pos).toString(encoding);
    this.pos = i + 1;
    return s;
  }
}

export interface WriterOptions {
  /** Refuse to grow past the initial capacity (`overflow`), e.g. for a fixed-size DHCP packet. */
  fixed?: boolean;
}

/** Appends bytes to a buffer that grows by doubling (or refuses to, when `fixed`). */
export class Writer {
  private buf: Buffer;
  private len = 0;
  private readonly fixed: boolean;

  constructor(capacity = 512, options: WriterOptions = {}) {
    this.buf = Buffer.alloc(capacity);
    this.fixed = options.fixed ?? false;
  }

  get length(): number {
    return this.len;
  }

  private reserve(n: number): number {
    const at = this.len;
    const need = at + n;
    if (need > this.buf.length) {
      if (this.fixed) throw new WireError('overflow', `writer: ${need} bytes exceed the fixed capacity ${this.buf.length}`);
      let cap = Math.max(16, this.buf.length * 2);
      while (cap < need) cap *= 2;
      const next = Buffer.alloc(cap);
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    this.len = need;
    return at;
  }

  private static check(v: number, max: number, what: string): void {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new WireError('out-of-range', `${what}: ${v} is not in 0..${max}`);
  }

  u8(v: number, what = 'u8'): this {
    Writer.check(v, 0xff, what);
    // reserve() first: it may replace this.buf, and `this.buf[...]` would be read before the call.
    const at = this.reserve(1);
    this.buf[at] = v;
    return this;
  }

  u16(v: number, what = 'u16'): this {
    Writer.check(v, 0xffff, what);
    const at = this.reserve(2);
    this.buf.writeUInt16BE(v, at);
    return this;
  }

  u32(v: number, what = 'u32'): this {
    Writer.check(v, 0xffffffff, what);
    const at = this.reserve(4);
    this.buf.writeUInt32BE(v, at);
    return this;
  }

  bytes(data: Uint8Array): this {
    const at = this.reserve(data.length);
    this.buf.set(data, at);
    return this;
  }

  zeros(n: number): this {
    const at = this.reserve(n);
    this.buf.fill(0, at, at + n);
    return this;
  }

  /** `s` followed by a NUL; refuses a string that itself contains NUL (`bad-string`). */
  cstring(s: string, what = 'string', encoding: BufferEncoding = 'utf8'): this {
    if (s.includes('\0')) throw new WireError('bad-string', `${what}: contains NUL`);
    const n = Buffer.byteLength(s, encoding);
    const at = this.reserve(n + 1);
    this.buf.write(s, at, n, encoding);
    this.buf[at + n] = 0;
    return this;
  }

  /** The bytes written so far (a view; the writer must not be used afterwards). */
  finish(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}
