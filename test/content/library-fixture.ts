/** Helpers shared by the content library tests. */
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Test } from 'tap';
import { MemoryContentStore } from '../../content/memory-store.js';
import type { ContentLibrary } from '../../content/library.js';
import type { NewContent } from '../../content/model.js';
import { MemoryLibraryRecords } from '../../content/records.js';
import type { ByteRange, ContentStore, PutExpectation, PutResult } from '../../content/store.js';

export const NOW = new Date('2025-03-01T10:00:00.000Z');
export const LATER = new Date('2025-03-02T10:00:00.000Z');

/** tap gives one fixture directory per test; this lays several folders out in it by name. */
export function folders(t: Test, spec: Parameters<Test['testdir']>[0]): (name: string) => string {
  const root = t.testdir(spec);
  return (name) => path.join(root, name);
}

export function memoryLibrary(): ContentLibrary & { store: MemoryContentStore } {
  return { store: new MemoryContentStore(), records: new MemoryLibraryRecords() };
}

export const pkg = (id: string, extra: Partial<NewContent> = {}): NewContent =>
  ({
    kind: 'package',
    id,
    name: `Package ${id}`,
    sourcePath: '',
    programs: [{ name: 'Install', commandLine: 'setup.exe /q' }],
    allowRunFromDistributionPoint: false,
    ...extra,
  }) as NewContent;

/**
 * Wraps a store and fails the nth put (1-based) after reading part of its source, as a crash
 * or a full disk mid-import would. Every other call goes straight through.
 */
export class FailingPutStore implements ContentStore {
  puts = 0;
  constructor(
    readonly inner: ContentStore,
    readonly failOn: number,
  ) {}

  async put(source: Readable, expected?: PutExpectation): Promise<PutResult> {
    this.puts++;
    if (this.puts === this.failOn) {
      for await (const _chunk of source) break; // consumed partly, like a write that died midway
      throw new Error(`injected failure on put ${this.puts}`);
    }
    return this.inner.put(source, expected);
  }
  stat(sha256: string) {
    return this.inner.stat(sha256);
  }
  open(sha256: string, range?: ByteRange) {
    return this.inner.open(sha256, range);
  }
  has(sha256: string) {
    return this.inner.has(sha256);
  }
  delete(sha256: string) {
    return this.inner.delete(sha256);
  }
  list() {
    return this.inner.list();
  }
  verify(sha256: string) {
    return this.inner.verify(sha256);
  }
}
