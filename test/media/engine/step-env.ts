/**
 * A step environment for step tests: temp root and state folders, and a fake ContentFetcher
 * (the interface the engine owns, DESIGN.md lesson 5) that copies content from local folders.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ContentFetcher } from '../../../media/engine/content/fetcher.js';
import type { ContentItem, ContentPolicy } from '../../../media/engine/content/policy.js';
import { Mounts } from '../../../media/engine/mounts.js';
import type { StepEnv } from '../../../media/engine/steps/types.js';
import { newDiskBook } from '../../../media/engine/steps/volumes.js';
import { Variables } from '../../../media/engine/variables.js';

export interface Teardowns {
  teardown(fn: () => unknown): void;
}

export function tempDir(t: Teardowns, prefix = 'osdeploy-engine-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `{ path: body }` under `root/name` (a content source folder) and returns that folder. */
export function sourceFolder(root: string, name: string, files: Record<string, string>): string {
  for (const [p, body] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name, p)), { recursive: true });
    writeFileSync(path.join(root, name, p), body);
  }
  return path.join(root, name);
}

/** Content objects made from `{ path: body }` maps, as a content section lists them. */
export class FakeContent implements ContentFetcher {
  readonly items: ContentItem[] = [];
  readonly fetched: string[] = [];
  private readonly folders = new Map<string, string>();

  constructor(private readonly dir: string) {}

  add(id: string, files: Record<string, string | Buffer>, extra: Partial<ContentItem> = {}): this {
    const folder = path.join(this.dir, id);
    for (const [p, body] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(folder, p)), { recursive: true });
      writeFileSync(path.join(folder, p), body);
    }
    return this.addFolder(id, folder, extra);
  }

  /** A folder already on disk (an image made by tar or wimlib) as content. */
  addFolder(id: string, folder: string, extra: Partial<ContentItem> = {}): this {
    const list = (dir: string, rel = ''): string[] =>
      readdirSync(dir).flatMap((n) => (statSync(path.join(dir, n)).isDirectory() ? list(path.join(dir, n), `${rel}${n}/`) : [`${rel}${n}`]));
    const files = list(folder).map((p) => {
      const body = readFileSync(path.join(folder, p));
      return { path: p, sha256: createHash('sha256').update(body).digest('hex'), size: body.length };
    });
    this.folders.set(id, folder);
    this.items.push({ id, kind: 'package', version: 1, manifestSha256: null, locations: [{ url: `http://fake/content/${id}/1/` }], files, ...extra });
    return this;
  }

  get policy(): ContentPolicy {
    return { option: 'downloadAsNeeded', items: this.items };
  }

  async manifest(item: ContentItem) {
    return { files: item.files ?? [], programs: item.programs ?? [] };
  }

  async fetch(item: ContentItem, dest: string) {
    this.fetched.push(item.id);
    cpSync(this.folders.get(item.id)!, dest, { recursive: true });
    const files = item.files ?? [];
    return { files: files.length, bytes: files.reduce((n, f) => n + f.size, 0), sources: [] };
  }
}

export function stepEnv(t: Teardowns, over: Partial<StepEnv> & { fake?: FakeContent } = {}): StepEnv & { lines: string[] } {
  const base = tempDir(t);
  const lines: string[] = [];
  const root = path.join(base, 'root');
  const stateDir = path.join(base, 'state');
  mkdirSync(root, { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  const { fake, ...rest } = over;
  return {
    vars: new Variables(),
    root,
    stateDir,
    cacheDir: path.join(stateDir, 'cache'),
    content: fake?.policy ?? null,
    fetcher: fake ?? null,
    disks: new Map(),
    disk: newDiskBook(),
    mounts: new Mounts(over.searchPath ?? process.env.PATH ?? '/usr/bin:/bin', (l) => lines.push(l)),
    uefi: false,
    arch: 'x64',
    log: (l) => lines.push(l),
    searchPath: process.env.PATH ?? '/usr/bin:/bin',
    lines,
    ...rest,
  };
}
