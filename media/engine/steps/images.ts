/**
 * Apply Operating System Image and Capture Operating System Image on the target folder
 * (`--root`). An image is a tar archive (any compression GNU tar detects) or a WIM, applied with
 * `wimlib-imagex` from Debian's wimtools when it is installed. Capture writes a tar of the
 * target, or a WIM when the destination ends in .wim and wimlib-imagex is there.
 *
 * When Format and Partition Disk made volumes in this run, Apply picks one as Configuration
 * Manager does (volumes.ts): on a block device it is mounted at --root, the image applied onto
 * it, and the disk made bootable (boot-setup.ts). On a disk image file, or with no volumes at all,
 * the image goes into the folder --root and the boot setup is skipped with the reason logged.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { StepItem } from '../../../policy/task-sequences/model.js';
import { setupBoot } from './boot-setup.js';
import { fetchContent } from './packages.js';
import { runProcess } from './process.js';
import { mountEsp, mountRoot } from './target-mount.js';
import { fail, int, ok, text, which, type StepEnv, type StepHandler } from './types.js';
import { chooseVolume, volumeKey, type Destination, type VolumeRecord } from './volumes.js';

const TAR = /\.(tar|tar\.gz|tgz|tar\.xz|txz|tar\.zst|tar\.bz2)$/i;
const WIM = /\.wim$/i;

function tool(env: StepEnv, name: string, pkg: string): string | { error: string } {
  return which(name, env.searchPath) ?? { error: `not supported here: ${name} not found (Debian package ${pkg})` };
}

/** The step's destination, as volumes.ts chooses among this run's volumes. */
function destinationOf(step: StepItem, env: StepEnv): Destination | string {
  const d = text(step, env, 'destination') ?? 'nextAvailable';
  if (d === 'nextAvailable') return { kind: 'nextAvailable' };
  if (d === 'specificDiskAndPartition') {
    const disk = int(step, 'destinationDisk') ?? 0;
    const partition = int(step, 'destinationPartition');
    return partition === undefined ? 'destination specificDiskAndPartition needs a partition number' : { kind: 'specificDiskAndPartition', disk, partition };
  }
  if (d === 'specificDriveLetter') {
    const value = text(step, env, 'destinationDriveLetter');
    return value ? { kind: 'named', value } : 'destination specificDriveLetter needs a drive letter';
  }
  const name = text(step, env, 'destinationVariable');
  const value = name ? env.vars.get(name) : undefined;
  return value ? { kind: 'named', value } : `destination variable ${name ?? '(none)'} is not set (Format and Partition Disk sets it with variable=)`;
}

/** The volume to apply onto, or null for the folder --root (no Format step made volumes here). */
function targetVolume(step: StepItem, env: StepEnv): VolumeRecord | null | string {
  if (env.disk.volumes.length === 0) return null;
  const dest = destinationOf(step, env);
  if (typeof dest === 'string') return dest;
  const choice = chooseVolume(env.disk, dest);
  return choice.kind === 'volume' ? choice.volume : choice.reason;
}

