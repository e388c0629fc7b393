import { Readable } from 'node:stream';
import t from 'tap';
import { MemoryContentStore } from '../../content/memory-store.js';
import { readAll, runContentStoreContract, sha256Of } from './store-contract.js';

runContentStoreContract(t, 'MemoryContentStore', async () => {
  const store = new MemoryContentStore();
  return { store, corrupt: async (sha256) => store.corruptForTest(sha256) };
});

t.test('the fake keeps its own copy: changing the caller\'s buffer afterwards changes nothing stored', async (t) => {
  const store = new MemoryContentStore();
  const buf = Buffer.from('original');
  const { sha256 } = await store.put(Readable.from([buf]));
  buf.fill(0);
  t.equal(sha256, sha256Of('original'));
  t.equal(await store.verify(sha256), true);
  t.equal((await readAll(await store.open(sha256))).toString(), 'original');
});
