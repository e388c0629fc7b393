/**
 * R-37 elf.ts: what a program loads (PT_INTERP, DT_NEEDED, DT_RUNPATH/DT_RPATH) read from real
 * binaries of this host and compared with binutils' readelf; hostile input fails with ElfError
 * and nothing else. The module side (.modinfo) is in debian-kernel.test.ts and modules.test.ts.
 */
import { readFileSync, realpathSync } from 'node:fs';
import fc from 'fast-check';
import t from 'tap';
import { EM_X86_64, ElfError, isElf, readElf, readModinfo } from '../../../media/boot-env/elf.js';
import { fakeModule, run, staticBusybox, which } from './fixtures/host.js';

const readelf = which('readelf');
const skip = readelf ? false : 'binutils readelf is not installed (apt-get install binutils)';

/** What readelf says a file loads: the independent expectation. */
function readelfView(file: string) {
  const dyn = run('readelf', ['-dW', file]);
  const list = (re: RegExp) => [...dyn.matchAll(re)].map((m) => m[1]!);
  const interp = /\[Requesting program interpreter: ([^\]]+)\]/.exec(run('readelf', ['-lW', file]))?.[1] ?? null;
  const runpath = list(/\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[([^\]]*)\]/g).flatMap((p) => p.split(':')).filter(Boolean);
  return { interp, needed: list(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g), runpath };
}

const candidates = (): string[] => {
  const files = ['/usr/bin/node', '/sbin/sfdisk', '/bin/ls', '/usr/bin/busctl', '/usr/bin/java', '/lib/x86_64-linux-gnu/libc.so.6', staticBusybox() ?? ''];
  const out: string[] = [];
  for (const f of files) {
    try {
      const real = realpathSync(f);
      if (isElf(readFileSync(real).subarray(0, 64)) && !out.includes(real)) out.push(real);
    } catch {
      // not on this host
    }
  }
  return out;
};

t.test('R-37 readElf of real programs and libraries matches readelf: interpreter, DT_NEEDED in order, runpath', { skip }, async (t) => {
  const files = candidates();
  t.ok(files.length >= 3, `at least three real ELF files to compare (${files.join(', ')})`);
  let withRunpath = 0;
  let staticOnes = 0;
  for (const f of files) {
    const want = readelfView(f);
    const got = readElf(readFileSync(f));
    t.equal(got.machine, EM_X86_64, `${f}: machine`);
    t.equal(got.interp, want.interp, `${f}: interpreter`);
    t.same(got.needed, want.needed, `${f}: DT_NEEDED`);
    t.same(got.runpath, want.runpath, `${f}: runpath`);
    if (want.runpath.length) withRunpath++;
    if (!want.interp && !want.needed.length) staticOnes++;
  }
  t.comment(`${files.length} files, ${withRunpath} with a runpath, ${staticOnes} static`);
  t.ok(files.some((f) => readelfView(f).needed.length > 0), 'at least one file needs libraries');
});

/** The program headers of an ELF64 file, from the gABI layout (e_phoff@32, e_phentsize@54, e_phnum@56). */
function phdrs(buf: Buffer): { at: number; type: number; offset: number; vaddr: number }[] {
  const out = [];
  for (let i = 0; i < buf.readUInt16LE(56); i++) {
    const at = Number(buf.readBigUInt64LE(32)) + i * buf.readUInt16LE(54);
    out.push({ at, type: buf.readUInt32LE(at), offset: Number(buf.readBigUInt64LE(at + 8)), vaddr: Number(buf.readBigUInt64LE(at + 16)) });
  }
  return out;
}

const ls = (() => {
  try {
    return readFileSync('/bin/ls');
  } catch {
    return null;
  }
})();
const lsSkip = ls && isElf(ls) && phdrs(ls).some((p) => p.type === 2) ? false : 'no dynamically linked /bin/ls on this host';

/** Runs `fn` and says how it ended: 'ok', 'ElfError' or the other exception's class name. */
const outcome = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof ElfError ? 'ElfError' : `${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`;
  }
};

t.test('R-37 hostile ELF: truncated, not ELF, 32-bit, big-endian → ElfError', { skip: lsSkip }, async (t) => {
  const bin = ls!;
  for (const n of [0, 4, 16, 63]) t.equal(outcome(() => readElf(bin.subarray(0, n))), 'ElfError', `truncated to ${n} bytes`);
  t.equal(outcome(() => readElf(bin.subarray(0, 64))), 'ElfError', 'header only: the program headers are outside the file');
  const dyn = phdrs(bin).find((p) => p.type === 2)!;
  t.equal(outcome(() => readElf(bin.subarray(0, dyn.offset + 8))), 'ElfError', 'cut inside the dynamic section: no string table');
  for (const n of [65, 100, 200, 1000, 4096, dyn.offset, dyn.offset + 40, Math.floor(bin.length / 2), bin.length - 1])
    t.match(outcome(() => readElf(bin.subarray(0, n))), /^(ok|ElfError)$/, `truncated to ${n}: a result or ElfError`);
  t.equal(outcome(() => readElf(Buffer.from(`#!/bin/sh\n${' '.repeat(100)}`))), 'ElfError', 'a shell script');
  t.equal(outcome(() => readElf(Buffer.alloc(4096))), 'ElfError', 'zeros');
  const elf32 = Buffer.from(bin);
  elf32[4] = 1;
  t.throws(() => readElf(elf32), /ELF64/, '32-bit (ELFCLASS32) names the reason');
  t.equal(outcome(() => readElf(elf32)), 'ElfError', '32-bit (ELFCLASS32)');
  const be = Buffer.from(bin);
  be[5] = 2;
  t.equal(outcome(() => readElf(be)), 'ElfError', 'big-endian (ELFDATA2MSB)');
  t.equal(outcome(() => readModinfo(elf32)), 'ElfError', 'readModinfo refuses 32-bit too');
});