export const applyOperatingSystemImage: StepHandler = async (step, env) => {
  const id = text(step, env, 'osImageId')!;
  const volume = targetVolume(step, env);
  if (typeof volume === 'string') return fail(volume);
  const { dir, files, note } = await fetchContent(env, id);
  const image = files.find((f) => WIM.test(f.path)) ?? files.find((f) => TAR.test(f.path));
  if (!image) return fail(`OS image ${id} holds no .wim or tar archive (files: ${files.map((f) => f.path).join(', ') || 'none'})`);
  const file = path.join(dir, ...image.path.split('/'));
  if (volume?.device) await mountRoot(env, volume);
  mkdirSync(env.root, { recursive: true });
  let r;
  if (WIM.test(image.path)) {
    const wimlib = tool(env, 'wimlib-imagex', 'wimtools');
    if (typeof wimlib !== 'string') return fail(wimlib.error);
    r = await runProcess(wimlib, ['apply', file, String(int(step, 'imageIndex') ?? 1), env.root], { cwd: env.root });
  } else {
    const tar = tool(env, 'tar', 'tar');
    if (typeof tar !== 'string') return fail(tar.error);
    // GNU tar refuses members with '..' and strips leading '/', so an image cannot write outside the root.
    r = await runProcess(tar, ['-xf', file, '-C', env.root, '--no-same-owner'], { cwd: env.root });
  }
  const output = `${note}\n${r.output}`;
  if (r.spawnError || r.exitCode !== 0) return fail(`applying ${image.path} failed (exit ${r.exitCode}${r.spawnError ? `, ${r.spawnError}` : ''})`, { exitCode: r.exitCode, output });

  const unattendPkg = text(step, env, 'unattendPackageId');
  const unattendFile = text(step, env, 'unattendFile');
  if (unattendPkg && unattendFile) {
    // Where Windows setup looks for its answer file.
    const src = path.join((await fetchContent(env, unattendPkg)).dir, ...unattendFile.replaceAll('\\', '/').split('/'));
    const panther = path.join(env.root, 'Windows', 'Panther');
    mkdirSync(panther, { recursive: true });
    copyFileSync(src, path.join(panther, 'unattend.xml'));
  }
  env.vars.set('OSDTargetSystemDrive', env.root);
  if (volume && !env.disk.applied.includes(volumeKey(volume))) env.disk.applied.push(volumeKey(volume));
  const where = volume?.device ? `${volume.device} (mounted at ${env.root})` : env.root;
  if (!volume?.device) {
    const why = volume ? `${volumeKey(volume)} is on the disk image file ${volume.diskPath}` : 'no Format and Partition Disk step made volumes on a disk in this run';
    env.log(`boot setup skipped: ${why}; the image was applied into the folder ${env.root}`);
    return ok(`${image.path} of ${id} applied to ${where}`, { exitCode: 0, output: `${output}
boot setup skipped: ${why}` });
  }
  const esp = await mountEsp(env, volume);
  const boot = await setupBoot(env, { root: env.root, volume, esp, book: env.disk });
  const all = `${output}
${boot.lines.join('\n')}`;
  if (!boot.ok) return fail(`${image.path} of ${id} applied to ${where}, but the disk was not made bootable: ${boot.message}`, { exitCode: 1, output: all });
  return ok(`${image.path} of ${id} applied to ${where} and made bootable (${env.uefi ? 'UEFI' : 'BIOS'})`, { exitCode: 0, output: all });
};

export const captureOperatingSystemImage: StepHandler = async (step, env) => {
  const dest = text(step, env, 'destination')!;
  if (dest.startsWith('\\\\') || dest.startsWith('//')) return fail(`network share destinations are not supported here (${dest}); give a local path`);
  const target = path.resolve(env.stateDir, dest);
  mkdirSync(path.dirname(target), { recursive: true });
  let r;
  if (WIM.test(target)) {
    const wimlib = tool(env, 'wimlib-imagex', 'wimtools');
    if (typeof wimlib !== 'string') return fail(wimlib.error);
    const name = text(step, env, 'description') ?? 'Captured image';
    r = await runProcess(wimlib, ['capture', env.root, target, name], { cwd: env.root });
  } else {
    const tar = tool(env, 'tar', 'tar');
    if (typeof tar !== 'string') return fail(tar.error);
    const rel = path.relative(env.root, target);
    // An image written inside the target must not capture itself.
    const exclude = rel.startsWith('..') || path.isAbsolute(rel) ? [] : [`--exclude=./${rel}`];
    r = await runProcess(tar, ['-cf', target, ...exclude, '-C', env.root, '.'], { cwd: env.root });
  }
  if (r.spawnError || r.exitCode !== 0) return fail(`capturing ${env.root} failed (exit ${r.exitCode}${r.spawnError ? `, ${r.spawnError}` : ''})`, { exitCode: r.exitCode, output: r.output });
  return ok(`${env.root} captured into ${target}`, { exitCode: 0, output: r.output });
};
