/**
 * The deployed OS's network settings, from Configuration Manager's OSDAdapter variables (what
 * Apply Network Settings and the collection variables set) when there are any, else DHCP on
 * every wired NIC. Pure functions; boot-setup.ts writes the text where the image has the tool
 * for it: systemd-networkd (/etc/systemd/network) and ifupdown (/etc/network/interfaces.d).
 *
 * networkd matches by MAC address or by name pattern, so it works whatever the OS names the NIC.
 * ifupdown needs names: the files use the names the boot environment saw for the MACs, which a
 * deployed OS with predictable names (ens3, enp0s3) may not use; its DHCP default is a comment
 * plus stanzas for those names. That limit is said in the file itself.
 */

export interface Adapter {
  readonly index: number;
  readonly dhcp: boolean;
  /** `address/prefix` for each static address. */
  readonly addresses: readonly string[];
  readonly gateways: readonly string[];
  readonly dns: readonly string[];
  /** Lower-case with colons, or null (then the adapter matches every wired NIC). */
  readonly mac: string | null;
}

export interface Nic {
  readonly name: string;
  readonly mac: string;
}

const split = (v: string | undefined): string[] => (v ?? '').split(/[,;\s]+/).map((x) => x.trim()).filter((x) => x !== '');

/** 255.255.255.0 → 24; a bare prefix length is taken as it is. */
export function prefixOf(mask: string): number | null {
  if (/^\d{1,2}$/.test(mask) && Number(mask) <= 32) return Number(mask);
  const parts = mask.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
  const bits = parts.map((p) => p.toString(2).padStart(8, '0')).join('');
  return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : null;
}

const normalMac = (m: string): string | null => {
  const hex = m.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
  return hex.length === 12 ? hex.match(/../g)!.join(':') : null;
};

/**
 * OSDAdapterCount adapters from OSDAdapter<n>EnableDHCP, …IPAddressList, …SubnetMask (one mask per
 * address, or one for all), …Gateways, …DNSServerList, …MacAddress. Null when none are set.
 */
export function adaptersFromVariables(get: (name: string) => string | undefined): Adapter[] | { error: string } | null {
  const count = Number(get('OSDAdapterCount') ?? '0');
  if (!Number.isInteger(count) || count <= 0) return null;
  const out: Adapter[] = [];
  for (let i = 0; i < count; i++) {
    const v = (k: string) => get(`OSDAdapter${i}${k}`);
    const dhcp = (v('EnableDHCP') ?? 'true').toLowerCase() !== 'false';
    const ips = split(v('IPAddressList'));
    const masks = split(v('SubnetMask'));
    const addresses: string[] = [];
    if (!dhcp) {
      if (ips.length === 0) return { error: `OSDAdapter${i}EnableDHCP is false but OSDAdapter${i}IPAddressList is empty` };
      for (const [j, ip] of ips.entries()) {
        const prefix = prefixOf(masks[j] ?? masks[0] ?? '');
        if (prefix === null) return { error: `OSDAdapter${i}SubnetMask ${JSON.stringify(masks[j] ?? masks[0] ?? '')} is not a subnet mask for ${ip}` };
        addresses.push(`${ip}/${prefix}`);
      }
    }
    const rawMac = v('MacAddress');
    const mac = rawMac ? normalMac(rawMac) : null;
    if (rawMac && !mac) return { error: `OSDAdapter${i}MacAddress ${JSON.stringify(rawMac)} is not a MAC address` };
    out.push({ index: i, dhcp, addresses, gateways: dhcp ? [] : split(v('Gateways')), dns: split(v('DNSServerList')), mac });
  }
  return out;
}

const HEADER = '# Written by osdeploy-engine (Apply Operating System Image)';

/** systemd-networkd .network files: one per adapter, or one DHCP file for every wired NIC. */
export function networkdFiles(adapters: readonly Adapter[] | null): { name: string; text: string }[] {
  if (!adapters) {
    return [{ name: '20-osdeploy-dhcp.network', text: `${HEADER}: DHCP on every wired NIC.\n[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n` }];
  }
  return adapters.map((a) => {
    const match = a.mac ? `MACAddress=${a.mac}` : 'Name=en* eth*';
    const net = a.dhcp ? ['DHCP=yes'] : [...a.addresses.map((x) => `Address=${x}`), ...a.gateways.map((g) => `Gateway=${g}`)];
    const dns = a.dns.map((d) => `DNS=${d}`);
    return { name: `20-osdeploy-adapter${a.index}.network`, text: `${HEADER} from OSDAdapter${a.index}*.\n[Match]\n${match}\n\n[Network]\n${[...net, ...dns].join('\n')}\n` };
  });
}

/** ifupdown stanzas for the NICs the boot environment saw (see the top of this file). */
export function ifupdownText(adapters: readonly Adapter[] | null, nics: readonly Nic[]): string {
  const out = [`${HEADER}. Interface names are the ones the boot environment saw;`, '# an OS that renames its NICs (ens3, enp0s3…) needs its own stanzas.'];
  const stanza = (name: string, a: Adapter | null) => {
    out.push('', `allow-hotplug ${name}`);
    if (!a || a.dhcp) {
      out.push(`iface ${name} inet dhcp`);
    } else {
      out.push(`iface ${name} inet static`, ...a.addresses.map((x, i) => `\t${i === 0 ? 'address' : 'up ip addr add'} ${x}${i === 0 ? '' : ` dev ${name}`}`));
      if (a.gateways[0]) out.push(`\tgateway ${a.gateways[0]}`);
    }
    if (a && a.dns.length) out.push(`\tdns-nameservers ${a.dns.join(' ')}`);
  };
  if (!adapters) for (const n of nics) stanza(n.name, null);
  else {
    for (const a of adapters) {
      const nic = a.mac ? nics.find((n) => n.mac === a.mac) : nics[a.index];
      if (nic) stanza(nic.name, a);
      else out.push('', `# OSDAdapter${a.index}${a.mac ? ` (${a.mac})` : ''}: no such NIC in the boot environment`);
    }
  }
  return `${out.join('\n')}\n`;
}
