/**
 * Prestaged media: a raw disk image for OEM factories. An MBR partition table (sfdisk,
 * which works on a plain file) with one FAT32 partition at 1 MiB, built apart with mkfs.vfat
 * and mtools and then copied in place: no loop device, no root. FAT32 keeps the image readable
 * by Windows PE and by the firmware (EFI/BOOT/BOOTX64.EFI on it makes it UEFI-bootable).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { fatSizeKiB, fillFatTree, makeFat } from './fat.js';
import { walkFiles } from './files.js';
import { MediaError, VOLUME_ID } from './model.js';
import { runTool } from './tools.js';

export const PARTITION_OFFSET = 1024 * 1024;
/** FAT32 needs 65,525 clusters; 64 MiB leaves room with 512-byte clusters. */
const MIN_FAT32_KIB = 64 * 1024;
const FAT_MAX_FILE = 2 ** 32 - 1;

export async function buildDiskImage(stage: string, out: string, work: string, onStep?: (message: string) => void): Promise<{ partitionOffset: number; size: number }> {
  const files = await walkFiles(stage);
  const big = files.find((f) => f.size > FAT_MAX_FILE);
  if (big) throw new MediaError('too-large', `${big.path} is ${big.size} bytes; FAT32 holds files up to 4 GiB - 1 (split the image, e.g. with wimlib-imagex split)`);
  const sizeKiB = fatSizeKiB(files.map((f) => f.size), MIN_FAT32_KIB);
  const part = `${work}/partition.img`;
  onStep?.(`formatting a ${Math.round(sizeKiB / 1024)} MiB FAT32 partition`);
  await makeFat(part, { sizeKiB, label: VOLUME_ID, fat32: true });
  onStep?.(`copying ${files.length} files into the partition`);
  await fillFatTree(part, stage);

  const partBytes = (await stat(part)).size;
  const total = PARTITION_OFFSET + partBytes;
  await rm(out, { force: true });
  const fh = await open(out, 'w', 0o644);
  await fh.truncate(total); // sparse where the filesystem is empty
  await fh.close();
  onStep?.('writing the MBR partition table');
  // One primary partition, FAT32 (LBA) = type c, marked active.
  await runTool('sfdisk', ['--no-reread', '--no-tell-kernel', out], { input: `label: dos\nunit: sectors\nstart=${PARTITION_OFFSET / 512}, size=${partBytes / 512}, type=c, bootable\n` });
  await pipeline(createReadStream(part), createWriteStream(out, { flags: 'r+', start: PARTITION_OFFSET }));
  await rm(part, { force: true });
  return { partitionOffset: PARTITION_OFFSET, size: total };
}

export interface PartitionInfo {
  readonly offset: number;
  readonly type: number;
}

/** The first partition of an MBR disk image, read from the table itself. */
export async function firstPartition(image: string): Promise<PartitionInfo | null> {
  const fh = await open(image, 'r');
  try {
    const mbr = Buffer.alloc(512);
    const { bytesRead } = await fh.read(mbr, 0, 512, 0);
    if (bytesRead < 512 || mbr[510] !== 0x55 || mbr[511] !== 0xaa) return null;
    for (let i = 0; i < 4; i++) {
      const e = 446 + i * 16;
      const type = mbr[e + 4]!;
      const lba = mbr.readUInt32LE(e + 8);
      if (type !== 0 && lba > 0) return { offset: lba * 512, type };
    }
    return null;
  } finally {
    await fh.close();
  }
}

/** Copies the whole FAT filesystem of a prestaged disk out into `dir` (mtools reads at an offset). */
export async function extractDisk(image: string, dir: string): Promise<void> {
  const p = await firstPartition(image);
  if (!p || ![0x0b, 0x0c, 0x0e, 0x06, 0xef].includes(p.type)) throw new MediaError('not-media', `${image} has no FAT partition`);
  await runTool('mcopy', ['-s', '-n', '-i', `${image}@@${p.offset}`, '::/*', dir]);
}
