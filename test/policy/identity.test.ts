import t from 'tap';
import {
  ALL_UNKNOWN_COMPUTERS_ID,
  UNKNOWN_COMPUTER_IDS,
  buildSite,
  newComputer,
  normalizeMac,
  normalizeUuid,
  tryNormalizeMac,
  tryNormalizeUuid,
  unknownComputers,
} from '../../policy/index.js';
import { SiteBuilder, policyError } from '../fixtures/site-builder.js';

const UUID = '4c4c4544-0042-3510-8052-b4c04f4e3732';

t.test('R-17 normalizeMac accepts every common spelling and returns lower-case colon form', async (t) => {
  const forms = ['AA-BB-CC-0D-EE-FF', 'aa:bb:cc:0d:ee:ff', 'AABB.CC0D.EEFF', 'aabb.cc0d.eeff', 'AABBCC0DEEFF', '  aa-bb-cc-0d-ee-ff\n'];
  for (const f of forms) t.equal(normalizeMac(f), 'aa:bb:cc:0d:ee:ff', JSON.stringify(f));
  t.equal(tryNormalizeMac('00-11-22-33-44-55'), '00:11:22:33:44:55');
});

t.test('R-17 normalizeMac refuses what is not a 48-bit MAC, naming the field', async (t) => {
  const bad = ['', 'aa:bb:cc:dd:ee', 'aa:bb:cc:dd:ee:ff:00', 'gg:bb:cc:dd:ee:ff', 'aabbccddeef', 'aa_bb_cc_dd_ee_ff', '0x aabbccddeeff'];
  for (const b of bad) {
    const e = policyError(() => normalizeMac(b));
    t.equal(e.code, 'invalid', JSON.stringify(b));
    t.equal(e.field, 'macAddress');
    t.match(e.message, 'not a MAC address');
    t.equal(tryNormalizeMac(b), null);
  }
});

t.test('R-17 normalizeUuid takes braces, upper case and missing dashes to one canonical form', async (t) => {
  const forms = [
    '4C4C4544-0042-3510-8052-B4C04F4E3732',
    '{4c4c4544-0042-3510-8052-b4c04f4e3732}',
    '{4C4C4544004235108052B4C04F4E3732}',
    '4c4c4544004235108052b4c04f4e3732',
    ' 4c4c4544-0042-3510-8052-b4c04f4e3732 ',
  ];
  for (const f of forms) t.equal(normalizeUuid(f), UUID, f);
});

