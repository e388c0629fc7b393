/** What only the SQLite store has: two processes on one file, rows older versions wrote, the existing schema. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { checkTokens } from './ids.js';
import type { Impl } from './harness.js';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'id-worker.ts');

interface Worker {
  ready: Promise<void>;
  go(): void;
  result: Promise<string[]>;
}

function worker(file: string, count: number): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, file, String(count)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onReady = (): void => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const result = new Promise<string[]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`id worker exited ${code}: ${err}`));
      resolve(JSON.parse(out.slice('ready\n'.length)) as string[]);
    });
  });
  return { ready, go: () => child.stdin.end('go\n'), result };
}

/** SQLite: two processes on the same file, 200 allocations each, started together. */
export function twoProcesses(impl: Impl): (t: Test) => Promise<void> {
  return async (t) => {
    const { store, where } = await impl.fresh(t);
    const workers = [worker(where, 200), worker(where, 200)];
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.go();
    const [a, b] = await Promise.all(workers.map((w) => w.result));
    t.equal(a?.length, 200);
    t.equal(b?.length, 200);
    checkTokens(t, [...(a ?? []), ...(b ?? [])], '400 claims from two processes');
    t.ok(a?.every((id, i) => i === 0 || Number(id.slice(1)) > Number((a[i - 1] as string).slice(1))), "each process's ids increase");
    t.equal(await store.ids.claim('token', (n) => `t${n}`), 't401', 'this connection continues after both');
  };
}

export function sqliteOnly(t: Test, impl: Impl): void {
  t.test('a PXE password hash an older version stored as plain text reads back as that string', async (t) => {
    const { store, sql } = await impl.fresh(t);
    await sql('INSERT INTO settings (name, value) VALUES (?, ?)', ['pxe-password', 'scrypt:16384:c2FsdA==:aGFzaA==']);
    t.equal(await store.settings.get('pxe-password'), 'scrypt:16384:c2FsdA==:aGFzaA==');
    await store.settings.put('pxe-password', 'scrypt:16384:bmV3:bmV3');
    t.equal(await store.settings.get('pxe-password'), 'scrypt:16384:bmV3:bmV3', 'written back as JSON, read the same way');
  });

  t.test("the site's own writes and the store's see one database", async (t) => {
    const { store, sql } = await impl.fresh(t);
    await sql("INSERT INTO settings (name, value) VALUES ('site', ?)", [JSON.stringify({ pxe: { enabled: false } })]);
    t.same(await store.settings.get('site'), { pxe: { enabled: false } }, 'a row written the old way is read by the repository');
    await store.audit.append({ at: 5, actor: 'a', action: 'x', target: 'y', message: 'm', details: { k: 1 } });
    t.equal((await store.audit.page({ action: 'x' }, { offset: 0, limit: 1 })).items[0]?.details.k, 1);
  });
}
