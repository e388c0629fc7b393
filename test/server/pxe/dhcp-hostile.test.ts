/**
 * Hostile input (R-32, DESIGN.md lesson 3): every way a datagram can be wrong fails with its own
 * WireError code, and nothing — random bytes, mutated captures — throws anything else.
 */
import t from 'tap';
import fc from 'fast-check';
import {
  WireError,
  clientArchitectures,
  clientMachineId,
  clientNetworkInterface,
  decodeDhcp,
  decodePxeVendorOptions,
  encodeDhcp,
  encodePxeVendorOptions,
  formatDhcp,
  ipxeOptions,
  messageType,
  pxeVendorOptions,
  relayAgentInformation,
  serverIdentifier,
  userClasses,
  vendorClass,
  type DhcpPacket,
} from '../../../server/wire/dhcp/index.js';
import { classify } from '../../../server/pxe/classify.js';
import { END, bytesOf, header, o, option, pad, type Chunk } from '../../fixtures/dhcp/builder.js';
import { FIXTURES } from '../../fixtures/dhcp/fixtures.js';

/** A DISCOVER with the given option chunks (END is not added). */
function packet(options: readonly Chunk[], head: Partial<Parameters<typeof header>[0]> = {}): Buffer {
  return bytesOf({ name: 'x', about: [], chunks: [...header({ xid: 1, secs: 0, flags: 0, mac: '02:00:00:00:00:01', ...head }), ...options] });
}
const ok = (...extra: Chunk[]) => packet([o.messageType(1, 'DISCOVER'), ...extra, END]);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof WireError) return e.code;
    throw e;
  }
  return 'no error';
}

