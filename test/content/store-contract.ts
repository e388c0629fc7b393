/**
 * The ContentStore contract: every implementation (filesystem, in-memory fake,
 * later a remote one) runs this suite. Each subtest gets a fresh, empty store.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Test } from 'tap';
import { ContentError, type ContentErrorCode } from '../../content/errors.js';
import type { ContentStore } from '../../content/store.js';

export interface ContractSubject {
  readonly store: ContentStore;
  /** Damages a stored blob behind the store's back (a disk write, or the fake's hook). */
  corrupt(sha256: string): Promise<void>;
}

export const sha256Of = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(parts);
}

export async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const s of it) out.push(s);
  return out;
}

/** Asserts a promise rejects with a ContentError of `code` (not just any error). */
export async function rejectsCode(t: Test, p: Promise<unknown>, code: ContentErrorCode, msg?: string): Promise<void> {
  try {
    await p;
    t.fail(`${msg ?? 'call'}: expected ContentError ${code}, but it resolved`);
  } catch (e) {
    t.ok(e instanceof ContentError, `${msg ?? 'call'}: a ContentError`);
    t.equal((e as ContentError).code, code, `${msg ?? 'call'}: code ${code}`);
  }
}

const src = (...parts: (Buffer | string)[]): Readable => Readable.from(parts.map((p) => Buffer.from(p)));

/** Deterministic pseudo-random chunks, generated on the fly so the source holds no whole file. */
function* noise(total: number, chunk: number, seed = 1): Generator<Buffer> {
  let x = seed;
  for (let done = 0; done < total; done += chunk) {
    const b = Buffer.alloc(Math.min(chunk, total - done));
    for (let i = 0; i < b.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      b[i] = x >>> 24;
    }
    yield b;
  }
}

/** A source that yields some bytes and then fails, as a dropped upload or a read error would. */
export function failingSource(before: Buffer, error = new Error('source failed midway')): Readable {
  return Readable.from(
    (async function* () {
      yield before;
      throw error;
    })(),
  );
}

const HOSTILE = ['../x', '../../etc/passwd', 'A'.repeat(64), 'abc', '', `${'a'.repeat(63)}\0`, `../${'a'.repeat(61)}`, `${'a'.repeat(64)}/`];

