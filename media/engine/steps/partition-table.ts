/**
 * The partition table Format and Partition Disk writes, as pure functions: a volume entry of the
 * step (`name=…;type=…;size=…;fs=…`), where each volume starts and ends (1 MiB aligned), and the
 * sfdisk script that writes the table, for a disk image file or a block device alike.
 */
export const SECTOR = 512;
const ALIGN = 2048; // 1 MiB in sectors, as every partitioning tool aligns today
const GPT_TAIL = 34; // the backup GPT header and table at the end of the disk

export interface Volume {
  readonly name: string;
  readonly type: string;
  readonly size: { readonly sectors: number } | { readonly percent: number };
  readonly fs: string;
  readonly boot: boolean;
  readonly variable: string | null;
}

const GPT_TYPES: Record<string, string> = {
  // Microsoft basic data: FAT and NTFS data volumes.
  primary: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7',
  efi: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  msr: 'E3C9E316-0B5C-4DB8-817D-F92DF00215AE',
  recovery: 'DE94BBA4-06D1-4D40-A16A-BFD50179D6AC',
  // Where GRUB puts its core image on a GPT disk started by BIOS firmware (no post-MBR gap there).
  biosboot: '21686148-6449-6E6F-744E-656564454649',
};
const MBR_TYPES: Record<string, string> = { primary: '7', efi: 'ef', recovery: '27' };

/** File systems of a Linux data or root volume, which get the Linux types below instead of basic data. */
const LINUX_FS = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs']);
/**
 * Linux filesystem data (the generic Linux data type of the UAPI Discoverable Partitions
 * Specification) and MBR 0x83: basic data says "a Windows volume", which Windows then offers
 * to format as one it cannot read.
 */
const LINUX_DATA = { gpt: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', mbr: '83' };

/**
 * The sfdisk `type=` of a volume: the special ones (EFI system, MSR, recovery, BIOS boot) by their
 * type=; a data volume by its file system, Linux data for a Linux file system, else basic data.
 */
export function partitionType(v: Pick<Volume, 'type' | 'fs'>, gpt: boolean): string {
  const known = (gpt ? GPT_TYPES : MBR_TYPES)[v.type];
  if (known && v.type !== 'primary') return known;
  if (LINUX_FS.has(v.fs)) return gpt ? LINUX_DATA.gpt : LINUX_DATA.mbr;
  return known ?? (gpt ? GPT_TYPES.primary! : v.fs === 'fat32' ? 'c' : '7');
}

export function parseVolume(entry: string): Volume {
  const kv = new Map<string, string>();
  for (const part of entry.split(';')) {
    const at = part.indexOf('=');
    if (at > 0) kv.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  const rawSize = kv.get('size') ?? '100%';
  const m = /^(\d+(?:\.\d+)?)\s*(%|MB|GB|TB)$/i.exec(rawSize);
  if (!m) throw new Error(`volume ${JSON.stringify(entry)}: size must be like 500MB, 20GB or 100%`);
  const n = Number(m[1]);
  const unit = m[2]!.toUpperCase();
  const mib = unit === 'MB' ? n : unit === 'GB' ? n * 1024 : n * 1024 * 1024;
  return {
    name: kv.get('name') ?? '',
    type: (kv.get('type') ?? 'primary').toLowerCase(),
    size: unit === '%' ? { percent: n } : { sectors: Math.round((mib * 1024 * 1024) / SECTOR) },
    fs: (kv.get('fs') ?? 'ntfs').toLowerCase(),
    boot: kv.get('boot') === 'true',
    variable: kv.get('variable') ?? null,
  };
}

/** Start and size in sectors for each volume; a percentage is of the space left at that point. */
export function layout(volumes: readonly Volume[], diskSectors: number, gpt: boolean): { start: number; sectors: number }[] {
  const end = diskSectors - (gpt ? GPT_TAIL : 0);
  let start = ALIGN;
  return volumes.map((v, i) => {
    const left = Math.floor((end - start) / ALIGN) * ALIGN;
    let sectors = 'percent' in v.size ? Math.floor((left * v.size.percent) / 100 / ALIGN) * ALIGN : Math.ceil(v.size.sectors / ALIGN) * ALIGN;
    // The last volume at 100% takes everything up to the end, unaligned tail included.
    if ('percent' in v.size && v.size.percent === 100 && i === volumes.length - 1) sectors = end - start;
    if (sectors <= 0 || start + sectors > end) throw new Error(`volume ${i + 1} (${v.name || v.type}) does not fit on the disk`);
    const out = { start, sectors };
    start += Math.ceil(sectors / ALIGN) * ALIGN;
    return out;
  });
}

export function sfdiskScript(volumes: readonly Volume[], places: readonly { start: number; sectors: number }[], gpt: boolean): string {
  const lines = [`label: ${gpt ? 'gpt' : 'dos'}`, ''];
  volumes.forEach((v, i) => {
    const attrs = [`start=${places[i]!.start}`, `size=${places[i]!.sectors}`, `type=${partitionType(v, gpt)}`];
    if (gpt && v.name) attrs.push(`name="${v.name.replace(/"/g, '')}"`);
    if (!gpt && v.boot) attrs.push('bootable');
    lines.push(attrs.join(', '));
  });
  return `${lines.join('\n')}\n`;
}

