/**
 * TFTP codec: golden bytes written out by hand from the RFC 1350 §5 and RFC 2347 §2
 * layouts (never produced by the encoder under test), fast-check round trips, and hostile input
 * where every malformation raises its own WireError code.
 */
import t from 'tap';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { Reader, WireError, Writer } from '../../../server/wire/bytes.js';
import { decodeTftp, encodeTftp, writeDataHeader, type TftpPacket } from '../../../server/wire/tftp/index.js';

/** ASCII bytes of `s` followed by NUL: the independent builder for golden packets. */
const z = (s: string): number[] => [...s].map((c) => c.charCodeAt(0)).concat(0);
const bytes = (...parts: (number | number[])[]): Buffer => Buffer.from(parts.flat());

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof WireError) return e.code;
    throw e;
  }
  return 'no error';
}

const golden: { name: string; wire: Buffer; packet: TftpPacket }[] = [
  {
    name: 'RRQ pxelinux.0 octet, no options',
    // 00 01 | "pxelinux.0" 00 | "octet" 00
    wire: bytes(0x00, 0x01, [0x70, 0x78, 0x65, 0x6c, 0x69, 0x6e, 0x75, 0x78, 0x2e, 0x30, 0x00], [0x6f, 0x63, 0x74, 0x65, 0x74, 0x00]),
    packet: { op: 'RRQ', filename: 'pxelinux.0', mode: 'octet', options: new Map() },
  },
  {
    name: 'RRQ with blksize, tsize, timeout and windowsize (RFC 2347 §2 order kept)',
    wire: bytes(0, 1, z('boot/x64/wdsmgfw.efi'), z('octet'), z('blksize'), z('1468'), z('tsize'), z('0'), z('timeout'), z('3'), z('windowsize'), z('16')),
    packet: {
      op: 'RRQ',
      filename: 'boot/x64/wdsmgfw.efi',
      mode: 'octet',
      options: new Map([
        ['blksize', '1468'],
        ['tsize', '0'],
        ['timeout', '3'],
        ['windowsize', '16'],
      ]),
    },
  },
  {
    name: 'WRQ netascii',
    wire: bytes(0, 2, z('upload.txt'), z('netascii')),
    packet: { op: 'WRQ', filename: 'upload.txt', mode: 'netascii', options: new Map() },
  },
  { name: 'DATA block 1 "abc"', wire: bytes(0x00, 0x03, 0x00, 0x01, 0x61, 0x62, 0x63), packet: { op: 'DATA', block: 1, data: Buffer.from('abc') } },
  { name: 'DATA block 65535, empty', wire: bytes(0x00, 0x03, 0xff, 0xff), packet: { op: 'DATA', block: 65535, data: Buffer.alloc(0) } },
  { name: 'ACK block 0x1234', wire: bytes(0x00, 0x04, 0x12, 0x34), packet: { op: 'ACK', block: 0x1234 } },
  { name: 'ACK block 0 (acknowledges an OACK, RFC 2347 §3)', wire: bytes(0x00, 0x04, 0x00, 0x00), packet: { op: 'ACK', block: 0 } },
  {
    name: 'ERROR 1 "File not found"',
    wire: bytes(0x00, 0x05, 0x00, 0x01, z('File not found')),
    packet: { op: 'ERROR', code: 1, message: 'File not found' },
  },
  {
    name: 'OACK blksize 1468 tsize 123456',
    // 00 06 | "blksize" 00 "1468" 00 | "tsize" 00 "123456" 00
    wire: bytes(0x00, 0x06, [0x62, 0x6c, 0x6b, 0x73, 0x69, 0x7a, 0x65, 0x00], [0x31, 0x34, 0x36, 0x38, 0x00], z('tsize'), z('123456')),
    packet: {
      op: 'OACK',
      options: new Map([
        ['blksize', '1468'],
        ['tsize', '123456'],
      ]),
    },
  },
];

