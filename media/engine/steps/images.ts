/**
 * Apply Operating System Image and Capture Operating System Image on the target folder
 * (`--root`). An image is a tar archive (any compression GNU tar detects) or a WIM, applied with
 * `wimlib-imagex` from Debian's wimtools when it is installed. Capture writes a tar of the
 * target, or a WIM when the destination ends in .wim and wimlib-imagex is there.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fetchContent } from './packages.js';
import { runProcess } from './process.js';
import { fail, int, ok, text, which, type StepEnv, type StepHandler } from './types.js';

const TAR = /\.(tar|tar\.gz|tgz|tar\.xz|txz|tar\.zst|tar\.bz2)$/i;
const WIM = /\.wim$/i;

function tool(env: StepEnv, name: string, pkg: string): string | { error: string } {
  return which(name, env.searchPath) ?? { error: `not supported here: ${name} not found (Debian package ${pkg})` };
}

export const applyOperatingSystemImage: StepHandler = async (step, env) => {
  const id = text(step, env, 'osImageId')!;
  const { dir, files, note } = await fetchContent(env, id);
  const image = files.find((f) => WIM.test(f.path)) ?? files.find((f) => TAR.test(f.path));
  if (!image) return fail(`OS image ${id} holds no .wim or tar archive (files: ${files.map((f) => f.path).join(', ') || 'none'})`);
  const file = path.join(dir, ...image.path.split('/'));
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
  return ok(`${image.path} of ${id} applied to ${env.root}`, { exitCode: 0, output });
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
