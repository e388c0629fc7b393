/**
 * Format and Partition Disk on a real block device (/dev/vda, /dev/nvme0n1, /dev/sda): sfdisk
 * writes the table and tells the kernel, the engine waits for the kernel's partition devices,
 * then formats each one. The partition devices are found through sysfs
 * (/sys/block/<disk>/<part>/partition, start, size), never by guessing names: vda1, nvme0n1p1
 * and loop0p1 all follow different rules. A kernel that does not re-read the table itself
 * (no partition parser for it, or a busy disk) gets one nudge from `partx -u` when it exists.
 *
 * Every file system's UUID is made here (mkfs.ext4 -U, mkfs.vfat -i) and recorded, so fstab and
 * grub.cfg are written from the record with no blkid afterwards.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { StepOutcome } from '../runner.js';
import { layout, sfdiskScript, SECTOR, type Volume } from './partition-table.js';
import { runProcess } from './process.js';
import { fail, ok, which, type StepEnv } from './types.js';
import { volumeValue, type VolumeRecord } from './volumes.js';

const WAIT_MS = 10_000;
const NUDGE_AFTER_MS = 1_500;

export interface BlockTarget {
  readonly env: StepEnv;
  readonly disk: number;
  readonly device: string;
  readonly volumes: readonly Volume[];
  readonly gpt: boolean;
  readonly sfdisk: string;
}

export interface KernelPartition {
  readonly number: number;
  readonly name: string;
  readonly start: number;
  readonly sectors: number;
}

/** The partitions the kernel knows on disk `name` (e.g. vda), from sysfs; in 512-byte sectors. */
export function kernelPartitions(name: string, sysBlock = '/sys/block'): KernelPartition[] {
  const dir = path.join(sysBlock, name);
  const out: KernelPartition[] = [];
  let children: string[];
  try {
    children = readdirSync(dir);
  } catch {
    return out;
  }
  for (const child of children) {
    const read = (f: string) => readFileSync(path.join(dir, child, f), 'utf8').trim();
    try {
      if (!existsSync(path.join(dir, child, 'partition'))) continue;
      out.push({ number: Number(read('partition')), name: child, start: Number(read('start')), sectors: Number(read('size')) });
    } catch {
      // a partition removed while we looked
    }
  }
  return out.sort((a, b) => a.number - b.number);
}

