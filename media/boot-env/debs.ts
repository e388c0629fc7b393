/**
 * Debian packages for the boot environment, fetched with the host's own apt (`apt-get
 * download`): the dependency closure of the packages the image needs, resolved by
 * `apt-cache depends --recurse`, downloaded once into a cache folder keyed by file name (which
 * carries the version), checked against the SHA256 apt prints, and unpacked with `dpkg-deb -x`.
 * We use apt-get download rather than mmdebstrap or debootstrap on purpose: those install a
 * whole system (dpkg database, maintainer scripts, an essential set of ~100 packages) that we
 * would then throw away, while the image keeps only the files its programs load; downloading
 * and unpacking needs no root and nothing beyond apt itself, which every Debian host has.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export class DebError extends Error {}

export interface DebFile {
  readonly pkg: string;
  readonly file: string;
  readonly size: number;
  readonly sha256: string;
  readonly uri: string;
}

async function sh(cmd: string, args: readonly string[], cwd?: string): Promise<string> {
  try {
    const r = await run(cmd, [...args], { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } });
    return r.stdout;
  } catch (e) {
    const err = e as { code?: string | number; stderr?: string; message: string };
    if (err.code === 'ENOENT') throw new DebError(`${cmd} not found: building a boot environment needs a Debian or Ubuntu host with apt (apt-get, apt-cache, dpkg-deb)`);
    throw new DebError(`${cmd} ${args.join(' ')} failed: ${(err.stderr ?? err.message).trim().split('\n').slice(-5).join(' | ')}`);
  }
}

/** `pkg` for the host's architecture, `pkg:arm64` for another one (needs `dpkg --add-architecture`). */
export const qualified = (pkg: string, debArch: string | null): string => (debArch ? `${pkg}:${debArch}` : pkg);

/** The exact kernel package behind a metapackage such as linux-image-amd64 (the signed kernel). */
export async function resolveMeta(meta: string, debArch: string | null): Promise<string> {
  const out = await sh('apt-cache', ['depends', qualified(meta, debArch)]);
  const dep = /Depends:\s*(linux-image-[^\s]+)/.exec(out)?.[1];
  if (!dep) throw new DebError(`cannot resolve ${meta}: apt-cache depends shows no linux-image package (run apt-get update?)`);
  return dep.replace(/:.*$/, '');
}

/** The packages and everything they depend on (no recommends or suggests), sorted. */
export async function dependencyClosure(roots: readonly string[], debArch: string | null): Promise<string[]> {
  const out = await sh('apt-cache', [
    'depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances',
    ...roots.map((r) => qualified(r, debArch)),
  ]);
  const names = new Set<string>();
  for (const line of out.split('\n')) {
    // Top-level lines name packages; "<virtual>" ones are provided by a real package also listed.
    if (!line || line.startsWith(' ') || line.startsWith('<')) continue;
    names.add(line.trim().replace(/:.*$/, ''));
  }
  for (const r of roots) if (!names.has(r)) throw new DebError(`apt knows no package ${r} (run apt-get update?)`);
  return [...names].sort();
}

/** Where each package comes from, as apt would download it now. */
export async function debUris(pkgs: readonly string[], debArch: string | null): Promise<DebFile[]> {
  const out = await sh('apt-get', ['download', '--print-uris', '-qq', ...pkgs.map((p) => qualified(p, debArch))]);
  const files: DebFile[] = [];
  for (const line of out.split('\n')) {
    const m = /^'([^']+)'\s+(\S+\.deb)\s+(\d+)\s+SHA256:([0-9a-f]{64})/.exec(line.trim());
    if (!m) continue;
    const file = decodeURIComponent(m[2]!);
    files.push({ pkg: file.split('_')[0]!, file, size: Number(m[3]), sha256: m[4]!, uri: m[1]! });
  }
  const got = new Set(files.map((f) => f.pkg));
  const missing = pkgs.filter((p) => !got.has(p));
  if (missing.length) throw new DebError(`apt has no download for ${missing.join(', ')}`);
  return files;
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Each package's .deb in `cacheDir`, downloading the ones not there yet; a cached file whose
 * hash no longer matches is fetched again. Returns the paths in the order given.
 */
export async function fetchDebs(files: readonly DebFile[], cacheDir: string, debArch: string | null, onFetch: (n: number, total: number) => void = () => {}): Promise<string[]> {
  mkdirSync(cacheDir, { recursive: true });
  const want: DebFile[] = [];
  for (const f of files) {
    const at = path.join(cacheDir, f.file);
    if (existsSync(at) && (await sha256File(at)) === f.sha256) continue;
    rmSync(at, { force: true });
    want.push(f);
  }
  if (want.length) {
    onFetch(0, want.length);
    const scratch = path.join(cacheDir, `.download-${process.pid}`);
    rmSync(scratch, { recursive: true, force: true });
    mkdirSync(scratch, { recursive: true });
    try {
      // Named with their exact versions, so a newer candidate cannot slip in between.
      await sh('apt-get', ['download', '-qq', ...want.map((f) => `${qualified(f.pkg, debArch)}=${versionOf(f.file)}`)], scratch);
      for (const f of want) {
        const got = readdirSync(scratch).find((n) => decodeURIComponent(n) === f.file);
        if (!got) throw new DebError(`apt-get download left no ${f.file}`);
        const sum = await sha256File(path.join(scratch, got));
        if (sum !== f.sha256) throw new DebError(`${f.file}: SHA256 ${sum} is not the ${f.sha256} apt promised`);
        renameSync(path.join(scratch, got), path.join(cacheDir, f.file));
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    onFetch(want.length, want.length);
  }
  return files.map((f) => path.join(cacheDir, f.file));
}

/** pkg_1%3a1.35.0-4_amd64.deb → 1:1.35.0-4 */
export function versionOf(debFile: string): string {
  const parts = decodeURIComponent(path.basename(debFile)).replace(/\.deb$/, '').split('_');
  if (parts.length < 3) throw new DebError(`${debFile} is not named package_version_arch.deb`);
  return parts[1]!;
}

/** Unpacks a package's files (not its scripts) into `dir`. */
export async function unpackDeb(deb: string, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await sh('dpkg-deb', ['-x', deb, dir]);
}
