/**
 * The pure parts of making a deployed Linux bootable: fstab, grub.cfg (kernel and
 * initramfs discovery among several versions, the boot environment's consoles carried over,
 * UUIDs), host name and hosts, network settings from Configuration Manager's OSDAdapter
 * variables, and which volume an Apply step takes (nextAvailable, specificDiskAndPartition).
 */
import t from 'tap';
import { chooseKernel, compareVersions, consoleArgs, fstabText, grubCfgText, hostName, hostsText, osName, serialOf } from '../../../media/engine/steps/boot-config.js';
import { grubTarget } from '../../../media/engine/steps/boot-setup.js';
import { fatSerialUuid } from '../../../media/engine/steps/block-disk.js';
import { adaptersFromVariables, ifupdownText, networkdFiles, prefixOf } from '../../../media/engine/steps/network-config.js';
import { chooseVolume, espFor, newDiskBook, type VolumeRecord } from '../../../media/engine/steps/volumes.js';

const ROOT = '0f3c2a4e-55d1-4c3e-9b1e-1d2f3a4b5c6d';

t.test('fstab: root ext4 by UUID, the ESP at /boot/efi with umask=0077', async (t) => {
  t.equal(fstabText({ root: { uuid: ROOT, fs: 'ext4' } }).split('\n').filter((l) => !l.startsWith('#')).join('\n'), `UUID=${ROOT} / ext4 errors=remount-ro 0 1\n`);
  t.match(fstabText({ root: { uuid: ROOT, fs: 'ext4' }, esp: { uuid: 'ABCD-1234' } }), /^UUID=ABCD-1234 \/boot\/efi vfat umask=0077 0 1$/m);
  t.equal(fatSerialUuid('abcd1234'), 'ABCD-1234');
});

t.test('kernels: the newest vmlinuz-<version> with its own initrd; plain vmlinuz as a fallback; none is null', async (t) => {
  t.ok(compareVersions('6.1.0-9-amd64', '6.1.0-28-amd64') < 0, 'numbers compare as numbers');
  t.ok(compareVersions('6.12.0-1-amd64', '6.1.0-28-amd64') > 0);
  t.same(chooseKernel(['vmlinuz-6.1.0-9-amd64', 'initrd.img-6.1.0-9-amd64', 'vmlinuz-6.1.0-28-amd64', 'initrd.img-6.1.0-28-amd64', 'config-6.1.0-28-amd64', 'grub']), { kernel: 'vmlinuz-6.1.0-28-amd64', initrd: 'initrd.img-6.1.0-28-amd64' });
  t.same(chooseKernel(['vmlinuz-6.1.0-28-amd64', 'initrd.img-6.1.0-9-amd64']), { kernel: 'vmlinuz-6.1.0-28-amd64', initrd: null }, 'another version\'s initrd is not taken');
  t.same(chooseKernel(['vmlinuz', 'initrd.img']), { kernel: 'vmlinuz', initrd: 'initrd.img' });
  t.equal(chooseKernel(['grub', 'config-6.1']), null);
});

t.test('grub.cfg: search by the /boot UUID, root=UUID=, the boot environment\'s consoles, serial terminal', async (t) => {
  const consoles = consoleArgs('BOOT_IMAGE=/k quiet console=tty0 console=ttyS1,57600n8 osdeploy.site=http://s');
  t.same(consoles, ['console=tty0', 'console=ttyS1,57600n8']);
  t.same(serialOf(consoles), { unit: 1, speed: 57600 });
  t.equal(serialOf(['console=tty0']), null);
  const cfg = grubCfgText({ title: "Debian's OS", bootUuid: ROOT, rootUuid: ROOT, kernel: '/boot/vmlinuz-6.1.0-28-amd64', initrd: '/boot/initrd.img-6.1.0-28-amd64', consoles });
  t.match(cfg, /^set timeout=1$/m);
  t.match(cfg, /^serial --unit=1 --speed=57600\nterminal_input serial console\nterminal_output serial console$/m);
  t.match(cfg, new RegExp(`^search --no-floppy --fs-uuid --set=root ${ROOT}$`, 'm'));
  t.match(cfg, "menuentry 'Debian'\\''s OS' {");
  t.match(cfg, new RegExp(`^\\tlinux /boot/vmlinuz-6.1.0-28-amd64 root=UUID=${ROOT} ro console=tty0 console=ttyS1,57600n8$`, 'm'));
  t.match(cfg, /^\tinitrd \/boot\/initrd.img-6.1.0-28-amd64$/m);
  const plain = grubCfgText({ title: 'Linux', bootUuid: ROOT, rootUuid: ROOT, kernel: '/boot/vmlinuz', initrd: null, consoles: [] });
  t.notMatch(plain, /serial|initrd/, 'no serial console, no initrd: neither line');
  t.equal(osName('NAME=x\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'), 'Debian GNU/Linux 12 (bookworm)');
  t.equal(osName(null), 'Linux');
  t.same([grubTarget(true, 'x64').target, grubTarget(false, 'x64').target, grubTarget(true, 'arm64').target], ['x86_64-efi', 'i386-pc', 'arm64-efi']);
});

t.test('host name and hosts: a computer name made a valid host name; 127.0.1.1 replaced or added', async (t) => {
  t.equal(hostName('LAB-PC_01'), 'LAB-PC-01');
  t.equal(hostName(' _ '), null);
  t.equal(hostName('x'.repeat(80))?.length, 63);
  t.equal(hostsText('127.0.0.1\tlocalhost\n127.0.1.1\told\n::1\tlocalhost\n', 'PC1'), '127.0.0.1\tlocalhost\n127.0.1.1\tPC1\n::1\tlocalhost\n');
  t.equal(hostsText('127.0.0.1 localhost\n::1 localhost\n', 'PC1'), '127.0.0.1 localhost\n127.0.1.1\tPC1\n::1 localhost\n');
  t.match(hostsText(null, 'PC1'), /^127\.0\.0\.1\tlocalhost\n127\.0\.1\.1\tPC1\n/);
});

