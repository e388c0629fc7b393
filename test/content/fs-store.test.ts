import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, openSync, writeSync, closeSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import { FsContentStore } from '../../content/fs-store.js';
import { collect, failingSource, rejectsCode, runContentStoreContract, sha256Of } from './store-contract.js';

/** Flips the first byte of the stored file (or appends one to an empty file), as bit rot would. */
function corruptOnDisk(file: string): void {
  const size = statSync(file).size;
  const fd = openSync(file, 'r+');
  try {
    const first = size === 0 ? 0 : (readFileSync(file)[0] ?? 0);
    writeSync(fd, Buffer.from([first ^ 0xff]), 0, 1, 0);
  } finally {
    closeSync(fd);
  }
}

runContentStoreContract(t, 'FsContentStore', async (t) => {
  const store = new FsContentStore(t.testdir());
  return { store, corrupt: async (sha256) => corruptOnDisk(store.pathOf(sha256)) };
});

/** Every file under dir, relative, '/' separated, sorted. */
function walk(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? walk(path.join(dir, d.name), `${prefix}${d.name}/`) : [`${prefix}${d.name}`]))
    .sort();
}

t.test('layout: a blob lives at root/ab/cd/<sha256> and nothing else is left', async (t) => {
  const root = t.testdir();
  const store = new FsContentStore(root);
  const { sha256 } = await store.put(Readable.from([Buffer.from('layout')]));
  t.equal(sha256, sha256Of('layout'));
  const rel = `${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
  t.same(walk(root), [rel], 'only the blob; the temp file is gone');
  t.equal(store.pathOf(sha256), path.join(path.resolve(root), rel));
  t.equal(readFileSync(path.join(root, rel), 'utf8'), 'layout');
});

t.test('list ignores stray files that are not well-placed blobs', async (t) => {
  const root = t.testdir();
  const store = new FsContentStore(root);
  const { sha256 } = await store.put(Readable.from([Buffer.from('real')]));
  const other = sha256Of('misplaced');
  mkdirSync(path.join(root, '00', '00'), { recursive: true });
  writeFileSync(path.join(root, '00', '00', other), 'misplaced');
  writeFileSync(path.join(root, sha256.slice(0, 2), 'README'), 'x');
  writeFileSync(path.join(root, '.tmp', `${process.pid}-live.part`), 'in flight');
  t.same(await collect(store.list()), [sha256]);
});

t.test('crash: a source failing midway leaves no object and no visible or temp file', async (t) => {
  const root = t.testdir();
  const store = new FsContentStore(root);
  const big = Buffer.alloc(256 * 1024, 7);
  await t.rejects(store.put(failingSource(big)), { message: 'source failed midway' });
  t.same(walk(root), [], 'no blob directory, no temp file');
  t.same(await collect(store.list()), []);
});

t.test('crash: a mismatch leaves no temp file either', async (t) => {
  const root = t.testdir();
  const store = new FsContentStore(root);
  await rejectsCode(t, store.put(Readable.from([Buffer.from('abc')]), { sha256: sha256Of('xyz') }), 'hash-mismatch');
  await rejectsCode(t, store.put(Readable.from([Buffer.from('abc')]), { size: 2 }), 'size-mismatch');
  t.same(walk(root), []);
});

t.test('construction removes temp files left by a crashed writer, keeps those of live ones', async (t) => {
  const root = t.testdir({
    '.tmp': {
      'crashed.part': 'half a file',
      '999999999-dead.part': 'writer gone',
      [`${process.ppid}-live.part`]: 'a live process is still writing this',
    },
  });
  const store = new FsContentStore(root);
  t.same(readdirSync(path.join(root, '.tmp')), [`${process.ppid}-live.part`]);
  t.same(await collect(store.list()), [], 'no temp file ever shows up as a blob');
});

t.test('construction creates the root when missing', async (t) => {
  const root = path.join(t.testdir(), 'a', 'b');
  const store = new FsContentStore(root);
  t.ok(existsSync(path.join(root, '.tmp')));
  t.equal((await store.put(Readable.from([Buffer.from('x')]))).stored, true);
});