export function runContentStoreContract(t: Test, name: string, make: (t: Test) => Promise<ContractSubject>): void {
  t.test(`${name}: ContentStore contract`, async (t) => {
    t.test('R-06 put streams in, stat/has/open give the same bytes back', async (t) => {
      const { store } = await make(t);
      const r = await store.put(Readable.from(['hello ', 'world']));
      t.same(r, { sha256: sha256Of('hello world'), size: 11, stored: true });
      t.same(await store.stat(r.sha256), { size: 11 });
      t.equal(await store.has(r.sha256), true);
      t.equal((await readAll(await store.open(r.sha256))).toString(), 'hello world');
      t.equal(await store.stat(sha256Of('other')), null, 'absent blob stats as null');
      t.equal(await store.has(sha256Of('other')), false);
      await rejectsCode(t, store.open(sha256Of('other')), 'not-found', 'open absent');
    });

    t.test('R-22 ranges: first byte, last byte, middle, whole; outside is refused', async (t) => {
      const { store } = await make(t);
      const { sha256 } = await store.put(src('0123456789abcdefghij'));
      const read = async (start: number, end: number) => (await readAll(await store.open(sha256, { start, end }))).toString();
      t.equal(await read(0, 0), '0', 'first byte');
      t.equal(await read(19, 19), 'j', 'last byte');
      t.equal(await read(5, 12), '56789abc', 'middle');
      t.equal(await read(0, 19), '0123456789abcdefghij', 'whole as a range');
      for (const [start, end] of [[0, 20], [20, 20], [25, 30], [5, 4], [-1, 3], [0.5, 2]] as const) {
        await rejectsCode(t, store.open(sha256, { start, end }), 'range-not-satisfiable', `range ${start}-${end}`);
      }
    });

    t.test('R-06 single instance: the same bytes twice are stored once', async (t) => {
      const { store } = await make(t);
      const a = await store.put(src('same bytes'));
      const b = await store.put(src('same ', 'bytes'));
      t.equal(a.stored, true);
      t.same(b, { sha256: a.sha256, size: 10, stored: false });
      t.same(await collect(store.list()), [a.sha256]);
      const both = await Promise.all([store.put(src('racing')), store.put(src('racing'))]);
      t.same(both.map((r) => r.stored).sort(), [false, true], 'of two concurrent puts exactly one stores');
    });

    t.test('R-06 expected hash: a mismatch stores nothing, a match stores', async (t) => {
      const { store } = await make(t);
      await rejectsCode(t, store.put(src('payload'), { sha256: sha256Of('other') }), 'hash-mismatch');
      t.equal(await store.has(sha256Of('payload')), false);
      t.same(await collect(store.list()), []);
      const ok = await store.put(src('payload'), { sha256: sha256Of('payload'), size: 7 });
      t.equal(ok.stored, true);
    });

    t.test('expected size: longer or shorter than declared stores nothing', async (t) => {
      const { store } = await make(t);
      await rejectsCode(t, store.put(src('abc', 'defgh'), { size: 4 }), 'size-mismatch', 'longer');
      await rejectsCode(t, store.put(src('abc'), { size: 4 }), 'size-mismatch', 'shorter');
      await rejectsCode(t, store.put(src('abc'), { size: -1 }), 'invalid', 'negative size');
      t.same(await collect(store.list()), []);
    });

    t.test('a source longer than its declared size is stopped early, not read to its end', async (t) => {
      const { store } = await make(t);
      let pulled = 0;
      const endless = function* () {
        for (; pulled < 10_000; pulled++) yield Buffer.alloc(1024, 1);
      };
      await rejectsCode(t, store.put(Readable.from(endless()), { size: 4096 }), 'size-mismatch');
      t.ok(pulled < 10_000, `stopped after ${pulled} of 10000 chunks`);
      t.same(await collect(store.list()), []);
    });

    t.test('invalid sha256 strings are hostile paths everywhere', async (t) => {
      const { store } = await make(t);
      for (const bad of HOSTILE) {
        const shown = JSON.stringify(bad);
        await rejectsCode(t, store.stat(bad), 'hostile-path', `stat ${shown}`);
        await rejectsCode(t, store.has(bad), 'hostile-path', `has ${shown}`);
        await rejectsCode(t, store.open(bad), 'hostile-path', `open ${shown}`);
        await rejectsCode(t, store.delete(bad), 'hostile-path', `delete ${shown}`);
        await rejectsCode(t, store.verify(bad), 'hostile-path', `verify ${shown}`);
        await rejectsCode(t, store.put(src('x'), { sha256: bad }), 'hostile-path', `put expecting ${shown}`);
      }
      t.same(await collect(store.list()), []);
    });

    t.test('a zero-length blob is a blob', async (t) => {
      const { store } = await make(t);
      t.same(await store.put(src()), { sha256: EMPTY_SHA256, size: 0, stored: true });
      t.same(await store.stat(EMPTY_SHA256), { size: 0 });
      t.equal((await readAll(await store.open(EMPTY_SHA256))).length, 0);
      t.equal(await store.verify(EMPTY_SHA256), true);
      await rejectsCode(t, store.open(EMPTY_SHA256, { start: 0, end: 0 }), 'range-not-satisfiable');
    });

    t.test('a 5 MB blob streams in and out in chunks', async (t) => {
      const { store } = await make(t);
      const size = 5 * 1024 * 1024;
      const expected = createHash('sha256');
      for (const b of noise(size, 256 * 1024)) expected.update(b);
      const sha256 = expected.digest('hex');
      const r = await store.put(Readable.from(noise(size, 64 * 1024)), { sha256, size });
      t.same(r, { sha256, size, stored: true });
      const back = createHash('sha256');
      let chunks = 0;
      let bytes = 0;
      for await (const c of await store.open(sha256)) {
        back.update(c as Buffer);
        bytes += (c as Buffer).length;
        chunks++;
      }
      t.equal(bytes, size);
      t.equal(back.digest('hex'), sha256);
      t.ok(chunks > 1, `read back as a stream (${chunks} chunks), not one buffer`);
      const tail = await readAll(await store.open(sha256, { start: size - 3, end: size - 1 }));
      t.equal(tail.length, 3, 'range at the end of a large blob');
    });

    t.test('delete removes a blob once', async (t) => {
      const { store } = await make(t);
      const { sha256 } = await store.put(src('to delete'));
      t.equal(await store.delete(sha256), true);
      t.equal(await store.has(sha256), false);
      t.equal(await store.stat(sha256), null);
      await rejectsCode(t, store.open(sha256), 'not-found');
      t.equal(await store.delete(sha256), false, 'second delete finds nothing');
      t.equal((await store.put(src('to delete'))).stored, true, 'stored again after delete');
    });

    t.test('list yields every stored hash in order', async (t) => {
      const { store } = await make(t);
      const hashes = await Promise.all(['a', 'b', 'c'].map(async (s) => (await store.put(src(s))).sha256));
      t.same(await collect(store.list()), [...hashes].sort());
      await store.delete(hashes[1] ?? '');
      t.same(await collect(store.list()), [hashes[0], hashes[2]].sort());
    });

    t.test('R-06 verify recomputes the hash and detects corruption', async (t) => {
      const subject = await make(t);
      const { store } = subject;
      const { sha256 } = await store.put(src('precious bytes'));
      const other = await store.put(src('untouched'));
      t.equal(await store.verify(sha256), true);
      await subject.corrupt(sha256);
      t.equal(await store.verify(sha256), false, 'corrupted blob fails verification');
      t.equal(await store.verify(other.sha256), true, 'others still verify');
      await rejectsCode(t, store.verify(sha256Of('absent')), 'not-found');
    });

    t.test('a source that fails midway stores nothing and passes its error on', async (t) => {
      const { store } = await make(t);
      await t.rejects(store.put(failingSource(Buffer.from('partial'))), { message: 'source failed midway' });
      t.same(await collect(store.list()), []);
      t.equal(await store.has(sha256Of('partial')), false);
    });
  });
}
