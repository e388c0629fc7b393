/**
 * The text Apply Operating System Image writes to make a Linux target boot from its own disk, as
 * pure functions (boot-setup.ts writes them): /etc/fstab and GRUB's grub.cfg from the volumes the
 * engine formatted (their UUIDs are known, nothing is probed), the kernel and initramfs the image
 * carries in /boot, the console the boot environment itself used, and the computer's name.
 */

export interface FstabVolumes {
  readonly root: { readonly uuid: string; readonly fs: string };
  readonly esp?: { readonly uuid: string } | undefined;
}

export function fstabText(v: FstabVolumes): string {
  const lines = [
    '# Written by osdeploy-engine (Apply Operating System Image) from the volumes it formatted.',
    '# <file system> <mount point> <type> <options> <dump> <pass>',
    `UUID=${v.root.uuid} / ${v.root.fs} errors=remount-ro 0 1`,
  ];
  // umask=0077: the ESP holds boot loaders; FAT has no permissions, so the mount gives them.
  if (v.esp) lines.push(`UUID=${v.esp.uuid} /boot/efi vfat umask=0077 0 1`);
  return `${lines.join('\n')}\n`;
}

/** Orders Debian kernel versions (6.1.0-13-amd64 < 6.1.0-28-amd64 < 6.12.0-1-amd64): numbers as numbers. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/(\d+)/).filter((x) => x !== '');
  const pb = b.split(/(\d+)/).filter((x) => x !== '');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny && Number(x) !== Number(y)) return Number(x) - Number(y);
    if (!(nx && ny) && x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export interface KernelChoice {
  /** File names in /boot. */
  readonly kernel: string;
  readonly initrd: string | null;
}

/**
 * The newest `vmlinuz-<version>` with its `initrd.img-<version>`; else plain `vmlinuz` and
 * `initrd.img` (Debian's symlinks, or an image that only has those). Null when there is no kernel.
 */
export function chooseKernel(bootFiles: readonly string[]): KernelChoice | null {
  const has = new Set(bootFiles);
  const versions = bootFiles.filter((f) => /^vmlinuz-.+/.test(f)).map((f) => f.slice('vmlinuz-'.length)).sort(compareVersions);
  const newest = versions.at(-1);
  if (newest !== undefined) return { kernel: `vmlinuz-${newest}`, initrd: has.has(`initrd.img-${newest}`) ? `initrd.img-${newest}` : null };
  if (has.has('vmlinuz')) return { kernel: 'vmlinuz', initrd: has.has('initrd.img') ? 'initrd.img' : null };
  return null;
}

/** The `console=` words of a kernel command line, in order (the last one is where /dev/console goes). */
export const consoleArgs = (cmdline: string): string[] => cmdline.split(/\s+/).filter((w) => /^console=\S+$/.test(w));

/** GRUB's serial settings for the first `console=ttyS<n>[,<speed>…]`, so its menu shows on the serial line too. */
export function serialOf(consoles: readonly string[]): { unit: number; speed: number } | null {
  for (const c of consoles) {
    const m = /^console=ttyS(\d+)(?:,(\d+))?/.exec(c);
    if (m) return { unit: Number(m[1]), speed: m[2] ? Number(m[2]) : 9600 };
  }
  return null;
}

/** A GRUB single-quoted string: a quote ends it, so it is written as '\'' . */
const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

export interface GrubConfig {
  readonly title: string;
  /** The file system holding /boot (here the root volume: /boot is not a volume of its own). */
  readonly bootUuid: string;
  readonly rootUuid: string;
  /** Paths as GRUB sees them on that file system. */
  readonly kernel: string;
  readonly initrd: string | null;
  readonly consoles: readonly string[];
  readonly timeoutSeconds?: number;
}

export function grubCfgText(c: GrubConfig): string {
  const serial = serialOf(c.consoles);
  const args = [`root=UUID=${c.rootUuid}`, 'ro', ...c.consoles].join(' ');
  const lines = [
    '# Written by osdeploy-engine (Apply Operating System Image): it boots the deployed OS.',
    '# The OS may replace it (update-grub); until then this is what the machine starts.',
    `set timeout=${c.timeoutSeconds ?? 1}`,
    'set default=0',
    ...(serial ? [`serial --unit=${serial.unit} --speed=${serial.speed}`, 'terminal_input serial console', 'terminal_output serial console'] : []),
    'insmod part_gpt',
    'insmod part_msdos',
    'insmod ext2',
    `search --no-floppy --fs-uuid --set=root ${c.bootUuid}`,
    `menuentry ${quote(c.title)} {`,
    `\tlinux ${c.kernel} ${args}`,
    ...(c.initrd ? [`\tinitrd ${c.initrd}`] : []),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

/** PRETTY_NAME of an os-release file, for the menu entry. */
export function osName(osRelease: string | null): string {
  const m = osRelease ? /^PRETTY_NAME=(?:"([^"]*)"|'([^']*)'|(.*))$/m.exec(osRelease) : null;
  return (m?.[1] ?? m?.[2] ?? m?.[3] ?? '').trim() || 'Linux';
}

/**
 * A host name from a computer name (NetBIOS names allow characters a host name does not): letters,
 * digits and hyphens, no leading or trailing hyphen, at most 63 characters (RFC 1123 §2.1).
 */
export function hostName(computerName: string): string | null {
  const h = computerName.trim().replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return h === '' ? null : h;
}

/** The image's /etc/hosts with its 127.0.1.1 line (Debian's line for the machine's own name) set to `name`. */
export function hostsText(existing: string | null, name: string): string {
  const own = `127.0.1.1\t${name}`;
  if (existing === null) return `127.0.0.1\tlocalhost\n${own}\n\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
  const lines = existing.replace(/\n$/, '').split('\n');
  const at = lines.findIndex((l) => /^127\.0\.1\.1\s/.test(l));
  if (at >= 0) lines[at] = own;
  else {
    const localhost = lines.findIndex((l) => /^127\.0\.0\.1\s/.test(l));
    lines.splice(localhost + 1, 0, own);
  }
  return `${lines.join('\n')}\n`;
}
