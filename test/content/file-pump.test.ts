/** R-22 the HTTP fast path: byte ranges pumped from a file through two reused buffers, never the whole file. */
import { writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import t from 'tap';
import { pumpFile } from '../../content/file-pump.js';

const DATA = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7) % 256));

async function pumped(file: string, start: number, end: number, chunk: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(Buffer.from(c)));
  try {
    await pumpFile(handle, start, end, out, chunk);
  } finally {
    await handle.close();
  }
  return Buffer.concat(parts);
}

t.test('R-22 ranges come out byte-exact whatever the buffer size; buffers are reused only once written', async (t) => {
  const file = path.join(t.testdir(), 'f.bin');
  writeFileSync(file, DATA);
  for (const chunk of [1, 7, 4096, 1 << 20]) {
    t.same(await pumped(file, 0, DATA.length - 1, chunk), DATA, `whole, chunk ${chunk}`);
    t.same(await pumped(file, 123, 4567, chunk), DATA.subarray(123, 4568), `range, chunk ${chunk}`);
  }
  t.same(await pumped(file, 5, 4, 16), Buffer.alloc(0), 'an empty range writes nothing');
});

t.test('R-32 a file that shrinks, or a client that goes away, stops the pump with an error', async (t) => {
  const file = path.join(t.testdir(), 'f.bin');
  writeFileSync(file, DATA.subarray(0, 100));
  await t.rejects(pumped(file, 0, 999, 64), /shrank/);
  writeFileSync(file, DATA);
  const handle = await open(file, 'r');
  t.teardown(() => handle.close());
  // A sink that accepts one chunk and never acknowledges it, then closes: the pump must not hang.
  const sink = new Writable({ highWaterMark: 1, write: () => setImmediate(() => sink.destroy()) });
  await t.rejects(pumpFile(handle, 0, DATA.length - 1, sink, 16), /closed|destroyed/);
});