t.test('each malformed datagram fails with its own WireError code', async (t) => {
  const cases: Array<[string, () => unknown, string]> = [
    ['truncated header (100 octets)', () => decodeDhcp(Buffer.alloc(100)), 'truncated-header'],
    ['empty datagram', () => decodeDhcp(Buffer.alloc(0)), 'truncated-header'],
    ['header without cookie (plain BOOTP, 236 octets)', () => decodeDhcp(ok().subarray(0, 236)), 'bad-magic-cookie'],
    ['wrong magic cookie', () => decodeDhcp(Buffer.concat([ok().subarray(0, 236), Buffer.from([99, 130, 83, 98]), ok().subarray(240)])), 'bad-magic-cookie'],
    ['oversize (1501 octets)', () => decodeDhcp(Buffer.concat([ok(), Buffer.alloc(1501 - ok().length)])), 'oversize'],
    ['op 3', () => decodeDhcp(packet([END], { op: 3 })), 'bad-op'],
    ['hlen 17', () => decodeDhcp(Buffer.from(ok()).fill(17, 2, 3)), 'bad-hlen'],
    ['option length past the end', () => decodeDhcp(packet([o.messageType(1, 'D'), { comment: '60 claims 200', bytes: [60, 200, 1, 2, 3] }])), 'option-overrun'],
    ['option code with no length octet', () => decodeDhcp(packet([o.messageType(1, 'D'), { comment: 'lone 60', bytes: [60] }])), 'option-overrun'],
    ['overload value 4', () => decodeDhcp(ok(option(52, [4], 'overload'))), 'bad-overload'],
    ['overload of 2 octets', () => decodeDhcp(ok(option(52, [1, 1], 'overload'))), 'bad-option-length'],
    ['overload inside the file field points at itself', () => decodeDhcp(packet([o.messageType(1, 'D'), option(52, [1], 'overload'), END], { file: [52, 1, 1, 255] })), 'overload-loop'],
    ['overload inside sname', () => decodeDhcp(packet([o.messageType(1, 'D'), option(52, [2], 'overload'), END], { sname: [52, 1, 2, 255] })), 'overload-loop'],
    ['overloaded file with an option overrunning the field', () => decodeDhcp(packet([o.messageType(1, 'D'), option(52, [1], 'overload'), END], { file: [...new Array(126).fill(0), 60, 9] })), 'option-overrun'],
    ['option 53 twice', () => decodeDhcp(packet([o.messageType(1, 'D'), o.messageType(3, 'R'), END])), 'duplicate-option'],
    ['option 53 again inside the overloaded file', () => decodeDhcp(packet([o.messageType(1, 'D'), option(52, [1], 'overload'), END], { file: [53, 1, 3, 255] })), 'duplicate-option'],
    ['option 54 twice', () => decodeDhcp(ok(o.serverId('10.0.0.1'), o.serverId('10.6.6.6'))), 'duplicate-option'],
    ['option 52 twice', () => decodeDhcp(ok(option(52, [1], 'a'), option(52, [1], 'b'))), 'duplicate-option'],
    ['option 53 of 2 octets', () => decodeDhcp(packet([option(53, [1, 1], 'message type'), END])), 'bad-option-length'],
    ['option 54 of 3 octets', () => decodeDhcp(ok(option(54, [10, 0, 0], 'server id'))), 'bad-option-length'],
    ['option 93 of odd length', () => clientArchitectures(decodeDhcp(ok(option(93, [0, 7, 1], 'arch')))), 'bad-option-length'],
    ['option 93 empty', () => clientArchitectures(decodeDhcp(ok(option(93, [], 'arch')))), 'bad-option-length'],
    ['option 94 of 2 octets', () => clientNetworkInterface(decodeDhcp(ok(option(94, [1, 2], 'nii')))), 'bad-option-length'],
    ['option 97 empty', () => clientMachineId(decodeDhcp(ok(option(97, [], 'guid')))), 'bad-option-length'],
    ['option 43 sub-option past its option', () => pxeVendorOptions(decodeDhcp(ok(option(43, [6, 5, 8], 'pxe')))), 'sub-option-overrun'],
    ['option 43 discovery control of 2 octets', () => pxeVendorOptions(decodeDhcp(ok(option(43, [6, 2, 8, 8, 255], 'pxe')))), 'bad-sub-option-length'],
    ['option 43 boot item of 3 octets', () => pxeVendorOptions(decodeDhcp(ok(option(43, [71, 3, 0, 0, 0, 255], 'pxe')))), 'bad-sub-option-length'],
    ['option 43 boot servers count past the data', () => pxeVendorOptions(decodeDhcp(ok(option(43, [8, 7, 0x80, 0, 2, 10, 0, 0, 1, 255], 'pxe')))), 'bad-sub-option-length'],
    ['option 43 boot menu description past the data', () => pxeVendorOptions(decodeDhcp(ok(option(43, [9, 5, 0, 0, 9, 65, 66, 255], 'pxe')))), 'bad-sub-option-length'],
    ['option 82 sub-option past its option', () => relayAgentInformation(decodeDhcp(ok(option(82, [1, 9, 0, 0], 'relay')))), 'sub-option-overrun'],
    ['option 175 sub-option with no length', () => ipxeOptions(decodeDhcp(ok(option(175, [19], 'ipxe')))), 'sub-option-overrun'],
  ];
  for (const [name, fn, expected] of cases) t.equal(code(fn), expected, name);
});

t.test('tolerated oddities decode and round-trip exactly', async (t) => {
  const noEnd = packet([o.messageType(1, 'D'), o.vendorClass('PXEClient')]);
  const p = decodeDhcp(noEnd);
  t.equal(p.end, false, 'a missing END is tolerated and remembered');
  t.equal(vendorClass(p), 'PXEClient');
  t.ok(encodeDhcp(p).equals(noEnd));

  const pads = packet([pad(3), o.messageType(1, 'D'), pad(1000)]);
  const started = process.hrtime.bigint();
  const q = decodeDhcp(pads);
  t.ok(process.hrtime.bigint() - started < 50_000_000n, 'a run of 1,000 PADs decodes in linear time');
  t.equal(q.options.filter((x) => x.code === 0).length, 1003, 'PADs before END are kept, so the packet re-encodes exactly');
  t.equal(messageType(q), 1);
  t.ok(encodeDhcp(q).equals(pads));
  t.match(formatDhcp(q), /PAD x1000/, 'the dump collapses PAD runs');

  const garbageTrailer = Buffer.concat([ok(), Buffer.from('not zero')]);
  t.ok(encodeDhcp(decodeDhcp(garbageTrailer)).equals(garbageTrailer), 'bytes after END are kept as they were');

  const split = ok(option(60, [...Buffer.from('PXECl')], 'first'), option(60, [...Buffer.from('ient:Arch:00007')], 'second'));
  t.equal(vendorClass(decodeDhcp(split)), 'PXEClient:Arch:00007', 'RFC 3396: a variable-length option given twice is concatenated');
});

