/**
 * Builds osdeploy's Linux boot environment: Debian's signed kernel and the modules for
 * common NICs, disks and file systems; busybox; the tools the engine's steps run (sfdisk, blkid,
 * mkfs.vfat, mkfs.ext4, GNU tar, wimlib-imagex, grub-install with GRUB's BIOS and UEFI
 * modules) with exactly the shared libraries they load; the Node.js runtime this service runs
 * on (same major version, by construction); the engine and the controller, each bundled into
 * one file; /init. Everything but Node and our own code comes from Debian packages fetched with
 * apt-get download (debs.ts says why not mmdebstrap). Output: `vmlinuz` and `initrd.img` (one
 * gzip'd cpio) and `boot-environment.json` describing them, in `outDir`.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import { findBundles, type Bundles } from './bundle.js';
import { CpioWriter, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG } from './cpio.js';
import { debUris, dependencyClosure, fetchDebs, resolveMeta, unpackDeb, versionOf, type DebFile } from './debs.js';
import { EM_AARCH64, EM_X86_64, readElf } from './elf.js';
import { ImageTree } from './image-tree.js';
import { INIT, UDHCPC_SCRIPT } from './init-scripts.js';
import { MODULES, modulesAlias, modulesDep, selectModules } from './modules.js';

const run = promisify(execFile);

export type BootEnvArch = 'x64' | 'arm64';

interface ArchSpec {
  readonly debArch: string;
  readonly kernelMeta: string;
  readonly triplet: string;
  readonly machine: number;
  readonly grub: readonly { pkg: string; dir: string }[];
  readonly nodeArch: string;
}

export const ARCHES: Readonly<Record<BootEnvArch, ArchSpec>> = {
  x64: {
    debArch: 'amd64',
    kernelMeta: 'linux-image-amd64',
    triplet: 'x86_64-linux-gnu',
    machine: EM_X86_64,
    grub: [{ pkg: 'grub-pc-bin', dir: 'i386-pc' }, { pkg: 'grub-efi-amd64-bin', dir: 'x86_64-efi' }],
    nodeArch: 'x64',
  },
  arm64: {
    debArch: 'arm64',
    kernelMeta: 'linux-image-arm64',
    triplet: 'aarch64-linux-gnu',
    machine: EM_AARCH64,
    grub: [{ pkg: 'grub-efi-arm64-bin', dir: 'arm64-efi' }],
    nodeArch: 'arm64',
  },
};

/** Debian packages of the userland (their dependencies come along). */
const USERLAND = ['busybox-static', 'fdisk', 'util-linux', 'dosfstools', 'e2fsprogs', 'wimtools', 'tar', 'grub-common', 'grub2-common', 'libstdc++6', 'libc6'];
/** Programs the image carries besides busybox's applets: what the engine's steps run. */
const PROGRAMS = ['sfdisk', 'blkid', 'wipefs', 'lsblk', 'mkfs.fat', 'mkfs.vfat', 'mke2fs', 'mkfs.ext4', 'e2fsck', 'fsck.ext4', 'tune2fs', 'wimlib-imagex', 'tar', 'grub-install', 'grub-mkimage', 'grub-probe', 'grub-editenv'];

export interface BuildProgress {
  readonly phase: 'resolve' | 'download' | 'unpack' | 'assemble' | 'pack' | 'done';
  readonly message: string;
  readonly percent: number;
}

export interface BuildOptions {
  readonly arch: BootEnvArch;
  /** Gets vmlinuz, initrd.img and boot-environment.json. */
  readonly outDir: string;
  /** Downloaded packages, kept between builds. */
  readonly cacheDir: string;
  /** Scratch space; removed afterwards. */
  readonly workDir: string;
  /** The Node.js binary to carry (default: the one running this, for x64 on x64). */
  readonly nodeBinary?: string;
  /** A client token the engine uses on network boots (see docs/boot-environment.md: its risk). */
  readonly token: string | null;
  /** osdeploy's version, written into the image. */
  readonly version: string;
  readonly onProgress?: (p: BuildProgress) => void;
  readonly bundles?: Bundles;
}