t.test('R-37 hostile ELF: a PT_DYNAMIC, PT_INTERP or DT_STRTAB pointing outside the file → ElfError', { skip: lsSkip }, async (t) => {
  const bin = ls!;
  const hdrs = phdrs(bin);
  const dyn = hdrs.find((p) => p.type === 2)!;
  const interp = hdrs.find((p) => p.type === 3);
  const patch = (at: number, v: bigint): Buffer => {
    const b = Buffer.from(bin);
    b.writeBigUInt64LE(v, at);
    return b;
  };
  t.equal(outcome(() => readElf(patch(dyn.at + 8, BigInt(bin.length + 4096)))), 'ElfError', 'dynamic section past the end');
  t.equal(outcome(() => readElf(patch(dyn.at + 8, 1n << 62n))), 'ElfError', 'dynamic offset beyond 2^53');
  t.equal(outcome(() => readElf(patch(32, 1n << 40n))), 'ElfError', 'program header table past the end');
  if (interp) t.equal(outcome(() => readElf(patch(interp.at + 8, BigInt(bin.length + 1)))), 'ElfError', 'interpreter string past the end');
  // Find DT_STRTAB (tag 5) in the dynamic section and point it at an address no PT_LOAD maps.
  for (let d = dyn.offset; d + 16 <= bin.length; d += 16) {
    const tag = bin.readBigInt64LE(d);
    if (tag === 0n) break;
    if (tag === 5n) t.equal(outcome(() => readElf(patch(d + 8, 0x7fff_ffff_0000n))), 'ElfError', 'DT_STRTAB outside every loaded segment');
    if (tag === 1n) t.equal(outcome(() => readElf(patch(d + 8, 0x7fff_0000n))), 'ElfError', 'DT_NEEDED name outside the file');
  }
});

t.test('R-37 hostile ELF (property): random bytes written over a real program give a result or ElfError, never another exception', { skip: lsSkip }, async (t) => {
  const bin = ls!;
  const dyn = phdrs(bin).find((p) => p.type === 2)!;
  // Where a parser can be led astray: the file header, the program headers and the dynamic section.
  const spots = fc.oneof(fc.integer({ min: 0, max: 1023 }), fc.integer({ min: dyn.offset, max: dyn.offset + 511 }));
  const bad: string[] = [];
  fc.assert(
    fc.property(fc.array(fc.tuple(spots, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }), (edits) => {
      const b = Buffer.from(bin);
      for (const [at, v] of edits) b[at] = v;
      const o = outcome(() => readElf(b));
      if (o !== 'ok' && o !== 'ElfError') bad.push(o);
      return o === 'ok' || o === 'ElfError';
    }),
    { numRuns: 400, seed: 37 },
  );
  t.same(bad, [], 'only ElfError');
});

t.test('R-37 hostile module: every truncation of a .ko and broken section headers → ElfError', async (t) => {
  const ko = fakeModule(['license=GPL', 'depends=a,b', 'alias=pci:v*']);
  t.same(readModinfo(ko).length, 3, 'the untouched module reads');
  const others: string[] = [];
  for (let n = 0; n < ko.length; n++) {
    const o = outcome(() => readModinfo(ko.subarray(0, n)));
    if (o !== 'ElfError') others.push(`${n}: ${o}`);
  }
  t.same(others, [], `all ${ko.length} truncations throw ElfError`);
  const shoff = Number(ko.readBigUInt64LE(40));
  const broken = (edit: (b: Buffer) => void) => {
    const b = Buffer.from(ko);
    edit(b);
    return () => readModinfo(b);
  };
  t.equal(outcome(broken((b) => b.writeUInt16LE(7, 62))), 'ElfError', 'e_shstrndx ≥ e_shnum');
  t.equal(outcome(broken((b) => b.writeBigUInt64LE(1n << 60n, 40))), 'ElfError', 'e_shoff beyond 2^53');
  t.equal(outcome(broken((b) => b.writeBigUInt64LE(BigInt(ko.length * 4), shoff + 64 + 32))), 'ElfError', '.modinfo size past the end');
  t.equal(outcome(broken((b) => b.writeUInt32LE(0xffff, shoff + 64))), 'ElfError', 'section name past the end');
  t.equal(outcome(() => readModinfo(Buffer.from('not an elf file at all'.repeat(4)))), 'ElfError', 'not an ELF file');
});
