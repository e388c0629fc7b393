/**
 * Format and Partition Disk on a disk image file (`--disk N=FILE`), without loop devices: the
 * table is written by `sfdisk` straight into the file, and each volume is made in place with
 * `mkfs.vfat --offset` (FAT32) or `mkfs.ext4 -E offset=` at the partition's byte offset. An
 * `ntfs` volume becomes ext4: Linux has no NTFS formatter that writes at an offset into a file.
 */
import { statSync } from 'node:fs';
import type { StepItem } from '../../../policy/task-sequences/model.js';
import { runProcess } from './process.js';
import { fail, int, list, ok, text, which, type StepEnv, type StepHandler } from './types.js';

const SECTOR = 512;
const ALIGN = 2048; // 1 MiB in sectors, as every partitioning tool aligns today
const GPT_TAIL = 34; // the backup GPT header and table at the end of the disk

interface Volume {
  readonly name: string;
  readonly type: string;
  readonly size: { readonly sectors: number } | { readonly percent: number };
  readonly fs: string;
  readonly boot: boolean;
  readonly variable: string | null;
}

const GPT_TYPES: Record<string, string> = {
  primary: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7',
  efi: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  msr: 'E3C9E316-0B5C-4DB8-817D-F92DF00215AE',
  recovery: 'DE94BBA4-06D1-4D40-A16A-BFD50179D6AC',
};
const MBR_TYPES: Record<string, string> = { primary: '7', efi: 'ef', recovery: '27' };

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

function sfdiskScript(volumes: readonly Volume[], places: readonly { start: number; sectors: number }[], gpt: boolean): string {
  const lines = [`label: ${gpt ? 'gpt' : 'dos'}`, ''];
  volumes.forEach((v, i) => {
    const type = (gpt ? GPT_TYPES : MBR_TYPES)[v.type] ?? (gpt ? GPT_TYPES.primary : v.fs === 'fat32' ? 'c' : '7');
    const attrs = [`start=${places[i]!.start}`, `size=${places[i]!.sectors}`, `type=${type}`];
    if (gpt && v.name) attrs.push(`name="${v.name.replace(/"/g, '')}"`);
    if (!gpt && v.boot) attrs.push('bootable');
    lines.push(attrs.join(', '));
  });
  return `${lines.join('\n')}\n`;
}

function diskImage(step: StepItem, env: StepEnv): { disk: number; file: string } | string {
  const varName = text(step, env, 'diskNumberVariable');
  const disk = varName && env.vars.get(varName) !== undefined ? Number(env.vars.get(varName)) : (int(step, 'diskNumber') ?? 0);
  const file = env.disks.get(disk);
  if (!file) return `disk ${disk} has no disk image here (start the engine with --disk ${disk}=FILE)`;
  return { disk, file };
}

export const formatAndPartitionDisk: StepHandler = async (step, env) => {
  const target = diskImage(step, env);
  if (typeof target === 'string') return fail(target);
  const sfdisk = which('sfdisk', env.searchPath);
  if (!sfdisk) return fail('not supported here: sfdisk not found (Debian package fdisk)');
  const volumes = list<string>(step, 'partitions').map(parseVolume);
  if (volumes.length === 0) return fail('no volumes to create');
  if (volumes.some((v) => v.type === 'extended' || v.type === 'logical')) return fail('extended and logical partitions are not supported by this engine');
  const gpt = text(step, env, 'diskType') !== 'mbr';
  const bytes = statSync(target.file).size;
  const places = layout(volumes, Math.floor(bytes / SECTOR), gpt);
  const out: string[] = [];
  const r = await runProcess(sfdisk, ['--no-reread', '--no-tell-kernel', '--wipe', 'always', target.file], { cwd: env.stateDir, input: sfdiskScript(volumes, places, gpt) });
  out.push(r.output);
  if (r.spawnError || r.exitCode !== 0) return fail(`sfdisk failed on ${target.file} (exit ${r.exitCode})`, { exitCode: r.exitCode, output: out.join('\n') });

  for (const [i, v] of volumes.entries()) {
    const { start, sectors } = places[i]!;
    const kib = Math.floor((sectors * SECTOR) / 1024);
    let cmd: [string, string[]] | null = null;
    if (v.fs === 'fat32') {
      const mkfs = which('mkfs.vfat', env.searchPath);
      if (!mkfs) return fail('not supported here: mkfs.vfat not found (Debian package dosfstools)');
      // FAT32 needs about 32 MiB of clusters; smaller volumes get the FAT size that fits.
      const fat = kib >= 64 * 1024 ? ['-F', '32'] : [];
      cmd = [mkfs, [...fat, '-n', (v.name || 'VOLUME').toUpperCase().slice(0, 11), '--offset', String(start), target.file, String(kib)]];
    } else if (v.fs === 'ntfs' || v.fs === 'ext4') {
      const mkfs = which('mkfs.ext4', env.searchPath);
      if (!mkfs) return fail('not supported here: mkfs.ext4 not found (Debian package e2fsprogs)');
      cmd = [mkfs, ['-q', '-F', '-L', (v.name || 'volume').slice(0, 16), '-E', `offset=${start * SECTOR}`, target.file, `${kib}k`]];
    } else if (v.fs !== 'none') return fail(`volume ${i + 1}: file system ${v.fs} is not supported (fat32, ntfs, ext4 or none)`);
    if (cmd) {
      const f = await runProcess(cmd[0], cmd[1], { cwd: env.stateDir });
      out.push(f.output);
      if (f.spawnError || f.exitCode !== 0) return fail(`formatting volume ${i + 1} (${v.fs}) failed (exit ${f.exitCode})`, { exitCode: f.exitCode, output: out.join('\n') });
    }
    if (v.variable) env.vars.set(v.variable, `disk${target.disk}p${i + 1}`);
    out.push(`volume ${i + 1}: ${v.name || v.type} ${v.fs === 'ntfs' ? 'ext4 (for ntfs)' : v.fs} at sector ${start}, ${kib} KiB`);
  }
  return ok(`disk ${target.disk} (${target.file}) partitioned (${gpt ? 'GPT' : 'MBR'}) with ${volumes.length} volume(s)`, { exitCode: 0, output: out.join('\n').trim() });
};