export interface BuildResult {
  readonly arch: BootEnvArch;
  readonly kernelPackage: string;
  readonly kernelVersion: string;
  readonly kernel: string;
  readonly initrd: string;
  readonly kernelBytes: number;
  readonly initrdBytes: number;
  readonly unpackedBytes: number;
  readonly packages: readonly string[];
  readonly modules: number;
  readonly absentModules: readonly string[];
  readonly nodeVersion: string;
  readonly seconds: number;
}

export class BootEnvError extends Error {}

async function nodeFor(spec: ArchSpec, opts: BuildOptions, work: string): Promise<{ file: string; version: string }> {
  const src = opts.nodeBinary ?? (process.arch === spec.nodeArch ? process.execPath : null);
  if (!src) throw new BootEnvError(`a ${opts.arch} boot environment needs a ${opts.arch} Node.js ${process.versions.node.split('.')[0]} binary: give its path (nodeBinary)`);
  const info = readElf(readFileSync(src));
  if (info.machine !== spec.machine) throw new BootEnvError(`${src} is not a ${opts.arch} program`);
  const version = src === process.execPath ? process.version : (await run(src, ['--version']).catch(() => ({ stdout: 'unknown' }))).stdout.trim();
  const out = path.join(work, 'node');
  // Debug symbols are a tenth of Node's size and no use on a booting machine.
  try {
    if (process.arch !== spec.nodeArch) throw new Error('cross');
    await run('strip', ['--strip-debug', '-o', out, src]);
  } catch {
    copyFileSync(src, out);
  }
  return { file: out, version };
}

/** The exact packages (and where apt fetches them) a build of `arch` would use now. */
export async function packageList(arch: BootEnvArch): Promise<{ kernelPackage: string; files: DebFile[] }> {
  const spec = ARCHES[arch];
  const debArch = process.arch === spec.nodeArch ? null : spec.debArch;
  const kernelPackage = await resolveMeta(spec.kernelMeta, debArch);
  const closure = await dependencyClosure([...USERLAND, ...spec.grub.map((g) => g.pkg)], debArch);
  return { kernelPackage, files: await debUris([kernelPackage, ...closure], debArch) };
}

/**
 * Downloads the packages of a build into `cacheDir` ahead of it: for a site whose host reaches
 * the Debian mirror only sometimes (or, in tests, from outside the imaging network).
 */
export async function prefetchPackages(arch: BootEnvArch, cacheDir: string): Promise<number> {
  const { files } = await packageList(arch);
  const spec = ARCHES[arch];
  await fetchDebs(files, cacheDir, process.arch === spec.nodeArch ? null : spec.debArch);
  return files.length;
}