t.test('network: OSDAdapter variables become networkd and ifupdown settings; none means DHCP on every wired NIC', async (t) => {
  const vars: Record<string, string> = {
    OSDAdapterCount: '2',
    OSDAdapter0EnableDHCP: 'false', OSDAdapter0IPAddressList: '10.0.0.5,10.0.0.6', OSDAdapter0SubnetMask: '255.255.255.0', OSDAdapter0Gateways: '10.0.0.1',
    OSDAdapter0DNSServerList: '10.0.0.53,10.0.0.54', OSDAdapter0MacAddress: '52-54-00-AA-BB-01',
    OSDAdapter1EnableDHCP: 'true', OSDAdapter1MacAddress: '52:54:00:aa:bb:02',
  };
  const adapters = adaptersFromVariables((n) => vars[n]);
  t.same(adapters, [
    { index: 0, dhcp: false, addresses: ['10.0.0.5/24', '10.0.0.6/24'], gateways: ['10.0.0.1'], dns: ['10.0.0.53', '10.0.0.54'], mac: '52:54:00:aa:bb:01' },
    { index: 1, dhcp: true, addresses: [], gateways: [], dns: [], mac: '52:54:00:aa:bb:02' },
  ]);
  const files = networkdFiles(adapters as never);
  t.same(files.map((f) => f.name), ['20-osdeploy-adapter0.network', '20-osdeploy-adapter1.network']);
  t.match(files[0]!.text, /\[Match\]\nMACAddress=52:54:00:aa:bb:01\n\n\[Network\]\nAddress=10\.0\.0\.5\/24\nAddress=10\.0\.0\.6\/24\nGateway=10\.0\.0\.1\nDNS=10\.0\.0\.53\nDNS=10\.0\.0\.54\n$/);
  t.match(files[1]!.text, /MACAddress=52:54:00:aa:bb:02\n\n\[Network\]\nDHCP=yes/);
  const ifup = ifupdownText(adapters as never, [{ name: 'eth0', mac: '52:54:00:aa:bb:02' }, { name: 'eth1', mac: '52:54:00:aa:bb:01' }]);
  t.match(ifup, /allow-hotplug eth1\niface eth1 inet static\n\taddress 10\.0\.0\.5\/24\n\tup ip addr add 10\.0\.0\.6\/24 dev eth1\n\tgateway 10\.0\.0\.1\n\tdns-nameservers 10\.0\.0\.53 10\.0\.0\.54/);
  t.match(ifup, /allow-hotplug eth0\niface eth0 inet dhcp/);
  t.equal(adaptersFromVariables(() => undefined), null);
  t.match(networkdFiles(null), [{ name: '20-osdeploy-dhcp.network', text: /Name=en\* eth\*\n\n\[Network\]\nDHCP=yes/ }]);
  t.match(ifupdownText(null, [{ name: 'eth0', mac: 'x' }]), /iface eth0 inet dhcp/);
  t.match(adaptersFromVariables((n) => ({ OSDAdapterCount: '1', OSDAdapter0EnableDHCP: 'false', OSDAdapter0IPAddressList: '10.0.0.5', OSDAdapter0SubnetMask: '255.0.255.0' })[n]), { error: /not a subnet mask/ });
  t.same([prefixOf('255.255.252.0'), prefixOf('16'), prefixOf('255.255.255.255'), prefixOf('0.255.0.0')], [22, 16, 32, null]);
});

t.test('volumes: nextAvailable skips boot, reserved and recovery partitions and ones an Apply took; specific ones by number', async (t) => {
  const v = (partition: number, type: string, fs: VolumeRecord['fs']): VolumeRecord => ({ disk: 0, partition, diskPath: '/dev/vda', device: `/dev/vda${partition}`, table: 'gpt', fs, type, label: '', uuid: 'u', variable: null });
  const book = newDiskBook();
  book.volumes.push(v(1, 'recovery', 'ext4'), v(2, 'efi', 'vfat'), v(3, 'msr', 'none'), v(4, 'primary', 'ext4'), v(5, 'primary', 'ext4'));
  t.match(chooseVolume(book, { kind: 'nextAvailable' }), { kind: 'volume', volume: { partition: 4 } });
  book.applied.push('disk0p4');
  t.match(chooseVolume(book, { kind: 'nextAvailable' }), { kind: 'volume', volume: { partition: 5 } });
  book.applied.push('disk0p5');
  t.match(chooseVolume(book, { kind: 'nextAvailable' }), { kind: 'none', reason: /no formatted volume is left/ });
  t.match(chooseVolume(book, { kind: 'specificDiskAndPartition', disk: 0, partition: 1 }), { kind: 'volume', volume: { type: 'recovery' } });
  t.match(chooseVolume(book, { kind: 'specificDiskAndPartition', disk: 1, partition: 1 }), { kind: 'none', reason: 'disk 1 partition 1 is not a volume Format and Partition Disk made in this run' });
  t.match(chooseVolume(book, { kind: 'specificDiskAndPartition', disk: 0, partition: 3 }), { kind: 'none', reason: /no file system/ });
  t.match(chooseVolume(book, { kind: 'named', value: '/dev/vda5' }), { kind: 'volume', volume: { partition: 5 } }, 'a variable holding the device');
  t.match(chooseVolume(book, { kind: 'named', value: 'DISK0P4' }), { kind: 'volume', volume: { partition: 4 } }, 'a variable holding the disk image key');
  t.match(espFor(book, book.volumes[4]!), { partition: 2 });
});
