/**
 * Just enough ELF reading for the boot environment builder: which shared libraries a program
 * needs (PT_INTERP, DT_NEEDED, DT_RUNPATH) so the image carries exactly those, and a kernel
 * module's `.modinfo` section (its `depends=` and `alias=` strings) so the builder can write
 * modules.dep and modules.alias itself, for any architecture, without running depmod.
 * Little-endian ELF64 only (x86-64 and arm64, the architectures osdeploy builds for).
 */

export class ElfError extends Error {}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_RUNPATH = 29;
const DT_RPATH = 15;

export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;

export interface ElfInfo {
  readonly machine: number;
  /** The program interpreter (the dynamic loader), or null for a static program or a library. */
  readonly interp: string | null;
  readonly needed: readonly string[];
  readonly runpath: readonly string[];
}

export const isElf = (buf: Buffer): boolean => buf.length >= 64 && buf.readUInt32BE(0) === 0x7f454c46;

function header(buf: Buffer) {
  if (!isElf(buf)) throw new ElfError('not an ELF file');
  if (buf[4] !== 2 || buf[5] !== 1) throw new ElfError('only little-endian ELF64 is supported');
  const big = (off: number): number => {
    const v = buf.readBigUInt64LE(off);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError('offset out of range');
    return Number(v);
  };
  return {
    machine: buf.readUInt16LE(18),
    phoff: big(32),
    shoff: big(40),
    phentsize: buf.readUInt16LE(54),
    phnum: buf.readUInt16LE(56),
    shentsize: buf.readUInt16LE(58),
    shnum: buf.readUInt16LE(60),
    shstrndx: buf.readUInt16LE(62),
    big,
  };
}

const cstr = (buf: Buffer, off: number): string => {
  if (off < 0 || off >= buf.length) throw new ElfError(`string offset ${off} outside the file`);
  const end = buf.indexOf(0, off);
  return buf.toString('utf8', off, end < 0 ? buf.length : end);
};

/** Interpreter and DT_NEEDED of a program or shared library. */
export function readElf(buf: Buffer): ElfInfo {
  const h = header(buf);
  const loads: { vaddr: number; offset: number; filesz: number }[] = [];
  let dynamic: { offset: number; size: number } | null = null;
  let interp: string | null = null;
  for (let i = 0; i < h.phnum; i++) {
    const p = h.phoff + i * h.phentsize;
    if (p + 56 > buf.length) throw new ElfError('program header outside the file');
    const type = buf.readUInt32LE(p);
    const offset = h.big(p + 8);
    const vaddr = h.big(p + 16);
    const filesz = h.big(p + 32);
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    else if (type === PT_DYNAMIC) dynamic = { offset, size: filesz };
    else if (type === PT_INTERP) interp = cstr(buf, offset);
  }
  if (!dynamic) return { machine: h.machine, interp, needed: [], runpath: [] };
  const toOffset = (vaddr: number): number => {
    const seg = loads.find((l) => vaddr >= l.vaddr && vaddr < l.vaddr + l.filesz);
    if (!seg) throw new ElfError(`address 0x${vaddr.toString(16)} is in no loaded segment`);
    return vaddr - seg.vaddr + seg.offset;
  };
  const needed: number[] = [];
  const runpath: number[] = [];
  let strtab = -1;
  for (let d = dynamic.offset; d + 16 <= dynamic.offset + dynamic.size && d + 16 <= buf.length; d += 16) {
    const tag = Number(buf.readBigInt64LE(d));
    const val = h.big(d + 8);
    if (tag === DT_NULL) break;
    if (tag === DT_NEEDED) needed.push(val);
    else if (tag === DT_STRTAB) strtab = val;
    else if (tag === DT_RUNPATH || tag === DT_RPATH) runpath.push(val);
  }
  if (strtab < 0) throw new ElfError('dynamic section without a string table');
  const base = toOffset(strtab);
  return {
    machine: h.machine,
    interp,
    needed: needed.map((o) => cstr(buf, base + o)),
    runpath: runpath.flatMap((o) => cstr(buf, base + o).split(':')).filter(Boolean),
  };
}

/** The `key=value` strings of a kernel module's `.modinfo` section. */
export function readModinfo(buf: Buffer): { key: string; value: string }[] {
  const h = header(buf);
  const section = (i: number) => {
    const s = h.shoff + i * h.shentsize;
    if (s + 64 > buf.length) throw new ElfError('section header outside the file');
    return { name: buf.readUInt32LE(s), offset: h.big(s + 24), size: h.big(s + 32) };
  };
  if (h.shstrndx >= h.shnum) throw new ElfError('no section name table');
  const names = section(h.shstrndx);
  for (let i = 0; i < h.shnum; i++) {
    const s = section(i);
    if (cstr(buf, names.offset + s.name) !== '.modinfo') continue;
    if (s.offset + s.size > buf.length) throw new ElfError('.modinfo outside the file');
    return buf
      .toString('utf8', s.offset, s.offset + s.size)
      .split('\0')
      .filter((kv) => kv.includes('='))
      .map((kv) => ({ key: kv.slice(0, kv.indexOf('=')), value: kv.slice(kv.indexOf('=') + 1) }));
  }
  return [];
}