t.test('typed accessors: RFC 3004 user classes, trailing NULs, sub-option PAD and END', async (t) => {
  t.same(userClasses(decodeDhcp(ok(option(77, [4, ...Buffer.from('iPXE'), 3, ...Buffer.from('lab')], 'uc')))), ['iPXE', 'lab'], 'length-prefixed list');
  t.same(userClasses(decodeDhcp(ok(option(77, [...Buffer.from('MSFT 5.0')], 'uc')))), ['MSFT 5.0'], 'bare string');
  t.same(userClasses(decodeDhcp(ok(option(77, [0, 1], 'uc')))), ['\u0000\u0001'], 'a zero-length class is not RFC 3004: one opaque class');
  t.equal(vendorClass(decodeDhcp(ok(option(60, [...Buffer.from('PXEClient'), 0], 'vc')))), 'PXEClient', 'a trailing NUL is not part of the text');
  t.same(pxeVendorOptions(decodeDhcp(ok(option(43, [0, 0, 6, 1, 8, 255, 6, 1, 3], 'pxe')))), { discoveryControl: 8 }, 'PADs skipped, nothing read after END');
  t.equal(serverIdentifier(decodeDhcp(ok())), undefined);
});

t.test('option 43: every typed PXE sub-option survives encode → decode', async (t) => {
  const all = {
    discoveryControl: 7,
    multicastAddress: '224.0.1.2',
    bootServers: [{ type: 0x8000, addresses: ['10.0.0.5', '10.0.0.6'] }, { type: 0, addresses: [] }],
    bootMenu: [{ type: 0x8000, description: 'osdeploy' }, { type: 0, description: 'Local boot' }],
    menuPrompt: { timeout: 10, prompt: 'Press F8' },
    bootItem: { type: 0x8000, layer: 0 },
    other: [{ code: 99, data: Buffer.from([1, 2]) }],
  };
  const bytes = encodePxeVendorOptions(all);
  t.same(decodePxeVendorOptions(bytes), all);
  t.equal(bytes[bytes.length - 1], 255, 'ends with PXE END');
  t.equal(code(() => encodePxeVendorOptions({ discoveryControl: 256 })), 'bad-field');
  t.equal(code(() => encodePxeVendorOptions({ bootItem: { type: 70000, layer: 0 } })), 'bad-field');
  t.equal(code(() => encodePxeVendorOptions({ other: [{ code: 255, data: Buffer.alloc(0) }] })), 'bad-field', 'END cannot be a sub-option');
});

/** Everything a hostile packet can reach: decode, every accessor, the dump, classify. */
function touchEverything(buf: Buffer): void {
  let p: DhcpPacket;
  try {
    p = decodeDhcp(buf);
  } catch (e) {
    if (e instanceof WireError) return;
    throw e;
  }
  if (!encodeDhcp(p).equals(buf)) throw new Error('a decodable datagram did not re-encode byte-exact');
  formatDhcp(p);
  for (const read of [messageType, serverIdentifier, vendorClass, userClasses, clientArchitectures, clientNetworkInterface, clientMachineId, pxeVendorOptions, relayAgentInformation, ipxeOptions]) {
    try {
      read(p);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
    }
  }
  for (const role of ['dhcp', 'pxe'] as const) classify(p, { role, address: '10.0.0.9', port: 68 });
}

t.test('fast-check: random datagrams only ever raise WireError, and whatever decodes re-encodes exactly', async (t) => {
  const head = Buffer.from(ok().subarray(0, 240));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1600 }), (bytes) => touchEverything(Buffer.from(bytes))),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (tail, bootReply) => {
      const buf = Buffer.concat([head, tail]);
      if (bootReply) buf[0] = 2;
      touchEverything(buf);
    }),
    { numRuns: 5000 },
  );
  // Mutations of the real-world fixtures: flipped octets and truncations.
  const fixtures = FIXTURES.map(bytesOf);
  fc.assert(
    fc.property(fc.nat({ max: fixtures.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(), (i, flips, cut) => {
      const buf = Buffer.from(fixtures[i]!);
      for (const [at, value] of flips) buf[at % buf.length] = value;
      touchEverything(buf.subarray(0, buf.length - (cut % 64)));
    }),
    { numRuns: 5000 },
  );
  t.pass('no exception but WireError');
});

