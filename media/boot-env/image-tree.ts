/**
 * The file tree of a boot environment before it is packed: entries by path inside the image
 * (files copied from an unpacked package tree or the host, symbolic links, small generated
 * files), the programs it must run, and the shared libraries those programs load, found by
 * reading each ELF file's DT_NEEDED and looking it up where the dynamic loader would.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { isElf, readElf } from './elf.js';

export type TreeEntry =
  | { readonly kind: 'dir'; readonly mode: number }
  | { readonly kind: 'file'; readonly src: string; readonly mode: number }
  | { readonly kind: 'data'; readonly data: Buffer; readonly mode: number }
  | { readonly kind: 'link'; readonly target: string }
  | { readonly kind: 'char'; readonly rdev: readonly [number, number]; readonly mode: number };

export class ImageTreeError extends Error {}

/** Folders the programs are looked for in, in an unpacked package tree. */
const PROGRAM_DIRS = ['sbin', 'bin', 'usr/sbin', 'usr/bin'];

export class ImageTree {
  readonly entries = new Map<string, TreeEntry>();

  constructor(
    /** The unpacked packages (`dpkg-deb -x` of each into one folder). */
    readonly pkgRoot: string,
    /** Library folders of the image's architecture, e.g. lib/x86_64-linux-gnu. */
    readonly libDirs: readonly string[],
  ) {}

  private parents(rel: string): void {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!this.entries.has(dir)) this.entries.set(dir, { kind: 'dir', mode: 0o755 });
    }
  }

  set(rel: string, entry: TreeEntry): void {
    const clean = rel.replace(/^\/+/, '');
    if (!clean || clean.split('/').includes('..')) throw new ImageTreeError(`bad path in image: ${rel}`);
    this.parents(clean);
    this.entries.set(clean, entry);
  }

  /**
   * Copies `rel` from the package tree, following symbolic links inside it (each link is kept
   * as a link and its target copied too). Returns the path of the final file.
   */
  copy(rel: string): string {
    let cur = rel.replace(/^\/+/, '');
    for (let hops = 0; hops < 16; hops++) {
      const abs = path.join(this.pkgRoot, cur);
      let st;
      try {
        st = lstatSync(abs);
      } catch {
        throw new ImageTreeError(`${cur} is in none of the unpacked packages`);
      }
      if (st.isSymbolicLink()) {
        const target = readlinkSync(abs);
        this.set(cur, { kind: 'link', target });
        cur = (target.startsWith('/') ? target.slice(1) : path.posix.normalize(path.posix.join(path.posix.dirname(cur), target))).replace(/^\/+/, '');
        continue;
      }
      if (st.isDirectory()) {
        this.set(cur, { kind: 'dir', mode: st.mode & 0o7777 });
        return cur;
      }
      this.set(cur, { kind: 'file', src: abs, mode: st.mode & 0o7777 });
      return cur;
    }
    throw new ImageTreeError(`${rel}: too many symbolic links`);
  }

  /** Copies a folder of the package tree whole (GRUB's module folders). */
  copyTree(rel: string, keep: (name: string) => boolean = () => true): number {
    let n = 0;
    const walk = (r: string): void => {
      for (const e of readdirSync(path.join(this.pkgRoot, r), { withFileTypes: true })) {
        const child = `${r}/${e.name}`;
        if (e.isDirectory()) walk(child);
        else if (keep(e.name)) {
          this.copy(child);
          n++;
        }
      }
    };
    walk(rel.replace(/^\/+/, ''));
    return n;
  }

  /** The path of program `name` in the package tree, looked for where Debian puts programs. */
  findProgram(name: string): string {
    for (const dir of PROGRAM_DIRS) {
      const rel = `${dir}/${name}`;
      try {
        lstatSync(path.join(this.pkgRoot, rel));
        return rel;
      } catch {
        // not in this folder
      }
    }
    throw new ImageTreeError(`program ${name} is in none of the unpacked packages (${PROGRAM_DIRS.join(', ')})`);
  }

  private findLibrary(soname: string, runpath: readonly string[]): string | null {
    for (const dir of [...runpath.map((r) => r.replace(/^\/+/, '')), ...this.libDirs]) {
      const rel = `${dir}/${soname}`;
      try {
        statSync(path.join(this.pkgRoot, rel));
        return rel;
      } catch {
        // next folder
      }
    }
    return null;
  }

  /**
   * Adds every shared library the ELF files in the tree need, transitively, and their loader.
   * A library no unpacked package holds stops the build, naming the program that needs it.
   */
  addLibraries(): string[] {
    const added: string[] = [];
    const done = new Set<string>();
    const queue = [...this.entries.entries()].filter(([, e]) => e.kind === 'file').map(([rel, e]) => ({ rel, src: (e as { src: string }).src }));
    while (queue.length) {
      const { rel, src } = queue.pop()!;
      if (done.has(src)) continue;
      done.add(src);
      const head = readFileSync(src);
      // Data (GRUB's modules are 32-bit ELF objects) is not loaded by this system's loader.
      if (!isElf(head) || head[4] !== 2 || rel.startsWith('usr/lib/grub/')) continue;
      const info = readElf(head);
      const need = [...info.needed];
      if (info.interp) {
        const loader = this.copy(info.interp);
        queue.push({ rel: loader, src: path.join(this.pkgRoot, loader) });
      }
      for (const so of need) {
        const lib = this.findLibrary(so, info.runpath);
        if (!lib) throw new ImageTreeError(`${rel} needs ${so}, which none of the unpacked packages holds`);
        const real = this.copy(lib);
        if (!added.includes(lib)) added.push(lib);
        queue.push({ rel: real, src: path.join(this.pkgRoot, real) });
      }
    }
    return added;
  }

  /** Bytes the files of the tree take, unpacked. */
  size(): number {
    let n = 0;
    for (const e of this.entries.values()) {
      if (e.kind === 'file') n += statSync(e.src).size;
      else if (e.kind === 'data') n += e.data.length;
    }
    return n;
  }
}