export async function buildBootEnvironment(opts: BuildOptions): Promise<BuildResult> {
  const t0 = Date.now();
  const spec = ARCHES[opts.arch];
  const say = (phase: BuildProgress['phase'], message: string, percent: number) => opts.onProgress?.({ phase, message, percent: Math.round(percent) });
  const debArch = process.arch === spec.nodeArch ? null : spec.debArch;
  rmSync(opts.workDir, { recursive: true, force: true });
  const pkgRoot = path.join(opts.workDir, 'root');
  const kernelRoot = path.join(opts.workDir, 'kernel');
  mkdirSync(pkgRoot, { recursive: true });
  try {
    say('resolve', 'resolving Debian packages (apt-cache)', 1);
    const { kernelPackage, files } = await packageList(opts.arch);
    const total = files.reduce((n, f) => n + f.size, 0);
    say('download', `${files.length} packages, ${(total / 1e6).toFixed(1)} MB (apt-get download, cached in ${opts.cacheDir})`, 3);
    const debs = await fetchDebs(files, opts.cacheDir, debArch, (n, of) => say('download', n === 0 ? `downloading ${of} packages` : `downloaded ${of} packages`, n === 0 ? 5 : 30));

    say('unpack', 'unpacking', 32);
    const kernelAt = files.findIndex((f) => f.pkg === kernelPackage);
    await unpackDeb(debs[kernelAt]!, kernelRoot);
    for (const [i, deb] of debs.filter((_, n) => n !== kernelAt).entries()) {
      await unpackDeb(deb, pkgRoot);
      if (i % 10 === 0) say('unpack', `unpacking ${i + 1} of ${debs.length - 1}`, 32 + (13 * i) / debs.length);
    }

    say('assemble', 'choosing files: programs, their libraries, kernel modules', 46);
    const modBase = existsSync(path.join(kernelRoot, 'lib', 'modules')) ? path.join('lib', 'modules') : path.join('usr', 'lib', 'modules');
    const kver = readdirSync(path.join(kernelRoot, modBase))[0];
    if (!kver) throw new BootEnvError(`${kernelPackage} holds no kernel modules`);
    const vmlinuz = path.join(kernelRoot, 'boot', `vmlinuz-${kver}`);
    if (!existsSync(vmlinuz)) throw new BootEnvError(`${kernelPackage} holds no boot/vmlinuz-${kver}`);

    const tree = new ImageTree(pkgRoot, [`lib/${spec.triplet}`, `usr/lib/${spec.triplet}`, 'lib', 'usr/lib', 'lib64']);
    tree.copy('bin/busybox');
    for (const p of PROGRAMS) tree.copy(tree.findProgram(p));
    for (const g of spec.grub) tree.copyTree(`usr/lib/grub/${g.dir}`, (n) => !n.endsWith('.module') && !n.endsWith('.image'));
    tree.copy('etc/mke2fs.conf');
    const node = await nodeFor(spec, opts, opts.workDir);
    tree.set('usr/bin/node', { kind: 'file', src: node.file, mode: 0o755 });
    tree.set('usr/bin/osdeploy-engine', { kind: 'data', data: Buffer.from('#!/bin/sh\nexec /usr/bin/node /osdeploy/engine.mjs "$@"\n'), mode: 0o755 });
    tree.addLibraries();

    // Kernel modules with the tables busybox modprobe reads.
    const modDir = path.join(kernelRoot, modBase, kver);
    const selection = selectModules(modDir, Object.values(MODULES).flat());
    const modRel = `lib/modules/${kver}`;
    for (const m of selection.modules) tree.set(`${modRel}/${m.rel}`, { kind: 'file', src: path.join(modDir, m.rel), mode: 0o644 });
    tree.set(`${modRel}/modules.dep`, { kind: 'data', data: Buffer.from(modulesDep(selection.modules)), mode: 0o644 });
    tree.set(`${modRel}/modules.alias`, { kind: 'data', data: Buffer.from(modulesAlias(selection.modules)), mode: 0o644 });
    for (const f of ['modules.builtin', 'modules.builtin.modinfo', 'modules.order']) {
      if (existsSync(path.join(modDir, f))) tree.set(`${modRel}/${f}`, { kind: 'file', src: path.join(modDir, f), mode: 0o644 });
    }

    const bundles = opts.bundles ?? (await findBundles(opts.cacheDir));
    tree.set('osdeploy/engine.mjs', { kind: 'file', src: bundles.engine, mode: 0o644 });
    tree.set('osdeploy/controller.mjs', { kind: 'file', src: bundles.controller, mode: 0o644 });
    tree.set('osdeploy/udhcpc.sh', { kind: 'data', data: Buffer.from(UDHCPC_SCRIPT), mode: 0o755 });
    tree.set('init', { kind: 'data', data: Buffer.from(INIT), mode: 0o755 });
    for (const d of ['dev', 'proc', 'sys', 'run', 'tmp', 'mnt', 'root', 'var/lib', 'etc/osdeploy']) tree.set(d, { kind: 'dir', mode: d === 'root' ? 0o700 : 0o755 });
    tree.set('dev/console', { kind: 'char', rdev: [5, 1], mode: 0o600 });
    tree.set('etc/passwd', { kind: 'data', data: Buffer.from('root:x:0:0:root:/root:/bin/sh\n'), mode: 0o644 });
    tree.set('etc/group', { kind: 'data', data: Buffer.from('root:x:0:\n'), mode: 0o644 });
    tree.set('etc/hostname', { kind: 'data', data: Buffer.from('osdeploy\n'), mode: 0o644 });
    tree.set('etc/osdeploy/version', { kind: 'data', data: Buffer.from(`${opts.version} (${opts.arch}, kernel ${kver}, node ${node.version})\n`), mode: 0o644 });
    if (opts.token) tree.set('etc/osdeploy/token', { kind: 'data', data: Buffer.from(`${opts.token}\n`), mode: 0o600 });
    const unpacked = tree.size();

    say('pack', `packing ${tree.entries.size} files, ${(unpacked / 1e6).toFixed(1)} MB unpacked`, 56);
    mkdirSync(opts.outDir, { recursive: true });
    const initrd = path.join(opts.outDir, 'initrd.img');
    await packInitramfs(tree, initrd, unpacked, (pct) => say('pack', `compressing (gzip) ${Math.round(pct)}%`, 56 + pct * 0.42));
    const kernel = path.join(opts.outDir, 'vmlinuz');
    copyFileSync(vmlinuz, kernel);
    const packages = files.map((f) => `${f.pkg}=${versionOf(f.file)}`);
    const result: BuildResult = {
      arch: opts.arch,
      kernelPackage,
      kernelVersion: kver,
      kernel,
      initrd,
      kernelBytes: statSync(kernel).size,
      initrdBytes: statSync(initrd).size,
      unpackedBytes: unpacked,
      packages,
      modules: selection.modules.length,
      absentModules: selection.absent,
      nodeVersion: node.version,
      seconds: (Date.now() - t0) / 1000,
    };
    const { kernel: _k, initrd: _i, ...described } = result;
    writeFileSync(path.join(opts.outDir, 'boot-environment.json'), `${JSON.stringify({ osdeploy: opts.version, ...described, token: opts.token ? 'a client token, in /etc/osdeploy/token' : 'none' }, null, 2)}\n`);
    say('done', `built: kernel ${kver} ${(result.kernelBytes / 1e6).toFixed(1)} MB, initrd ${(result.initrdBytes / 1e6).toFixed(1)} MB in ${result.seconds.toFixed(0)} s`, 100);
    return result;
  } finally {
    rmSync(opts.workDir, { recursive: true, force: true });
  }
}

