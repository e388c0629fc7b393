/**
 * Format and Partition Disk. Disk N (`--disk N=PATH`) is either a real block device, partitioned
 * and formatted for real (block-disk.ts), or a disk image file, handled here without loop
 * devices: the table is written by `sfdisk` straight into the file, and each volume is made in
 * place with `mkfs.vfat --offset` (FAT32) or `mkfs.ext4 -E offset=` at the partition's byte
 * offset. An `ntfs` volume becomes ext4: Linux has no NTFS formatter that writes at an offset
 * into a file. Either way the volumes are recorded in the run's disk book (volumes.ts).
 */
import { statSync } from 'node:fs';
import type { StepItem } from '../../../policy/task-sequences/model.js';
import { partitionBlockDevice } from './block-disk.js';
import { layout, parseVolume, SECTOR, sfdiskScript } from './partition-table.js';
import { runProcess } from './process.js';
import { fail, int, list, ok, text, which, type StepEnv, type StepHandler } from './types.js';
import { volumeKey, type VolumeRecord } from './volumes.js';

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
  if (!gpt && volumes.some((v) => v.type === 'biosboot')) return fail('type=biosboot is for GPT disks: on an MBR disk GRUB uses the gap after the MBR');
  // What was on this disk before is gone: earlier volumes of it can no longer be targeted.
  forgetDisk(env, target.disk);
  const st = statSync(target.file);
  if (st.isBlockDevice()) return partitionBlockDevice({ env, disk: target.disk, device: target.file, volumes, gpt, sfdisk });
  const bytes = st.size;
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
    const record: VolumeRecord = {
      disk: target.disk, partition: i + 1, diskPath: target.file, device: null, table: gpt ? 'gpt' : 'mbr',
      fs: v.fs === 'fat32' ? 'vfat' : v.fs === 'none' ? 'none' : 'ext4', type: v.type, label: v.name, uuid: null, variable: v.variable,
    };
    env.disk.volumes.push(record);
    if (v.variable) env.vars.set(v.variable, volumeKey(record));
    out.push(`volume ${i + 1}: ${v.name || v.type} ${v.fs === 'ntfs' ? 'ext4 (for ntfs)' : v.fs} at sector ${start}, ${kib} KiB`);
  }
  return ok(`disk ${target.disk} (${target.file}) partitioned (${gpt ? 'GPT' : 'MBR'}) with ${volumes.length} volume(s)`, { exitCode: 0, output: out.join('\n').trim() });
};

/** Drops the records of disk `disk` (it is being partitioned again). */
function forgetDisk(env: StepEnv, disk: number): void {
  const gone = new Set(env.disk.volumes.filter((v) => v.disk === disk).map(volumeKey));
  env.disk.volumes = env.disk.volumes.filter((v) => v.disk !== disk);
  env.disk.applied = env.disk.applied.filter((k) => !gone.has(k));
}
