/**
 * Kernel modules for the boot environment: the drivers a deployment needs on common hardware
 * (wired NICs, disk controllers, USB, file systems for the target and the media), each with the
 * modules it depends on, plus the modules.dep and modules.alias that busybox modprobe reads to
 * load a device's driver from its `modalias`. Written from each module's own .modinfo, so the
 * build needs no depmod and works for another architecture's kernel too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readModinfo } from './elf.js';

/**
 * Modules by name ('-' and '_' are the same, as modprobe treats them). A name the kernel does
 * not have (another architecture, a driver built in) is skipped; the build lists them.
 */
export const MODULES: Readonly<Record<string, readonly string[]>> = {
  'wired NICs': [
    'e1000', 'e1000e', 'igb', 'igc', 'ixgbe', 'ixgbevf', 'i40e', 'ice', 'iavf', 'r8169', '8139cp', '8139too', 'tg3', 'bnx2', 'bnx2x', 'bnxt_en',
    'atlantic', 'alx', 'atl1c', 'atl1e', 'ena', 'virtio_net', 'vmxnet3', 'hv_netvsc', 'mlx4_en', 'mlx5_core', 'be2net', 'sky2', 'forcedeth', 'ne2k-pci', 'pcnet32', 'tulip',
    'r8152', 'ax88179_178a', 'asix', 'cdc_ether', 'cdc_ncm', 'smsc95xx', 'lan78xx', 'dwmac-generic', 'stmmac-pci', 'thunderbolt-net',
  ],
  'disks and controllers': [
    'ahci', 'ata_piix', 'ata_generic', 'pata_acpi', 'nvme', 'virtio_blk', 'virtio_scsi', 'virtio_pci', 'virtio_mmio', 'sd_mod', 'sr_mod', 'loop',
    'megaraid_sas', 'mpt3sas', 'hpsa', 'smartpqi', 'aacraid', 'vmw_pvscsi', 'hv_storvsc', 'hv_vmbus', 'mmc_block', 'sdhci-pci', 'sdhci-acpi', 'dm-mod',
  ],
  usb: ['xhci_pci', 'xhci_hcd', 'ehci_pci', 'ehci_hcd', 'ohci_pci', 'uhci_hcd', 'usb_storage', 'uas', 'usbhid', 'hid_generic', 'hid_hyperv', 'hyperv_keyboard'],
  'file systems': ['ext4', 'vfat', 'isofs', 'udf', 'ntfs3', 'squashfs', 'efivarfs', 'nls_cp437', 'nls_ascii', 'nls_iso8859-1', 'nls_utf8', 'crc32c_intel', 'crc32c_generic', 'crc32c-ce'],
};

export interface ModuleInfo {
  /** Path under lib/modules/<version>/, e.g. kernel/fs/ext4/ext4.ko */
  readonly rel: string;
  readonly name: string;
  readonly depends: readonly string[];
  readonly aliases: readonly string[];
  readonly softPre: readonly string[];
}

const norm = (n: string): string => n.replace(/-/g, '_');

/** Every module file of a kernel's module tree (`lib/modules/<version>`), by normalised name. */
export function moduleIndex(modDir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(modDir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.name.endsWith('.ko')) out.set(norm(e.name.slice(0, -3)), r);
    }
  };
  walk('kernel');
  return out;
}

export function moduleInfo(modDir: string, rel: string): ModuleInfo {
  const info = readModinfo(readFileSync(path.join(modDir, rel)));
  const get = (k: string) => info.filter((e) => e.key === k).map((e) => e.value);
  const depends = get('depends').flatMap((d) => d.split(',')).filter(Boolean).map(norm);
  // "softdep: pre: crypto-crc32c": the module asks for these before it starts (ext4's checksums).
  const softPre = get('softdep').flatMap((s) => /pre:\s*([^:]*?)(?:\s+post:|$)/.exec(s)?.[1]?.split(/\s+/) ?? []).filter(Boolean);
  return { rel, name: norm(path.basename(rel, '.ko')), depends, aliases: get('alias'), softPre };
}

export interface ModuleSelection {
  readonly modules: readonly ModuleInfo[];
  /** Names asked for that this kernel does not have as a module (built in, or another architecture). */
  readonly absent: readonly string[];
}

/** The named modules and everything they depend on. */
export function selectModules(modDir: string, names: readonly string[]): ModuleSelection {
  const index = moduleIndex(modDir);
  const chosen = new Map<string, ModuleInfo>();
  const absent: string[] = [];
  const want = (name: string, asked: boolean): void => {
    const n = norm(name);
    if (chosen.has(n)) return;
    const rel = index.get(n);
    if (!rel) {
      if (asked) absent.push(name);
      return;
    }
    const info = moduleInfo(modDir, rel);
    chosen.set(n, info);
    for (const d of info.depends) want(d, false);
  };
  for (const n of names) want(n, true);
  // Soft dependencies name aliases ("crypto-crc32c"): take every module that provides one.
  const soft = new Set([...chosen.values()].flatMap((m) => m.softPre));
  // A soft dependency is a module name (r8169 wants its PHY driver, realtek) or an alias.
  for (const name of soft) if (index.has(norm(name))) want(name, false);
  if (soft.size) {
    for (const [n, rel] of index) {
      if (chosen.has(n)) continue;
      const info = moduleInfo(modDir, rel);
      if (info.aliases.some((a) => soft.has(a))) want(n, false);
    }
  }
  return { modules: [...chosen.values()].sort((a, b) => a.rel.localeCompare(b.rel)), absent };
}

/**
 * modules.dep as kmod and busybox modprobe read it: `path: dep-path dep-path`, every dependency,
 * transitively, in the order modprobe loads them read right to left (a module's own
 * dependencies stand to its right, so they load before it).
 */
export function modulesDep(mods: readonly ModuleInfo[]): string {
  const byName = new Map(mods.map((m) => [m.name, m]));
  const lines = mods.map((m) => {
    const load: string[] = [];
    const seen = new Set<string>([m.name]);
    // Post-order: each dependency after its own dependencies, i.e. the order to load them in.
    const visit = (n: string): void => {
      for (const d of byName.get(n)?.depends ?? []) {
        if (seen.has(d)) continue;
        seen.add(d);
        visit(d);
        const dm = byName.get(d);
        if (dm) load.push(dm.rel);
      }
    };
    visit(m.name);
    return `${m.rel}:${load.length ? ` ${load.reverse().join(' ')}` : ''}`;
  });
  return `${lines.join('\n')}\n`;
}

export const modulesAlias = (mods: readonly ModuleInfo[]): string =>
  `${mods.flatMap((m) => m.aliases.map((a) => `alias ${a} ${m.name}`)).join('\n')}\n`;
