/**
 * The volumes Format and Partition Disk made in this run, kept in the run's state (state.ts) so
 * a later Apply Operating System Image, and a start after a restart or a crash, know which
 * partition is which without probing: device, file system, UUID, and which ones an Apply step
 * already took. Choosing the destination of an Apply step is a pure function of that record,
 * as Configuration Manager chooses it from the partitions the Format step created.
 */
export interface VolumeRecord {
  readonly disk: number;
  /** 1-based, in the order of the step's volume list (the partition table's order). */
  readonly partition: number;
  /** The disk: a block device (/dev/vda) or a disk image file. */
  readonly diskPath: string;
  /** The partition's device node; null on a disk image file (no loop devices there). */
  readonly device: string | null;
  readonly table: 'gpt' | 'mbr';
  /** What is on it: the step's ntfs becomes ext4 on this engine. */
  readonly fs: 'ext4' | 'vfat' | 'none';
  /** The step's type: primary, efi, msr, recovery, biosboot. */
  readonly type: string;
  readonly label: string;
  /** Made by the engine (mkfs -U / -i), so nothing has to probe for it: `xxxxxxxx-…` or FAT's `XXXX-XXXX`. */
  readonly uuid: string | null;
  readonly variable: string | null;
}

/** Mutable: steps add to it; the session saves it with the run's state after every step. */
export interface DiskBook {
  volumes: VolumeRecord[];
  /** Keys (volumeKey) of the volumes an Apply Operating System Image step used, in order. */
  applied: string[];
}

export const newDiskBook = (): DiskBook => ({ volumes: [], applied: [] });

export const volumeKey = (v: Pick<VolumeRecord, 'disk' | 'partition'>): string => `disk${v.disk}p${v.partition}`;

/** The value a volume's `variable=` gets: the device where there is one, else the disk/partition key. */
export const volumeValue = (v: VolumeRecord): string => v.device ?? volumeKey(v);

/** Never a destination for an OS: they hold boot files, nothing, or a recovery environment. */
const NOT_FOR_OS = new Set(['efi', 'msr', 'recovery', 'biosboot']);

export type Destination =
  | { readonly kind: 'nextAvailable' }
  | { readonly kind: 'specificDiskAndPartition'; readonly disk: number; readonly partition: number }
  /** A value from a variable a Format step set, or a drive letter as written in the step. */
  | { readonly kind: 'named'; readonly value: string };

export type Choice = { readonly kind: 'volume'; readonly volume: VolumeRecord } | { readonly kind: 'none'; readonly reason: string };

/**
 * The volume an Apply step writes to. nextAvailable: the first formatted volume of this run that
 * is not a boot, reserved or recovery partition and that no earlier Apply step targeted.
 */
export function chooseVolume(book: DiskBook, dest: Destination): Choice {
  const taken = new Set(book.applied);
  if (dest.kind === 'nextAvailable') {
    const v = book.volumes.find((x) => x.fs !== 'none' && !NOT_FOR_OS.has(x.type) && !taken.has(volumeKey(x)));
    if (v) return { kind: 'volume', volume: v };
    return { kind: 'none', reason: `no formatted volume is left for the next available partition (made in this run: ${book.volumes.map((x) => `${volumeKey(x)} ${x.type} ${x.fs}`).join(', ') || 'none'})` };
  }
  const v = dest.kind === 'specificDiskAndPartition'
    ? book.volumes.find((x) => x.disk === dest.disk && x.partition === dest.partition)
    : book.volumes.find((x) => x.device === dest.value || volumeKey(x) === dest.value.toLowerCase() || (x.label !== '' && x.label === dest.value));
  const what = dest.kind === 'specificDiskAndPartition' ? `disk ${dest.disk} partition ${dest.partition}` : JSON.stringify(dest.value);
  if (!v) return { kind: 'none', reason: `${what} is not a volume Format and Partition Disk made in this run` };
  if (v.fs === 'none') return { kind: 'none', reason: `${what} has no file system (fs=none)` };
  return { kind: 'volume', volume: v };
}

/** The EFI system partition on the same disk as `v`, if the Format step made one. */
export const espFor = (book: DiskBook, v: VolumeRecord): VolumeRecord | undefined => book.volumes.find((x) => x.disk === v.disk && x.type === 'efi' && x.fs === 'vfat');
