/**
 * `/boot.ipxe` asked without an identity — the boot file URL a plain DHCP server
 * (or qemu's user-mode network, `bootfile=http://SITE/boot.ipxe`) gives iPXE — answers a script
 * that asks again with the machine's MAC, UUID, architecture and firmware; the URL iPXE then
 * builds is answered from policy like the proxyDHCP's own script URL.
 */
import t from 'tap';
import { identifyScript } from '../../../media/ipxe/identify.js';
import { apiHarness, type ApiHarness } from '../../fixtures/api-harness.js';

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

const SITE = 'http://192.0.2.10:8080';
const MAC = '52:54:00:12:34:56';

const get = async (h: ApiHarness, url: string) => {
  const r = await h.app.inject({ method: 'GET', url });
  return { status: r.statusCode, text: r.body, type: String(r.headers['content-type']) };
};

/** The chain URL as iPXE expands it on a qemu BIOS machine without an SMBIOS UUID. */
const expanded = (script: string, vars: Record<string, string>): string => {
  const line = script.split('\n').find((l) => l.startsWith('chain '));
  if (!line) throw new Error(`no chain line in:\n${script}`);
  return line.slice('chain '.length).replace(/\$\{([^}]+)\}/g, (_, name: string) => vars[name] ?? '');
};

async function linuxDeploymentToUnknown(t: Tap, h: ApiHarness): Promise<string> {
  const boot = await h.call('POST', '/content', { body: { kind: 'bootImage', name: 'Linux boot', architecture: 'x64', os: 'linux', boot: { os: 'linux', kernel: 'linux/vmlinuz', initrds: ['linux/initrd.img'], cmdline: 'console=ttyS0' } } });
  t.equal(boot.status, 201, boot.body);
  const ts = await h.call('POST', '/task-sequences', { body: { type: 'custom', name: 'Install Linux', bootImageId: boot.json.id } });
  const dep = await h.call('POST', '/deployments', { body: { taskSequenceId: ts.json.id, collectionId: 'SMS000US', purpose: 'required', availability: 'mediaPxe', assignments: [{ kind: 'asap' }] } });
  t.equal(dep.status, 201, dep.body);
  return dep.json.id;
}

t.test('R-18 /boot.ipxe without mac or uuid: a script that asks again with the identity iPXE knows', async (t) => {
  const h = await apiHarness(t);
  const r = await get(h, '/boot.ipxe');
  t.equal(r.status, 200, 'public: no token, and no error');
  t.match(r.type, /^text\/plain/);
  t.match(r.text, /^#!ipxe\n/);
  t.ok(r.text.includes(`\nchain ${SITE}/boot.ipxe?mac=\${netX/mac}&uuid=\${uuid}&arch=\${osd-arch}&uefi=\${osd-uefi}\n`), 'chains to the site with the MAC of the booting interface', { script: r.text });
  t.notMatch(r.text, /kernel|exit/, 'boots nothing itself');

  const dep = await linuxDeploymentToUnknown(t, h);
  const bios = await get(h, expanded(r.text, { 'netX/mac': MAC, uuid: '00000000-0000-0000-0000-000000000000', 'osd-arch': 'x64', 'osd-uefi': 'false' }).slice(SITE.length));
  t.equal(bios.status, 200);
  t.match(bios.text, `osdeploy: starting Install Linux (${dep}, required)`, 'the unknown machine gets the Required deployment to All Unknown Computers (R-17)');
  const kernel = bios.text.split('\n').find((l) => l.startsWith('kernel '));
  t.ok(kernel?.includes(`osdeploy.mac=${MAC}`) && kernel.includes('osdeploy.arch=x64'), 'with its identity on the kernel command line', { kernel });
  t.notOk(kernel?.includes('osdeploy.uuid='), 'an all-zero SMBIOS UUID is no identity');
});

t.test('R-18 the asked-again URL: UEFI and ARM64 forms, and no loop when iPXE knows no MAC', async (t) => {
  const h = await apiHarness(t);
  const first = (await get(h, '/boot.ipxe')).text;
  const uefi = await get(h, expanded(first, { 'netX/mac': MAC, uuid: '4c4c4544-0031-3510-8052-b4c04f4d4d31', 'osd-arch': 'arm64', 'osd-uefi': 'true' }).slice(SITE.length));
  t.equal(uefi.status, 200);
  t.match(uefi.text, /nothing to run/, 'nothing deployed: the machine boots from its next device');

  const noMac = await get(h, expanded(first, { 'osd-arch': 'x64', 'osd-uefi': 'false' }).slice(SITE.length));
  t.equal(noMac.status, 400, 'mac= and uuid= given but empty: an error, not the asking script again');
  t.match(noMac.text, /^#!ipxe\necho osdeploy: a boot needs mac or uuid\nexit\n$/);
  t.notMatch(noMac.text, /chain/);

  const withMac = await get(h, `/boot.ipxe?mac=${MAC}`);
  t.notMatch(withMac.text, /chain/, 'a URL with an identity is answered from policy, as before');
});

t.test('the asking script carries only a validated site URL', async (t) => {
  t.throws(() => identifyScript('http://site:8080/${net0/ip}'), /unsafe site URL/);
  t.throws(() => identifyScript('http://site:8080\nshell'), /unsafe site URL/);
  t.match(identifyScript('http://[fd00::1]:8080'), 'chain http://[fd00::1]:8080/boot.ipxe?mac=');
});
