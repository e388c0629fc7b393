/**
 * Golden DHCP requests (DESIGN.md lesson 2): each fixture's `.hex` is written by the independent
 * builder in test/fixtures/dhcp, decodes to the committed `.txt` dump, and re-encodes byte-exact.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bootFileField,
  clientArchitectures,
  clientMachineId,
  clientNetworkInterface,
  decodeDhcp,
  encodeDhcp,
  formatDhcp,
  ipxeOptions,
  maxMessageSize,
  messageType,
  parameterRequestList,
  pxeVendorOptions,
  relayAgentInformation,
  serverIdentifier,
  userClasses,
  vendorClass,
} from '../../../server/wire/dhcp/index.js';
import { bytesOf, hexText, parseHex } from '../../fixtures/dhcp/builder.js';
import { FIXTURES } from '../../fixtures/dhcp/fixtures.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/dhcp');
const fixture = (name: string) => parseHex(readFileSync(path.join(dir, `${name}.hex`), 'utf8'));

for (const f of FIXTURES) {
  t.test(`golden ${f.name}`, async (t) => {
    const hex = readFileSync(path.join(dir, `${f.name}.hex`), 'utf8');
    t.equal(hex, hexText(f), 'the committed .hex is what the independent builder writes (regenerate with write-fixtures.ts)');
    const bytes = parseHex(hex);
    t.same(bytes, bytesOf(f));
    const packet = decodeDhcp(bytes);
    t.equal(formatDhcp(packet), readFileSync(path.join(dir, `${f.name}.txt`), 'utf8'), 'decodes to the committed dump');
    const again = encodeDhcp(packet);
    t.ok(again.equals(bytes), `re-encodes byte-exact (${bytes.length} octets)`);
  });
}

t.test('legacy BIOS ROM: fields a proxy needs, read through the typed accessors', async (t) => {
  const p = decodeDhcp(fixture('bios-pxe-rom'));
  t.equal(p.xid, 0x8b0f7475);
  t.equal(p.flags, 0x8000);
  t.equal(messageType(p), 1);
  t.equal(vendorClass(p), 'PXEClient:Arch:00000:UNDI:002001');
  t.same(clientArchitectures(p), [0]);
  t.same(clientNetworkInterface(p), { type: 1, major: 2, minor: 1 });
  t.equal(maxMessageSize(p), 1260);
  t.same(parameterRequestList(p).slice(-8), [128, 129, 130, 131, 132, 133, 134, 135], 'asks for the PXE options 128–135');
  t.equal(clientMachineId(p)?.id.toString('hex'), 'd66ef100a6d711df9f1af938a66fc054');
  t.equal(p.trailer?.length, 200, '200 PAD octets after END pad the frame to 548');
});

t.test('iPXE: bare user class and option 175', async (t) => {
  const p = decodeDhcp(fixture('ipxe'));
  t.same(userClasses(p), ['iPXE'], 'iPXE sends "iPXE" without the RFC 3004 length octet');
  const subs = ipxeOptions(p)!;
  t.equal(subs.length, 13);
  t.same(subs[0], { code: 177, data: Buffer.from([1, 0x1a, 0xf4, 0x10, 0]) }, 'bus id: PCI virtio-net');
  t.ok(subs.some((s) => s.code === 19), 'HTTP feature indicator');
});

t.test('relayed: giaddr, hops and option 82 sub-options', async (t) => {
  const p = decodeDhcp(fixture('relayed'));
  t.equal(p.giaddr, '10.20.30.1');
  t.equal(p.hops, 1);
  t.same(relayAgentInformation(p), [
    { code: 1, data: Buffer.from('0004000a010c', 'hex') },
    { code: 2, data: Buffer.from('0006001b54c23a80', 'hex') },
  ]);
});

t.test('overload: options come from file and sname, and a split option 60 is concatenated', async (t) => {
  const p = decodeDhcp(fixture('pxe-request-overload'));
  t.equal(p.file, '', 'the file field holds options, not a name');
  t.equal(bootFileField(p), '');
  t.equal(vendorClass(p), 'PXEClient:Arch:00000:UNDI:002001', 'RFC 3396: options field part + file part');
  t.same(pxeVendorOptions(p)?.bootItem, { type: 0, layer: 0 }, 'option 43 from the file field');
  t.equal(clientMachineId(p)?.id.toString('hex'), 'd66ef100a6d711df9f1af938a66fc054', 'option 97 from the sname field');
  t.equal(serverIdentifier(p), '10.20.30.5');
  t.equal(messageType(p), 3);
});
