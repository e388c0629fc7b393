/**
 * classify(): which packets the proxy answers and what it learns about the machine.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { classify, smbiosUuidFromGuid, bootFactsOf, type Classification, type PxeFacts, type Via } from '../../../server/pxe/classify.js';
import { decodeDhcp, type DhcpPacket } from '../../../server/wire/dhcp/index.js';
import { END, bytesOf, header, o, option, parseHex, type Chunk } from '../../fixtures/dhcp/builder.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/dhcp');
const fixture = (name: string): DhcpPacket => decodeDhcp(parseHex(readFileSync(path.join(dir, `${name}.hex`), 'utf8')));

const SERVER = '10.20.30.5';
const DHCP: Via = { role: 'dhcp', address: '0.0.0.0', port: 68 };
const PXE: Via = { role: 'pxe', address: '10.20.30.57', port: 4011 };

function facts(c: Classification): PxeFacts {
  if (c.kind !== 'pxe') throw new Error(`expected a PXE client, got ignore: ${c.reason}`);
  return c.facts;
}
function reason(c: Classification): string {
  if (c.kind !== 'ignore') throw new Error(`expected ignore, got a ${c.facts.clientKind} client`);
  return c.reason;
}

/** A request built octet by octet; `mac` and `head` override the defaults. */
function request(options: readonly Chunk[], head: Partial<Parameters<typeof header>[0]> = {}): DhcpPacket {
  return decodeDhcp(bytesOf({ name: 'x', about: [], chunks: [...header({ xid: 7, secs: 0, flags: 0, mac: '02:11:22:33:44:55', ...head }), ...options, END] }));
}
const discover = (...extra: Chunk[]) => [o.messageType(1, 'DISCOVER'), ...extra];
const pxeClient = (arch = 7) => [o.arch(arch), o.vendorClass(`PXEClient:Arch:${String(arch).padStart(5, '0')}:UNDI:003016`)];

t.test('each firmware kind of the golden fixtures', async (t) => {
  const table: Array<[string, Via, Partial<PxeFacts>]> = [
    ['bios-pxe-rom', DHCP, { architecture: 'x86', firmware: 'bios', clientKind: 'firmware', archType: 0, macAddresses: ['20:6a:8a:0f:74:75'], smbiosUuid: '00f16ed6-d7a6-df11-9f1a-f938a66fc054', broadcast: true, vendorClass: 'PXEClient' }],
    ['uefi-x64', DHCP, { architecture: 'x64', firmware: 'uefi', clientKind: 'firmware', archType: 7, macAddresses: ['00:15:5d:cd:6b:04'], smbiosUuid: '72b0516d-befd-4708-a8dc-24601319cd38' }],
    ['uefi-arm64', DHCP, { architecture: 'arm64', firmware: 'uefi', clientKind: 'firmware', archType: 11, smbiosUuid: '8f3c2b1a-5d4e-4f60-9a7b-0c1d2e3f4a5b' }],
    ['ipxe', DHCP, { architecture: 'x86', firmware: 'bios', clientKind: 'ipxe', archType: 0, smbiosUuid: 'f7b4d8c9-cce8-418c-8b52-8a6f124e8655', broadcast: false }],
    ['uefi-http', DHCP, { architecture: 'x64', firmware: 'uefi', clientKind: 'httpBoot', archType: 16, vendorClass: 'HTTPClient' }],
    ['relayed', DHCP, { architecture: 'x86', giaddr: '10.20.30.1', smbiosUuid: '00000000-0000-0000-0000-ac1f6b01e738', clientKind: 'firmware' }],
    ['pxe-request-overload', PXE, { messageType: 3, role: 'pxe', ciaddr: '10.20.30.57', bootItem: { type: 0, layer: 0 }, vendorClass: 'PXEClient', architecture: 'x86' }],
  ];
  for (const [name, via, expected] of table) t.match(facts(classify(fixture(name), via)), expected, name);
});

t.test('R-18: only PXE and HTTP-boot requests are answered', async (t) => {
  const c = (p: DhcpPacket, via = DHCP) => classify(p, via);
  t.match(reason(c(request([o.messageType(2, 'OFFER'), ...pxeClient()], { op: 2 }))), /BOOTREPLY/);
  t.match(reason(c(request(pxeClient()))), /plain BOOTP/);
  t.match(reason(c(request([o.messageType(7, 'RELEASE'), ...pxeClient()]))), /DHCPRELEASE is not answered/);
  t.match(reason(c(request([o.messageType(4, 'DECLINE'), ...pxeClient()]))), /DHCPDECLINE/);
  t.match(reason(c(request(discover(o.vendorClass('MSFT 5.0'))))), /not a PXE or HTTP-boot client \(option 60 "MSFT 5.0"\)/);
  t.match(reason(c(request(discover()))), /no option 60/);
  t.match(reason(c(request(discover(...pxeClient()), { mac: '00:00:00:00:00:00' }))), /no usable client hardware address/);
  t.match(reason(c(request(discover(...pxeClient()), { mac: 'ff:ff:ff:ff:ff:ff' }))), /no usable client hardware address/, 'broadcast chaddr');
  t.match(reason(c(request(discover(...pxeClient()), { mac: '01:00:5e:00:00:01' }))), /no usable client hardware address/, 'multicast chaddr');
  const short = bytesOf({ name: 'x', about: [], chunks: [...header({ xid: 7, secs: 0, flags: 0, mac: '02:11:22:33' }), ...discover(...pxeClient()), END] });
  short[2] = 4;
  t.match(reason(c(decodeDhcp(short))), /htype 1, hlen 4/, 'hlen is not 6');
  short[1] = 32;
  t.match(reason(c(decodeDhcp(short))), /htype 32/, 'InfiniBand: no MAC in chaddr');
  t.match(reason(c(request(discover(...pxeClient()), { op: 1, mac: '02:11:22:33:44:55' }), PXE)), /DHCPDISCOVER to the PXE boot server port/);
});