t.test('R-21 golden packets decode to their model and encode to the same bytes', async (t) => {
  for (const g of golden) {
    t.same(decodeTftp(g.wire), g.packet, `decode: ${g.name}`);
    t.same([...encodeTftp(g.packet)], [...g.wire], `encode: ${g.name}`);
  }
});

t.test('R-21 mode and option names are case-insensitive (RFC 1350 §5, RFC 2347 §2)', async (t) => {
  const p = decodeTftp(bytes(0, 1, z('Boot\\x64\\BCD'), z('OcTeT'), z('BlkSize'), z('1456'), z('TSIZE'), z('0')));
  t.same(p, { op: 'RRQ', filename: 'Boot\\x64\\BCD', mode: 'octet', options: new Map([['blksize', '1456'], ['tsize', '0']]) });
  t.equal((decodeTftp(bytes(0, 1, z('a'), z('NETASCII'))) as { mode: string }).mode, 'netascii');
});

t.test('R-32 tolerated quirks: NUL padding after a request, ACK padding, ERROR without its NUL', async (t) => {
  t.same(decodeTftp(bytes(0, 1, z('f'), z('octet'), z('tsize'), z('0'), 0, 0, 0)), {
    op: 'RRQ',
    filename: 'f',
    mode: 'octet',
    options: new Map([['tsize', '0']]),
  });
  t.same(decodeTftp(bytes(0, 4, 0, 7, 0, 0)), { op: 'ACK', block: 7 });
  t.same(decodeTftp(bytes(0, 5, 0, 8, 0x6e, 0x6f)), { op: 'ERROR', code: 8, message: 'no' });
});

t.test('writeDataHeader lays out opcode 3 and the block number big-endian', async (t) => {
  const b = Buffer.alloc(6, 0xee);
  writeDataHeader(b, 0xabcd);
  t.same([...b], [0x00, 0x03, 0xab, 0xcd, 0xee, 0xee]);
});

const long = (n: number): string => 'a'.repeat(n);