t.test('R-17 normalizeUuid refuses all-zero and all-FF placeholders and malformed input', async (t) => {
  for (const p of ['00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '{ffffffffffffffffffffffffffffffff}']) {
    const e = policyError(() => normalizeUuid(p));
    t.equal(e.code, 'invalid', p);
    t.equal(e.field, 'smbiosUuid');
    t.match(e.message, 'placeholder');
  }
  for (const b of ['', '4c4c4544-0042-3510-8052', '4c4c4544-0042-3510-8052-b4c04f4e373z', `${UUID}00`]) {
    const e = policyError(() => normalizeUuid(b));
    t.equal(e.field, 'smbiosUuid', b);
    t.match(e.message, 'not an SMBIOS UUID');
    t.equal(tryNormalizeUuid(b), null);
  }
});

t.test('R-17 newComputer needs a MAC address or an SMBIOS UUID', async (t) => {
  const e = policyError(() => newComputer('pc1', { name: 'PC1' }));
  t.equal(e.code, 'invalid');
  t.equal(e.field, 'macAddresses');
  const e2 = policyError(() => newComputer('pc1', { name: 'PC1', macAddresses: [], smbiosUuid: '' }));
  t.equal(e2.field, 'macAddresses');
  t.equal(newComputer('pc1', { name: 'PC1', smbiosUuid: UUID.toUpperCase() }).smbiosUuid, UUID, 'a UUID alone is enough');
  t.same(newComputer('pc2', { name: 'PC2', macAddresses: ['00-11-22-33-44-55'] }).macAddresses, ['00:11:22:33:44:55'], 'a MAC alone is enough');
});

t.test('R-17 newComputer normalises and de-duplicates MAC addresses in any spelling', async (t) => {
  const c = newComputer('pc1', { name: ' PC1 ', macAddresses: ['00-11-22-33-44-55', '0011.2233.4455', '001122334455', 'AA:BB:CC:DD:EE:FF'] });
  t.same(c.macAddresses, ['00:11:22:33:44:55', 'aa:bb:cc:dd:ee:ff']);
  t.equal(c.name, 'PC1');
  t.equal(c.unknownArchitecture, null, 'a real computer is never an Unknown Computer object');
  t.equal(c.isSiteSystem, false);
  t.equal(c.isServer, false);
  const bad = policyError(() => newComputer('pc1', { name: 'PC1', macAddresses: ['00-11-22-33-44-55', 'nonsense'] }));
  t.equal(bad.field, 'macAddress');
  const notText = policyError(() => newComputer('pc1', { name: 'PC1', macAddresses: [42 as unknown as string] }));
  t.equal(notText.field, 'macAddresses[0]');
  const tooMany = Array.from({ length: 33 }, (_, i) => `00:00:00:00:00:${i.toString(16).padStart(2, '0')}`);
  t.equal(policyError(() => newComputer('pc1', { name: 'PC1', macAddresses: tooMany })).field, 'macAddresses');
});

t.test('R-17 newComputer validates the architecture and the flags', async (t) => {
  const mac = ['00:11:22:33:44:55'];
  for (const arch of ['x86', 'x64', 'arm64'] as const) t.equal(newComputer('pc', { name: 'PC', macAddresses: mac, architecture: arch }).architecture, arch);
  t.equal(newComputer('pc', { name: 'PC', macAddresses: mac }).architecture, null, 'unknown architecture is allowed');
  const e = policyError(() => newComputer('pc', { name: 'PC', macAddresses: mac, architecture: 'amd64' as 'x64' }));
  t.equal(e.field, 'architecture');
  t.match(e.message, 'x86, x64, arm64');
  t.equal(policyError(() => newComputer('pc', { name: 'PC', macAddresses: mac, isServer: 'yes' as unknown as boolean })).field, 'isServer');
  t.equal(newComputer('pc', { name: 'PC', macAddresses: mac, isSiteSystem: true }).isSiteSystem, true);
});

t.test('R-23 newComputer validates its variables', async (t) => {
  const mac = ['00:11:22:33:44:55'];
  const c = newComputer('pc', { name: 'PC', macAddresses: mac, variables: [{ name: 'OSDComputerName', value: 'LAB-01' }, { name: 'Secret', value: 's3', hidden: true }] });
  t.same(c.variables, [{ name: 'OSDComputerName', value: 'LAB-01', hidden: false }, { name: 'Secret', value: 's3', hidden: true }]);
  const e = policyError(() => newComputer('pc', { name: 'PC', macAddresses: mac, variables: [{ name: '_SMSTSAdvertID', value: 'x' }] }));
  t.equal(e.field, 'variables[0].name');
  t.equal(policyError(() => newComputer('pc', { name: 'PC', macAddresses: mac, variables: 'A=1' })).field, 'variables');
});

t.test('R-17 there is one built-in Unknown Computer object per architecture', async (t) => {
  const u = unknownComputers();
  t.same(u.map((c) => c.id).sort(), ['unknown-arm64', 'unknown-x64', 'unknown-x86']);
  for (const c of u) {
    t.equal(c.unknownArchitecture, c.architecture, c.id);
    t.same(c.macAddresses, [], 'an Unknown Computer object matches no MAC');
    t.equal(c.smbiosUuid, null);
    t.equal(UNKNOWN_COMPUTER_IDS[c.architecture!], c.id);
  }
  t.match(u.find((c) => c.id === 'unknown-x64')!.name, /^x64 Unknown Computer/);
  t.match(u.find((c) => c.id === 'unknown-x86')!.name, /^x86 Unknown Computer/);
});

t.test('R-17 a site always has the Unknown Computer objects, members of All Unknown Computers', async (t) => {
  const b = new SiteBuilder();
  b.computer('pc1', { macs: ['00:11:22:33:44:55'] });
  const site = b.site();
  for (const arch of ['x86', 'x64', 'arm64'] as const) {
    const u = site.unknownComputer[arch];
    t.equal(u.id, UNKNOWN_COMPUTER_IDS[arch]);
    t.equal(u.unknownArchitecture, arch);
    t.ok(site.members.get(ALL_UNKNOWN_COMPUTERS_ID)!.has(u.id), `${u.id} in All Unknown Computers`);
  }
  t.notOk(site.members.get(ALL_UNKNOWN_COMPUTERS_ID)!.has('pc1'), 'a known computer is not an unknown one');
  t.equal(site.computerByMac.get('00:11:22:33:44:55')?.id, 'pc1');
  // A stored copy of a built-in is kept rather than duplicated.
  const stored = { ...unknownComputers()[1]!, name: 'renamed x64 unknown' };
  const site2 = buildSite({ ...b.data(), computers: [stored, ...b.data().computers] });
  t.equal(site2.unknownComputer.x64.name, 'renamed x64 unknown');
  t.equal([...site2.computers.values()].filter((c) => c.unknownArchitecture !== null).length, 3);
});