t.test('a DHCPREQUEST is answered on port 4011 only; on 67 it belongs to the network\'s DHCP server', async (t) => {
  const req = (...extra: Chunk[]) => request([o.messageType(3, 'REQUEST'), ...pxeClient(), ...extra]);
  t.match(reason(classify(req(o.serverId('10.20.30.1')), DHCP)), 'DHCPREQUEST to the proxyDHCP port is for the network\'s DHCP server');
  t.match(reason(classify(req(o.serverId(SERVER)), DHCP)), /ProxyDHCPREQUESTs come to port 4011/, 'even one naming us: no ACK for address 0.0.0.0');
  t.match(reason(classify(req(), DHCP)), /network's DHCP server/);
  t.equal(facts(classify(req(o.serverId(SERVER)), PXE)).role, 'pxe', 'on 4011 a REQUEST is for us');
  t.equal(facts(classify(req(), PXE)).messageType, 3);
  t.equal(facts(classify(request([o.messageType(8, 'INFORM'), ...pxeClient()], { ciaddr: '10.20.30.57' }), DHCP)).messageType, 8, 'DHCPINFORM on 67: answered, unicast to ciaddr');
});

t.test('architecture: option 93 per RFC 4578 and the IANA registry', async (t) => {
  const arch = (chunks: Chunk[]) => classify(request(discover(...chunks)), DHCP);
  const vc = o.vendorClass('PXEClient');
  const table: Array<[number, string, string]> = [
    [0, 'x86', 'bios'],
    [6, 'x86', 'uefi'],
    [7, 'x64', 'uefi'],
    [9, 'x64', 'uefi'],
    [11, 'arm64', 'uefi'],
    [15, 'x86', 'uefi'],
    [16, 'x64', 'uefi'],
    [19, 'arm64', 'uefi'],
  ];
  for (const [type, architecture, firmware] of table) t.match(facts(arch([o.arch(type), vc])), { architecture, firmware, archType: type }, `type ${type}`);
  t.equal(facts(arch([o.arch(19), o.vendorClass('HTTPClient:Arch:00019:UNDI:003000')])).clientKind, 'httpBoot');
  t.match(reason(arch([o.arch(10), vc])), 'unsupported client architecture ARM 32-bit UEFI');
  t.match(reason(arch([o.arch(99), vc])), 'unsupported client architecture type 99');
  t.equal(facts(arch([o.arch(10, 11), vc])).archType, 11, 'the first type we can boot, in the client\'s order');
  t.equal(facts(arch([o.vendorClass('PXEClient:Arch:00007:UNDI:003000')])).architecture, 'x64', 'no option 93: the Arch field of option 60');
  t.match(facts(arch([vc])), { architecture: 'x86', firmware: 'bios' }, 'neither: a PXE 2.0 ROM, x86 BIOS');
  t.match(reason(arch([option(93, [0, 7, 1], 'odd'), vc])), /malformed option 93/);
});

t.test('R-17 identity: option 97 in EFI GUID byte order, placeholders and junk dropped', async (t) => {
  t.equal(smbiosUuidFromGuid(Buffer.from('33221100554477668899aabbccddeeff', 'hex')), '00112233-4455-6677-8899-aabbccddeeff', 'first three fields little-endian');
  const uuid = (chunk: Chunk) => facts(classify(request(discover(...pxeClient(), chunk)), DHCP));
  t.match(uuid(o.guid('0'.repeat(32))), { smbiosUuid: null, uuidNote: /placeholder/ }, 'all-zero UUID identifies nothing');
  t.match(uuid(o.guid('f'.repeat(32))), { smbiosUuid: null, uuidNote: /placeholder/ }, 'all-FF');
  t.match(uuid(option(97, [0, 1, 2, 3], 'short')), { smbiosUuid: null, uuidNote: /not a GUID/ });
  t.match(uuid(option(97, [1, ...new Array<number>(16).fill(7)], 'type 1')), { smbiosUuid: null, uuidNote: /type 1/ });
  t.match(uuid(option(97, [], 'empty')), { smbiosUuid: null, uuidNote: /malformed option 97/ });
  t.match(uuid(o.vendorClass('x')), { smbiosUuid: null, uuidNote: null }, 'no option 97');
});

t.test('iPXE is recognised by user class or option 175 alone', async (t) => {
  const kind = (...extra: Chunk[]) => facts(classify(request(discover(...pxeClient(), ...extra)), DHCP)).clientKind;
  t.equal(kind(o.userClassRaw('iPXE')), 'ipxe');
  t.equal(kind(option(77, [4, ...Buffer.from('iPXE')], 'RFC 3004 form')), 'ipxe');
  t.equal(kind(option(175, [19, 1, 1], 'features')), 'ipxe');
  t.equal(kind(o.userClassRaw('gPXE')), 'firmware');
  t.equal(kind(), 'firmware');
});

t.test('bootFactsOf: a network boot is a PXE boot to policy', async (t) => {
  const f = facts(classify(fixture('uefi-x64'), DHCP));
  t.same(bootFactsOf(f), { macAddresses: ['00:15:5d:cd:6b:04'], smbiosUuid: '72b0516d-befd-4708-a8dc-24601319cd38', architecture: 'x64', source: 'pxe' });
});