t.test('R-32 hostile datagrams each raise their specific WireError', async (t) => {
  const cases: [string, Buffer, string][] = [
    ['empty datagram', bytes(), 'truncated'],
    ['one byte', bytes(0), 'truncated'],
    ['opcode 0', bytes(0, 0, 1, 2), 'bad-opcode'],
    ['opcode 9', bytes(0, 9), 'bad-opcode'],
    ['opcode 0x0101', bytes(1, 1, 0), 'bad-opcode'],
    ['RRQ filename without NUL', bytes(0, 1, 0x61, 0x62), 'missing-nul'],
    ['RRQ without a mode', bytes(0, 1, z('file')), 'missing-nul'],
    ['RRQ mode without NUL', bytes(0, 1, z('file'), 0x6f, 0x63), 'missing-nul'],
    ['RRQ empty filename', bytes(0, 1, 0, z('octet')), 'empty-filename'],
    ['RRQ mode "mail" (obsolete)', bytes(0, 1, z('f'), z('mail')), 'bad-mode'],
    ['RRQ mode "binary"', bytes(0, 1, z('f'), z('binary')), 'bad-mode'],
    ['RRQ over-long mode', bytes(0, 1, z('f'), z(long(300))), 'bad-mode'],
    ['RRQ filename of 513 bytes', bytes(0, 1, z(long(513)), z('octet')), 'filename-too-long'],
    ['RRQ filename of 4000 bytes without NUL', bytes(0, 1, [...Buffer.from(long(4000))]), 'filename-too-long'],
    ['WRQ filename of 513 bytes', bytes(0, 2, z(long(513)), z('octet')), 'filename-too-long'],
    ['duplicate option', bytes(0, 1, z('f'), z('octet'), z('blksize'), z('512'), z('blksize'), z('1468')), 'duplicate-option'],
    ['duplicate option differing in case', bytes(0, 1, z('f'), z('octet'), z('tsize'), z('0'), z('TSize'), z('0')), 'duplicate-option'],
    ['option without a value', bytes(0, 1, z('f'), z('octet'), z('blksize')), 'missing-option-value'],
    ['option value without NUL', bytes(0, 1, z('f'), z('octet'), z('blksize'), 0x31, 0x34), 'missing-nul'],
    ['option name without NUL', bytes(0, 1, z('f'), z('octet'), 0x62, 0x6c), 'missing-nul'],
    ['empty option name before more data', bytes(0, 1, z('f'), z('octet'), 0, z('x'), z('1')), 'bad-option'],
    ['option name of 256 bytes', bytes(0, 1, z('f'), z('octet'), z(long(256)), z('1')), 'option-too-long'],
    ['option value of 256 bytes', bytes(0, 1, z('f'), z('octet'), z('x'), z(long(256))), 'option-too-long'],
    ['17 options', bytes(0, 1, z('f'), z('octet'), ...Array.from({ length: 17 }, (_, i) => [...z(`o${i}`), ...z('1')])), 'too-many-options'],
    ['DATA without a block number', bytes(0, 3, 0), 'truncated'],
    ['DATA of 65465 bytes', bytes(0, 3, 0, 1, [...Buffer.alloc(65465)]), 'data-too-long'],
    ['ACK of 3 bytes', bytes(0, 4, 1), 'truncated'],
    ['ERROR without a code', bytes(0, 5, 0), 'truncated'],
    ['ERROR message of 2000 bytes', bytes(0, 5, 0, 0, [...Buffer.from(long(2000))]), 'message-too-long'],
    ['OACK duplicate option', bytes(0, 6, z('tsize'), z('1'), z('tsize'), z('2')), 'duplicate-option'],
    ['OACK option without a value', bytes(0, 6, z('tsize')), 'missing-option-value'],
  ];
  for (const [name, wire, expected] of cases) t.equal(code(() => decodeTftp(wire)), expected, name);
  t.equal(code(() => decodeTftp(bytes(0, 1, z(long(512)), z('octet')))), 'no error', 'a 512-byte filename is accepted');
  t.equal(code(() => decodeTftp(bytes(0, 3, 0, 1, [...Buffer.alloc(65464)]))), 'no error', 'DATA of 65464 bytes is accepted');
});

t.test('R-32 the encoder refuses what cannot be on the wire', async (t) => {
  const rrq = (filename: string, options = new Map<string, string>()): TftpPacket => ({ op: 'RRQ', filename, mode: 'octet', options });
  t.equal(code(() => encodeTftp({ op: 'ACK', block: 65536 })), 'out-of-range');
  t.equal(code(() => encodeTftp({ op: 'ACK', block: -1 })), 'out-of-range');
  t.equal(code(() => encodeTftp({ op: 'ERROR', code: 70000, message: 'x' })), 'out-of-range');
  t.equal(code(() => encodeTftp({ op: 'ERROR', code: 0, message: long(1025) })), 'message-too-long');
  t.equal(code(() => encodeTftp(rrq(''))), 'empty-filename');
  t.equal(code(() => encodeTftp(rrq(long(513)))), 'filename-too-long');
  t.equal(code(() => encodeTftp(rrq('a\0b'))), 'bad-string');
  t.equal(code(() => encodeTftp(rrq('f', new Map([['', '1']])))), 'bad-option');
  t.equal(code(() => encodeTftp(rrq('f', new Map([['x', long(256)]])))), 'option-too-long');
  t.equal(code(() => encodeTftp(rrq('f', new Map([['blksize', '1'], ['BLKSIZE', '2']])))), 'duplicate-option');
  t.equal(code(() => encodeTftp(rrq('f', new Map(Array.from({ length: 17 }, (_, i) => [`o${i}`, '1']))))), 'too-many-options');
  t.equal(code(() => encodeTftp({ op: 'DATA', block: 1, data: Buffer.alloc(65465) })), 'data-too-long');
});

