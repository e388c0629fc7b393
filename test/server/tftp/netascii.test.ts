/**
 * R-21 netascii (RFC 1350 §1, RFC 764): LF → CR LF and CR → CR NUL, served as positioned reads.
 * The expected bytes come from a straightforward reference conversion written here.
 */
import t from 'tap';
import fc from 'fast-check';
import { netasciiFile } from '../../../server/tftp/netascii.js';
import type { OpenFile } from '../../../server/tftp/file-source.js';
import { seededBytes } from './helpers.js';

function memoryFile(data: Buffer, onClose: () => void = () => {}): OpenFile {
  return {
    size: data.length,
    read: async (buf, position) => data.copy(buf, 0, position, Math.min(data.length, position + buf.length)),
    close: async () => onClose(),
  };
}

/** Reference conversion, byte by byte. */
function reference(data: Buffer): Buffer {
  const out: number[] = [];
  for (const b of data) {
    if (b === 0x0a) out.push(0x0d, 0x0a);
    else if (b === 0x0d) out.push(0x0d, 0x00);
    else out.push(b);
  }
  return Buffer.from(out);
}

t.test('R-21 netascii converts line ends and bare CRs', async (t) => {
  let closed = false;
  const f = await netasciiFile(memoryFile(Buffer.from('a\nb\r\nc\r'), () => (closed = true)));
  t.equal(f.size, 11);
  const all = Buffer.alloc(11);
  t.equal(await f.read(all, 0), 11);
  t.same([...all], [0x61, 0x0d, 0x0a, 0x62, 0x0d, 0x00, 0x0d, 0x0a, 0x63, 0x0d, 0x00]);
  const one = Buffer.alloc(1);
  t.equal(await f.read(one, 2), 1);
  t.equal(one[0], 0x0a, 'a read can start in the middle of a CR LF pair');
  t.equal(await f.read(one, 11), 0, 'end');
  await f.close();
  t.ok(closed, 'closing closes the underlying file');
  t.equal((await netasciiFile(memoryFile(Buffer.alloc(0)))).size, 0);
});

t.test('R-21 fast-check: block-by-block reads, with retransmitted windows, equal the reference', async (t) => {
  const content = fc.array(fc.constantFrom(0x0a, 0x0d, 0x41, 0x00, 0x7a), { maxLength: 300_000 }).map((a) => Buffer.from(a));
  await fc.assert(
    fc.asyncProperty(content, fc.integer({ min: 8, max: 4096 }), fc.integer({ min: 0, max: 5 }), async (data, blksize, back) => {
      const expected = reference(data);
      const f = await netasciiFile(memoryFile(data));
      if (f.size !== expected.length) return false;
      for (let block = 0; block * blksize <= f.size; block++) {
        // Read this block, then re-read an earlier one as a window restart would.
        for (const b of [block, Math.max(0, block - back)]) {
          const buf = Buffer.alloc(blksize);
          const n = await f.read(buf, b * blksize);
          if (!buf.subarray(0, n).equals(expected.subarray(b * blksize, b * blksize + blksize))) return false;
        }
      }
      return true;
    }),
    { numRuns: 40 },
  );
  t.pass('all reads matched');
});

t.test('R-21 netascii across many read chunks (a 300 kB text with CR/LF everywhere)', async (t) => {
  const alphabet = [0x0a, 0x0d, 0x41, 0x20];
  const data = Buffer.from(seededBytes(300_000, 7).map((b) => alphabet[b % 4] as number));
  const expected = reference(data);
  const f = await netasciiFile(memoryFile(data));
  t.equal(f.size, expected.length);
  const blksize = 1468;
  let mismatches = 0;
  for (let block = 0; block * blksize <= f.size; block++) {
    for (const b of block % 50 === 49 ? [block - 16, block] : [block]) {
      const buf = Buffer.alloc(blksize);
      const n = await f.read(buf, b * blksize);
      if (!buf.subarray(0, n).equals(expected.subarray(b * blksize, b * blksize + blksize))) mismatches++;
    }
  }
  t.equal(mismatches, 0);
});