const optionArb = fc.record({
  // Codes outside PAD/END and the fixed-length set, which may legally repeat (RFC 3396).
  code: fc.integer({ min: 1, max: 254 }).filter((c) => ![50, 51, 52, 53, 54, 57].includes(c)),
  data: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
});
const textArb = (max: number) => fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((n) => String.fromCharCode(n)), maxLength: max }).map((s) => s.replace(/\0+$/, ''));
const ipArb = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));

t.test('fast-check: generated packets survive encode → decode', async (t) => {
  fc.assert(
    fc.property(
      fc.record({
        op: fc.constantFrom(1, 2),
        htype: fc.nat(255),
        hlen: fc.nat(16),
        hops: fc.nat(255),
        xid: fc.nat(0xffffffff),
        secs: fc.nat(0xffff),
        flags: fc.nat(0xffff),
        ciaddr: ipArb,
        yiaddr: ipArb,
        siaddr: ipArb,
        giaddr: ipArb,
        chaddr: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a)),
        sname: textArb(64),
        file: textArb(128),
        options: fc.array(optionArb, { maxLength: 4 }),
        type: fc.integer({ min: 1, max: 8 }),
      }),
      ({ type, options, ...head }) => {
        const p: DhcpPacket = { ...head, options: [{ code: 53, data: Buffer.from([type]) }, ...options] };
        const bytes = encodeDhcp(p);
        const back = decodeDhcp(bytes);
        const { options: backOptions, end, trailer, ...backHead } = back;
        if (JSON.stringify(backHead) !== JSON.stringify(head)) throw new Error('header changed');
        if (!end || trailer === undefined || bytes.length < 300) throw new Error('END or minimum size missing');
        // Long values come back split in 255-octet instances; merged they are the same.
        const merged = (list: readonly { code: number; data: Buffer }[]) =>
          [...new Set(list.map((x) => x.code))].map((c) => [c, Buffer.concat(list.filter((x) => x.code === c).map((x) => x.data)).toString('hex')].join(':')).join(',');
        if (merged(backOptions) !== merged(p.options)) throw new Error('options changed');
        if (!encodeDhcp(back).equals(bytes)) throw new Error('not stable');
      },
    ),
    { numRuns: 1000 },
  );
  t.pass('round trip holds');
});

t.test('the encoder refuses what it cannot write, with codes', async (t) => {
  const base = decodeDhcp(ok());
  const cases: Array<[string, DhcpPacket, string]> = [
    ['file name of 129 octets', { ...base, file: 'x'.repeat(129) }, 'bad-field'],
    ['file name with a non-latin1 character', { ...base, file: 'boot\u20ac.efi' }, 'bad-field'],
    ['bad IPv4 address', { ...base, siaddr: '10.0.0.256' }, 'bad-field'],
    ['xid out of range', { ...base, xid: 2 ** 32 }, 'bad-field'],
    ['END given as an option', { ...base, options: [{ code: 255, data: Buffer.alloc(0) }] }, 'bad-field'],
    ['PAD with data', { ...base, options: [{ code: 0, data: Buffer.from([1]) }] }, 'bad-field'],
    ['option 52 without the areas it announces', { ...base, options: [...base.options, { code: 52, data: Buffer.from([3]) }] }, 'bad-overload'],
    ['an area without option 52', { ...base, fileArea: { options: [], end: true, trailer: Buffer.alloc(0) } }, 'bad-overload'],
    ['chaddr of 17 octets', { ...base, chaddr: Buffer.alloc(17) }, 'bad-field'],
    ['more than 1500 octets', { ...base, options: [{ code: 224, data: Buffer.alloc(1400) }] }, 'oversize'],
  ];
  for (const [name, p, expected] of cases) t.equal(code(() => encodeDhcp(p)), expected, name);
  const long = encodeDhcp({ ...base, options: [...base.options, { code: 224, data: Buffer.alloc(600, 7) }] });
  const back = decodeDhcp(long);
  t.same(back.options.filter((x) => x.code === 224).map((x) => x.data.length), [255, 255, 90], 'RFC 3396 §5: a 600-octet value is sent as three instances');
});
