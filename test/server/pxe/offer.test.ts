/**
 * buildReply() and replyDestination(): what each kind of client is told, where the answer goes,
 * and silence when policy says the machine has nothing to run.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { classify, type Via } from '../../../server/pxe/classify.js';
import { policyDecider } from '../../../server/pxe/decide.js';
import { DEFAULT_BOOT_FILES, buildReply, replyDestination, type ReplyConfig } from '../../../server/pxe/offer.js';
import { respond } from '../../../server/pxe/respond.js';
import {
  bootfileName,
  decodeDhcp,
  encodeDhcp,
  messageType,
  optionData,
  pxeVendorOptions,
  serverIdentifier,
  vendorClass,
  type DhcpPacket,
} from '../../../server/wire/dhcp/index.js';
import { END, bytesOf, header, o, option, pad, parseHex, sub } from '../../fixtures/dhcp/builder.js';
import { ALL_UNKNOWN_COMPUTERS_ID, DEFAULT_SITE_SETTINGS } from '../../../policy/index.js';
import { CUSTOM_TS_ID, SiteBuilder, T0 } from '../../fixtures/site-builder.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/dhcp');
const raw = (name: string): Buffer => parseHex(readFileSync(path.join(dir, `${name}.hex`), 'utf8'));
const fixture = (name: string): DhcpPacket => decodeDhcp(raw(name));

const ADV = '10.20.30.5';
const CONFIG: ReplyConfig = { advertiseAddress: ADV, httpPort: 8080, bootFiles: DEFAULT_BOOT_FILES };
const DHCP: Via = { role: 'dhcp', address: '0.0.0.0', port: 68 };
const PXE: Via = { role: 'pxe', address: '10.20.30.57', port: 4011 };
const YES = { answer: true } as const;

function reply(name: string, via: Via = DHCP, config: ReplyConfig = CONFIG): DhcpPacket {
  const request = fixture(name);
  const r = buildReply(request, classify(request, via), YES, config);
  if (!r) throw new Error('no reply');
  return decodeDhcp(encodeDhcp(r));
}
const file67 = (p: DhcpPacket) => ({ file: p.file, option67: bootfileName(p) ?? null });

t.test('each firmware kind gets its boot file or URL; no address is ever handed out', async (t) => {
  const table: Array<[string, { file: string; option67: string | null }, string]> = [
    ['bios-pxe-rom', { file: 'undionly.kpxe', option67: null }, 'PXEClient'],
    ['uefi-x64', { file: 'ipxe.efi', option67: null }, 'PXEClient'],
    ['uefi-arm64', { file: 'ipxe-arm64.efi', option67: null }, 'PXEClient'],
    ['relayed', { file: 'undionly.kpxe', option67: null }, 'PXEClient'],
    [
      'ipxe',
      {
        file: 'http://10.20.30.5:8080/boot.ipxe?mac=fa:16:5e:ec:78:e6&uuid=f7b4d8c9-cce8-418c-8b52-8a6f124e8655&arch=x86',
        option67: 'http://10.20.30.5:8080/boot.ipxe?mac=fa:16:5e:ec:78:e6&uuid=f7b4d8c9-cce8-418c-8b52-8a6f124e8655&arch=x86',
      },
      'PXEClient',
    ],
    ['uefi-http', { file: 'http://10.20.30.5:8080/boot/ipxe.efi', option67: 'http://10.20.30.5:8080/boot/ipxe.efi' }, 'HTTPClient'],
  ];
  for (const [name, boot, vc] of table) {
    const r = reply(name);
    const req = fixture(name);
    t.same(file67(r), boot, `${name}: boot file`);
    t.equal(vendorClass(r), vc, `${name}: option 60 echoes the client's class`);
    t.equal(r.yiaddr, '0.0.0.0', `${name}: proxyDHCP, no yiaddr`);
    t.equal(r.siaddr, ADV, `${name}: siaddr is the TFTP server`);
    t.equal(serverIdentifier(r), ADV, `${name}: option 54`);
    t.equal(messageType(r), 2, `${name}: DHCPOFFER`);
    t.equal(r.xid, req.xid);
    t.equal(r.flags, req.flags & 0x8000, `${name}: broadcast bit copied`);
    t.equal(r.ciaddr, '0.0.0.0');
    t.same(optionData(r, 97), optionData(req, 97), `${name}: option 97 echoed`);
    t.notOk(optionData(r, 51) ?? optionData(r, 1) ?? optionData(r, 3), `${name}: no lease, mask or router: the network's DHCP server owns those`);
    t.ok(encodeDhcp(r).length >= 300, 'at least the 300-octet BOOTP minimum');
  }
  t.same(pxeVendorOptions(reply('bios-pxe-rom')), { discoveryControl: 8 }, 'firmware: option 43 bit 3, boot the file without a menu');
  t.equal(optionData(reply('ipxe'), 43), undefined, 'iPXE gets no PXE menu options');
  t.equal(optionData(reply('uefi-http'), 43), undefined);
});

t.test('UEFI boot-file setting: snponly.efi and custom names', async (t) => {
  const files = { ...DEFAULT_BOOT_FILES, uefiX64: 'snponly.efi', arm64: 'arm64/snp.efi' };
  t.equal(reply('uefi-x64', DHCP, { ...CONFIG, bootFiles: files }).file, 'snponly.efi');
  t.equal(reply('uefi-arm64', DHCP, { ...CONFIG, bootFiles: files }).file, 'arm64/snp.efi');
  t.equal(reply('uefi-http', DHCP, { ...CONFIG, bootFiles: files, httpPort: 80 }).file, 'http://10.20.30.5/boot/snponly.efi', 'port 80 is left out of the URL');
});

t.test('iPXE on UEFI: the script URL says uefi=true; a long URL goes in option 67 only', async (t) => {
  const req = decodeDhcp(bytesOf({
    name: 'x', about: [],
    chunks: [...header({ xid: 9, secs: 0, flags: 0, mac: '52:54:00:00:00:09' }), o.messageType(1, 'D'), o.arch(7), o.vendorClass('PXEClient:Arch:00007:UNDI:003010'), o.userClassRaw('iPXE'), END],
  }));
  const r = buildReply(req, classify(req, DHCP), YES, CONFIG)!;
  t.equal(bootfileName(r), 'http://10.20.30.5:8080/boot.ipxe?mac=52:54:00:00:00:09&arch=x64&uefi=true', 'no uuid when the client sent none');
  const ipxe = fixture('ipxe');
  const r2 = buildReply(ipxe, classify(ipxe, DHCP), YES, { ...CONFIG, advertiseAddress: '192.168.100.200', httpPort: 65535 })!;
  t.ok(bootfileName(r2)!.length <= 127 ? r2.file === bootfileName(r2) : r2.file === '', 'the file field holds the URL only when it fits with its NUL');
});

t.test('golden replies: encoded OFFERs equal the independent builder\'s bytes', async (t) => {
  const bios = fixture('bios-pxe-rom');
  const expectedBios = bytesOf({
    name: 'bios-offer', about: [],
    chunks: [
      ...header({ op: 2, xid: 0x8b0f7475, secs: 0, flags: 0x8000, siaddr: ADV, mac: '20:6a:8a:0f:74:75', fileText: 'undionly.kpxe' }),
      o.messageType(2, 'DHCPOFFER'),
      o.serverId(ADV),
      o.vendorClass('PXEClient'),
      o.guid('d66ef100a6d711df9f1af938a66fc054'),
      option(43, [...sub(6, [8]), 255], 'PXE: discovery control 8'),
      END,
      pad(14), // to the 300-octet BOOTP minimum
    ],
  });
  t.ok(encodeDhcp(buildReply(bios, classify(bios, DHCP), YES, CONFIG)!).equals(expectedBios), 'BIOS ROM OFFER');

  const relayed = fixture('relayed');
  const expectedRelay = bytesOf({
    name: 'relay-offer', about: [],
    chunks: [
      ...header({ op: 2, xid: 0x6b01e738, secs: 0, flags: 0x8000, siaddr: ADV, giaddr: '10.20.30.1', mac: 'ac:1f:6b:01:e7:38', fileText: 'undionly.kpxe' }),
      o.messageType(2, 'DHCPOFFER'),
      o.serverId(ADV),
      o.vendorClass('PXEClient'),
      o.guid('00000000000000000000ac1f6b01e738'),
      option(43, [...sub(6, [8]), 255], 'PXE: discovery control 8'),
      option(82, [...sub(1, [0, 4, 0, 10, 1, 12]), ...sub(2, [0, 6, 0x00, 0x1b, 0x54, 0xc2, 0x3a, 0x80])], 'relay agent information echoed (RFC 3046 §2.2)'),
      END,
    ],
  });
  t.ok(encodeDhcp(buildReply(relayed, classify(relayed, DHCP), YES, CONFIG)!).equals(expectedRelay), 'relayed OFFER: giaddr kept, option 82 echoed last');
});

t.test('port 4011: DHCPACK with ciaddr, the boot item echoed, sent back to the sender', async (t) => {
  const r = reply('pxe-request-overload', PXE);
  t.equal(messageType(r), 5, 'DHCPACK');
  t.equal(r.ciaddr, '10.20.30.57', 'RFC 2131 table 3: the client\'s ciaddr in an ACK');
  t.same(pxeVendorOptions(r), { discoveryControl: 8, bootItem: { type: 0, layer: 0 } });
  t.same(replyDestination(fixture('pxe-request-overload'), PXE), { address: '10.20.30.57', port: 4011, broadcast: false });
});

t.test('replyDestination: relay, unicast, broadcast', async (t) => {
  const p = fixture('bios-pxe-rom');
  t.same(replyDestination(p, DHCP), { address: '255.255.255.255', port: 68, broadcast: true });
  t.same(replyDestination({ ...p, flags: 0 }, DHCP), { address: '255.255.255.255', port: 68, broadcast: true }, 'no yiaddr to unicast to, so broadcast even without the flag');
  t.same(replyDestination(fixture('relayed'), DHCP), { address: '10.20.30.1', port: 67, broadcast: false }, 'relayed: to the agent\'s server port');
  t.same(replyDestination({ ...p, ciaddr: '10.20.30.99' }, DHCP), { address: '10.20.30.99', port: 68, broadcast: false }, 'INFORM: unicast to ciaddr');
  t.same(replyDestination(p, DHCP, { clientPort: 40068, broadcastAddress: '127.255.255.255' }), { address: '127.255.255.255', port: 40068, broadcast: true }, 'test ports');
  t.same(replyDestination(fixture('relayed'), DHCP, { relayPort: 40067 }), { address: '10.20.30.1', port: 40067, broadcast: false });
});

t.test('R-18: silent when decide says no', async (t) => {
  const p = fixture('uefi-x64');
  t.equal(buildReply(p, classify(p, DHCP), { answer: false, reason: 'nothing to run' }, CONFIG), null);
  t.equal(buildReply(p, { kind: 'ignore', reason: 'x' }, YES, CONFIG), null);
});

const MAC = '00:15:5d:cd:6b:04';
const UUID = '72b0516d-befd-4708-a8dc-24601319cd38';
const LAB = 'PS100100';

t.test('R-19 through real policy: a Required deployment started from PXE makes the responder go silent', async (t) => {
  const b = new SiteBuilder();
  b.computer('pc1', { macs: [MAC], uuid: UUID });
  b.collection(LAB, { name: 'Lab', directMemberIds: ['pc1'] });
  const required = b.deploy({ collectionId: LAB, purpose: 'required' });
  let site = b.site();
  const decide = policyDecider({ site: () => site, now: () => T0 });
  const run = () => respond(raw('uefi-x64'), DHCP, CONFIG, decide);

  const first = await run();
  t.equal(first.kind, 'reply', 'the Required deployment has not run: answer');
  t.equal(first.kind === 'reply' && first.reply.file, 'ipxe.efi');

  b.requiredPxeStarts.push({ computerId: 'pc1', deploymentId: required.id });
  site = b.site();
  const later = await run();
  t.match(later, { kind: 'ignore', stage: 'decide', reason: /Required deployment already started from PXE \(R-19\)/ }, 'started from PXE: silent, no reimaging loop');

  b.requiredPxeStarts.length = 0;
  site = b.site();
  t.equal((await run()).kind, 'reply', 'cleared by an administrator: answers again');
});

t.test('R-17/R-18 through real policy: unknown computers follow the PXE setting', async (t) => {
  const b = new SiteBuilder();
  b.deploy({ collectionId: ALL_UNKNOWN_COMPUTERS_ID, taskSequenceId: CUSTOM_TS_ID });
  const decide = (s: typeof b.settings) => {
    b.settings = s;
    const site = b.site();
    return policyDecider({ site: () => site, now: () => T0 });
  };
  const on = await respond(raw('uefi-arm64'), DHCP, CONFIG, decide(DEFAULT_SITE_SETTINGS));
  t.equal(on.kind, 'reply', 'an unknown ARM64 machine gets the All Unknown Computers deployment');
  const off = await respond(raw('uefi-arm64'), DHCP, CONFIG, decide({ ...DEFAULT_SITE_SETTINGS, pxe: { ...DEFAULT_SITE_SETTINGS.pxe, unknownComputerSupport: false } }));
  t.match(off, { kind: 'ignore', stage: 'decide', reason: /unknown computer support is off/ });
  const none = await respond(raw('bios-pxe-rom'), DHCP, CONFIG, policyDecider({ site: () => new SiteBuilder().site(), now: () => T0 }));
  t.match(none, { kind: 'ignore', stage: 'decide', reason: /no deployment/ }, 'nothing to run: silent');
});

t.test('respond(): decode and classify failures are values, never exceptions', async (t) => {
  const never = async () => {
    throw new Error('decide must not be called');
  };
  t.match(await respond(Buffer.from('hello'), DHCP, CONFIG, never), { kind: 'ignore', stage: 'decode', code: 'truncated-header' });
  const bootp = raw('bios-pxe-rom');
  bootp[236] = 0;
  t.match(await respond(bootp, DHCP, CONFIG, never), { kind: 'ignore', stage: 'decode', code: 'bad-magic-cookie' });
  t.match(await respond(raw('pxe-request-overload'), DHCP, CONFIG, never), { kind: 'ignore', stage: 'classify', reason: /DHCPREQUEST to the proxyDHCP port is for the network's DHCP server/ });
});