/** Resolves when every expected partition has its device node with the start and size we wrote. */
async function waitForPartitions(env: StepEnv, name: string, places: readonly { start: number; sectors: number }[], out: string[]): Promise<string[] | string> {
  const deadline = Date.now() + WAIT_MS;
  const nudgeAt = Date.now() + NUDGE_AFTER_MS;
  let nudged: 0 | 1 | 2 = 0;
  for (;;) {
    const known = kernelPartitions(name);
    const nodes = places.map((p, i) => {
      const k = known.find((x) => x.number === i + 1);
      // A stale entry of the old table has another start or size: not ours yet.
      if (!k || k.start !== p.start || k.sectors !== p.sectors) return null;
      const node = `/dev/${k.name}`;
      try {
        return statSync(node).isBlockDevice() ? node : null;
      } catch {
        return null;
      }
    });
    if (nodes.every((n) => n !== null)) return nodes as string[];
    if (Date.now() >= deadline) {
      return `the kernel did not show the new partitions of /dev/${name} within ${WAIT_MS / 1000} s (it knows: ${known.map((k) => `${k.name} at ${k.start}`).join(', ') || 'none'})`;
    }
    const partx = which('partx', env.searchPath);
    // First an update; if stale entries of the old table block it (overlaps), drop them all and add.
    const nudges = nudged ? (Date.now() >= nudgeAt + NUDGE_AFTER_MS * 2 && nudged === 1 ? [['-d'], ['-a']] : []) : Date.now() >= nudgeAt ? [['-u']] : [];
    if (partx && nudges.length > 0) {
      nudged = nudged ? 2 : 1;
      for (const args of nudges) {
        const r = await runProcess(partx, [...args, `/dev/${name}`], { cwd: '/', timeoutMs: 30_000 });
        out.push(`partx ${args.join(' ')} /dev/${name}: exit ${r.exitCode}${r.output.trim() ? `: ${r.output.trim()}` : ''}`);
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** FAT has a 32-bit serial, shown as XXXX-XXXX: that is what fstab's UUID= and GRUB's search take. */
export const fatSerialUuid = (hex: string): string => `${hex.slice(0, 4)}-${hex.slice(4, 8)}`.toUpperCase();

function mkfsCommand(env: StepEnv, v: Volume, node: string, sectors: number, index: number): { cmd: [string, string[]]; uuid: string } | { error: string } | null {
  if (v.fs === 'none') return null;
  if (v.fs === 'fat32') {
    const mkfs = which('mkfs.vfat', env.searchPath);
    if (!mkfs) return { error: 'not supported here: mkfs.vfat not found (Debian package dosfstools)' };
    const serial = randomBytes(4).toString('hex');
    // FAT32 needs about 32 MiB of clusters; smaller volumes get the FAT size that fits.
    const fat = sectors * SECTOR >= 64 * 1024 * 1024 ? ['-F', '32'] : [];
    return { cmd: [mkfs, [...fat, '-n', (v.name || 'VOLUME').toUpperCase().slice(0, 11), '-i', serial, node]], uuid: fatSerialUuid(serial) };
  }
  if (v.fs === 'ntfs' || v.fs === 'ext4') {
    const mkfs = which('mkfs.ext4', env.searchPath);
    if (!mkfs) return { error: 'not supported here: mkfs.ext4 not found (Debian package e2fsprogs)' };
    const uuid = randomUUID();
    return { cmd: [mkfs, ['-q', '-F', '-L', (v.name || 'volume').slice(0, 16), '-U', uuid, node]], uuid };
  }
  return { error: `volume ${index + 1}: file system ${v.fs} is not supported (fat32, ntfs, ext4 or none)` };
}

export async function partitionBlockDevice(t: BlockTarget): Promise<StepOutcome> {
  const { env, disk, device, volumes, gpt } = t;
  const bad = volumes.findIndex((v) => !['fat32', 'ntfs', 'ext4', 'none'].includes(v.fs));
  if (bad >= 0) return fail(`volume ${bad + 1}: file system ${volumes[bad]!.fs} is not supported (fat32, ntfs, ext4 or none)`);
  const name = path.basename(realpathSync(device));
  let diskSectors: number;
  try {
    diskSectors = Number(readFileSync(`/sys/block/${name}/size`, 'utf8').trim()); // always in 512-byte units
  } catch {
    return fail(`${device} is a block device but not a whole disk (/sys/block/${name} is missing): give the disk, not a partition`);
  }
  // Our own mounts of this disk (a Format step run again after an Apply) would make sfdisk refuse it.
  if (env.mounts.entries.some((m) => m.device.startsWith(`/dev/${name}`))) await env.mounts.releaseAll();
  const places = layout(volumes, diskSectors, gpt);
  const out: string[] = [];
  const r = await runProcess(t.sfdisk, ['--wipe', 'always', '--wipe-partitions', 'always', device], { cwd: '/', input: sfdiskScript(volumes, places, gpt), timeoutMs: 120_000 });
  out.push(r.output);
  if (r.spawnError || r.exitCode !== 0) return fail(`sfdisk failed on ${device} (exit ${r.exitCode})`, { exitCode: r.exitCode, output: out.join('\n') });
  const nodes = await waitForPartitions(env, name, places, out);
  if (typeof nodes === 'string') return fail(nodes, { output: out.join('\n') });

  for (const [i, v] of volumes.entries()) {
    const node = nodes[i]!;
    const made = mkfsCommand(env, v, node, places[i]!.sectors, i);
    if (made && 'error' in made) return fail(made.error, { output: out.join('\n') });
    if (made) {
      const f = await runProcess(made.cmd[0], made.cmd[1], { cwd: '/', timeoutMs: 30 * 60_000 });
      out.push(f.output);
      if (f.spawnError || f.exitCode !== 0) return fail(`formatting ${node} (${v.fs}) failed (exit ${f.exitCode})`, { exitCode: f.exitCode, output: out.join('\n') });
    }
    const record: VolumeRecord = {
      disk, partition: i + 1, diskPath: device, device: node, table: gpt ? 'gpt' : 'mbr',
      fs: v.fs === 'fat32' ? 'vfat' : v.fs === 'none' ? 'none' : 'ext4', type: v.type, label: v.name, uuid: made?.uuid ?? null, variable: v.variable,
    };
    env.disk.volumes.push(record);
    if (v.variable) env.vars.set(v.variable, volumeValue(record));
    out.push(`volume ${i + 1}: ${node} ${v.name || v.type} ${record.fs}${v.fs === 'ntfs' ? ' (for ntfs)' : ''}${record.uuid ? ` UUID=${record.uuid}` : ''}, ${Math.floor((places[i]!.sectors * SECTOR) / 1024 / 1024)} MiB`);
  }
  return ok(`disk ${disk} (${device}) partitioned (${gpt ? 'GPT' : 'MBR'}) with ${volumes.length} volume(s)`, { exitCode: 0, output: out.join('\n').trim() });
}