/** Writes the tree as one gzip'd cpio, entries in path order (every folder before its files). */
async function packInitramfs(tree: ImageTree, file: string, total: number, onPct: (pct: number) => void): Promise<void> {
  const out = createWriteStream(`${file}.tmp`);
  const gz = createGzip({ level: 6, memLevel: 9 });
  gz.pipe(out);
  const closed = new Promise<void>((resolve, reject) => {
    out.on('close', resolve);
    out.on('error', reject);
    gz.on('error', reject);
  });
  const writer = new CpioWriter((chunk) => new Promise<void>((resolve) => (gz.write(chunk) ? resolve() : gz.once('drain', resolve))));
  let done = 0;
  let shown = 0;
  for (const name of [...tree.entries.keys()].sort()) {
    const e = tree.entries.get(name)!;
    switch (e.kind) {
      case 'dir':
        await writer.add({ name, mode: S_IFDIR | e.mode });
        break;
      case 'link':
        await writer.add({ name, mode: S_IFLNK | 0o777, data: Buffer.from(e.target) });
        break;
      case 'char':
        await writer.add({ name, mode: S_IFCHR | e.mode, rdev: e.rdev });
        break;
      case 'data':
        await writer.add({ name, mode: S_IFREG | e.mode, data: e.data });
        done += e.data.length;
        break;
      case 'file': {
        const data = readFileSync(e.src);
        await writer.add({ name, mode: S_IFREG | e.mode, data });
        done += data.length;
        break;
      }
    }
    if (done - shown > total / 20) {
      shown = done;
      onPct((100 * done) / total);
    }
  }
  await writer.end();
  gz.end();
  await closed;
  renameSync(`${file}.tmp`, file);
}