const text = (max: number) => fc.string({ minLength: 1, maxLength: max }).filter((s) => !s.includes('\0'));
const optionsArb = fc
  .uniqueArray(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,11}$/), fc.string({ maxLength: 12 }).filter((s) => !s.includes('\0'))), {
    selector: ([name]) => name,
    maxLength: 16,
  })
  .map((entries) => new Map(entries));
const packetArb: fc.Arbitrary<TftpPacket> = fc.oneof(
  fc.record({ op: fc.constantFrom('RRQ' as const, 'WRQ' as const), filename: text(200), mode: fc.constantFrom('octet' as const, 'netascii' as const), options: optionsArb }),
  fc.record({ op: fc.constant('DATA' as const), block: fc.integer({ min: 0, max: 65535 }), data: fc.uint8Array({ maxLength: 1500 }).map((a) => Buffer.from(a)) }),
  fc.record({ op: fc.constant('ACK' as const), block: fc.integer({ min: 0, max: 65535 }) }),
  fc.record({ op: fc.constant('ERROR' as const), code: fc.integer({ min: 0, max: 65535 }), message: fc.string({ maxLength: 100 }).filter((s) => !s.includes('\0')) }),
  fc.record({ op: fc.constant('OACK' as const), options: optionsArb }),
);

t.test('fast-check: every packet survives encode → decode unchanged', async (t) => {
  fc.assert(
    fc.property(packetArb, (p) => isDeepStrictEqual(decodeTftp(encodeTftp(p)), { ...p })),
    { numRuns: 1000 },
  );
  t.pass('1000 random packets round-tripped');
});

t.test('fast-check: random and mutated datagrams only ever raise WireError', async (t) => {
  const onlyWireErrors = (b: Uint8Array): boolean => {
    try {
      decodeTftp(b);
    } catch (e) {
      return e instanceof WireError;
    }
    return true;
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 700 }), onlyWireErrors), { numRuns: 2000 });
  // Valid packets with bytes flipped or cut short: the shapes a corrupted datagram takes.
  fc.assert(
    fc.property(packetArb, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (p, at, value, cut) => {
      const wire = Buffer.from(encodeTftp(p));
      const i = at % Math.max(1, wire.length);
      if (cut) return onlyWireErrors(wire.subarray(0, i));
      wire[i] = value;
      return onlyWireErrors(wire);
    }),
    { numRuns: 2000 },
  );
  t.pass('no other exception escaped');
});

t.test('Reader and Writer bounds (shared with the DHCP codec)', async (t) => {
  const r = new Reader(bytes(0xff, 0xff, 0xff, 0xff, 0x01, 0x61, 0x00));
  t.equal(r.u32(), 0xffffffff, 'u32 stays unsigned');
  t.equal(r.u8(), 1);
  t.equal(r.cstring(1), 'a');
  t.equal(r.remaining, 0);
  t.equal(code(() => r.u8()), 'truncated');
  t.equal(code(() => new Reader(bytes(1, 2, 3)).bytes(4)), 'truncated');
  t.equal(code(() => new Reader(bytes(0x61, 0x62, 0x63, 0)).cstring(2)), 'too-long');
  t.equal(code(() => new Reader(bytes(0x61, 0x62)).cstring(5)), 'missing-nul');
  const view = new Reader(bytes(9, 8, 7, 6), 1, 3);
  t.same([...view.rest()], [8, 7], 'a window never reads outside start..end');
  t.same([...new Writer(1).u8(1).u16(0x0203).u32(0x04050607).cstring('z').zeros(2).finish()], [1, 2, 3, 4, 5, 6, 7, 0x7a, 0, 0, 0], 'the writer grows');
  t.equal(code(() => new Writer(2, { fixed: true }).u16(1).u8(1)), 'overflow');
  t.equal(code(() => new Writer().u8(256)), 'out-of-range');
  t.equal(code(() => new Writer().u16(1.5)), 'out-of-range');
});
