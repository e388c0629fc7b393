/**
 * Content figures (issue 5): one large file served over HTTP on loopback by osdeploy and by nginx,
 * fetched by the same client (curl to /dev/null), median MB/s of several runs and the ratio; and
 * import throughput (POST /api/v1/content with a source folder: hash while copying into the store,
 * fsync, record) against `sha256sum` of the same folder, the hashing limit.
 *
 *   node --import tsx bench/content.ts                       # 2 GiB, 5 runs each
 *   node --import tsx bench/content.ts --size-mib 256 --runs 3  # a quick smoke run
 *
 * Targets: HTTP ≥ 0.8× nginx; import ≥ 0.7× sha256sum. Both servers run as their own process with
 * one worker (nginx `worker_processes 1`, sendfile on; osdeploy is one Node event loop). Files are
 * read from the page cache in both (a warm-up fetch first), so the figures compare the servers,
 * not the disk. Needs curl, sha256sum and nginx (Debian: apt-get install nginx).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { 'size-mib': { type: 'string', default: '2048' }, runs: { type: 'string', default: '5' }, 'keep-dir': { type: 'boolean', default: false } } });
const SIZE = Number(args['size-mib']) * 1024 * 1024;
const RUNS = Number(args.runs);
const MB = 1e6;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function waitFor(url: string, headers: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < 400; i++) {
    try {
      const r = await fetch(url, { headers });
      await r.body?.cancel();
      if (r.status < 500) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up`);
}

/** Writes `size` bytes of incompressible data (a random 1 MiB block, each copy stamped with its index). */
function makeFile(file: string, size: number): void {
  const block = randomBytes(1024 * 1024);
  const fd = openSync(file, 'w', 0o644);
  for (let off = 0, i = 0; off < size; off += block.length, i++) {
    block.writeUInt32LE(i, 0);
    writeSync(fd, block, 0, Math.min(block.length, size - off));
  }
  closeSync(fd);
}

/** curl's own figure: bytes per second of the body, to /dev/null. */
async function curlSpeed(url: string, headers: readonly string[] = []): Promise<number> {
  const { stdout } = await run('curl', ['-sS', '--fail', '-o', '/dev/null', '-w', '%{speed_download} %{size_download}', ...headers.flatMap((h) => ['-H', h]), url], { maxBuffer: 1 << 20 });
  const [speed, size] = stdout.trim().split(' ').map(Number);
  if (size !== SIZE) throw new Error(`${url}: got ${size} bytes, expected ${SIZE}`);
  return speed! / MB;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const children: ChildProcess[] = [];
function start(cmd: string, argv: readonly string[], opts: { cwd?: string } = {}): ChildProcess {
  const child = spawn(cmd, argv, { cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
}
async function stopAll(): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'osdeploy-bench-content-'));
  const src = path.join(work, 'src');
  mkdirSync(src, { mode: 0o755 });
  // nginx workers drop to an unprivileged user: they must be able to read the folder.
  chmodSync(work, 0o755);
  const file = path.join(src, 'install.wim');
  console.log(`writing ${SIZE / 1024 / 1024} MiB test file in ${src} …`);
  makeFile(file, SIZE);

  // --- import against the hashing limit ---------------------------------------------------
  await run('sha256sum', [file]); // warm the page cache
  const hashSecs: number[] = [];
  for (let i = 0; i < RUNS; i++) hashSecs.push(await timed(() => run('sha256sum', [file])));
  // For context only: coreutils hashes without SHA extensions; OpenSSL (what Node uses) may use them.
  const opensslSecs = await timed(() => run('openssl', ['dgst', '-sha256', file])).catch(() => NaN);

  const dataDir = path.join(work, 'data');
  const port = await freePort();
  start(process.execPath, ['--import', 'tsx', 'server/cli/osdeploy.ts', 'serve', '--data-dir', dataDir, '--http-port', String(port), '--bind', '127.0.0.1', '--log-level', 'warn', '--pxe', 'off', '--tftp', 'off']);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/healthz`);
  const token = readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const post = async (url: string, body: unknown) => {
    const r = await fetch(`${base}/api/v1${url}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    if (r.status >= 300) throw new Error(`${url}: ${r.status} ${await r.text()}`);
    return (await r.json()) as { id: string };
  };
  // Each run imports into a fresh content object after removing the blob, so every run really stores 2 GiB.
  const importSecs: number[] = [];
  let contentId = '';
  for (let i = 0; i < RUNS; i++) {
    rmSync(path.join(dataDir, 'content', 'store'), { recursive: true, force: true, maxRetries: 3 });
    mkdirSync(path.join(dataDir, 'content', 'store', '.tmp'), { recursive: true });
    importSecs.push(await timed(async () => (contentId = (await post('/content', { kind: 'osImage', name: `Image ${i}`, sourcePath: src })).id)));
  }

  // --- HTTP: osdeploy against nginx ---------------------------------------------------------
  // nginx serves the very blob osdeploy serves (same inode, same page cache), by its store path.
  const sha = (await run('sha256sum', [file])).stdout.slice(0, 64);
  const storeRoot = path.join(dataDir, 'content', 'store');
  chmodSync(dataDir, 0o755);
  for (const d of [storeRoot, path.join(storeRoot, sha.slice(0, 2)), path.join(storeRoot, sha.slice(0, 2), sha.slice(2, 4))]) chmodSync(d, 0o755);
  chmodSync(path.join(storeRoot, sha.slice(0, 2), sha.slice(2, 4), sha), 0o644);
  const ngxPort = await freePort();
  const ngxDir = path.join(work, 'nginx');
  mkdirSync(ngxDir);
  writeFileSync(
    path.join(ngxDir, 'nginx.conf'),
    `daemon off; worker_processes 1; pid ${ngxDir}/nginx.pid; error_log ${ngxDir}/error.log;
events { worker_connections 64; }
http { access_log off; sendfile on; tcp_nopush on; default_type application/octet-stream;
  server { listen 127.0.0.1:${ngxPort}; root ${storeRoot}; } }\n`,
  );
  start('nginx', ['-c', path.join(ngxDir, 'nginx.conf'), '-p', ngxDir]);
  const ngxUrl = `http://127.0.0.1:${ngxPort}/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}`;
  await waitFor(ngxUrl);
  const ourUrl = `${base}/content/${contentId}/1/install.wim`;
  const ourHeaders = [`Authorization: Bearer ${token}`];
  await curlSpeed(ngxUrl);
  await curlSpeed(ourUrl, ourHeaders);
  const ngx: number[] = [];
  const ours: number[] = [];
  // Interleaved, so a slow moment on a shared machine hits both alike.
  for (let i = 0; i < RUNS; i++) {
    ngx.push(await curlSpeed(ngxUrl));
    ours.push(await curlSpeed(ourUrl, ourHeaders));
  }
  await stopAll();

  const hashMBs = SIZE / MB / median(hashSecs);
  const importMBs = SIZE / MB / median(importSecs);
  const httpRatio = median(ours) / median(ngx);
  const importRatio = importMBs / hashMBs;
  const fmt = (xs: readonly number[]) => xs.map((x) => x.toFixed(0)).join(', ');
  const nginxV = (await run('nginx', ['-v'])).stderr; // nginx -v prints on stderr
  const { stdout: curlV } = await run('curl', ['--version']);
  console.log(`\nmachine: ${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${curlV.split(' ').slice(0, 2).join(' ')}${nginxV ? `, ${nginxV.trim()}` : ''}`);
  console.log(`file: ${SIZE / 1024 / 1024} MiB, ${RUNS} runs each (median)\n`);
  console.log(`HTTP   nginx     ${median(ngx).toFixed(0)} MB/s   (runs: ${fmt(ngx)})`);
  console.log(`HTTP   osdeploy  ${median(ours).toFixed(0)} MB/s   (runs: ${fmt(ours)})`);
  console.log(`HTTP   ratio     ${httpRatio.toFixed(2)}×  target ≥ 0.80×  ${httpRatio >= 0.8 ? 'PASS' : 'FAIL'}`);
  console.log(`import sha256sum ${hashMBs.toFixed(0)} MB/s   (s: ${hashSecs.map((s) => s.toFixed(2)).join(', ')})`);
  if (!Number.isNaN(opensslSecs)) console.log(`       (openssl dgst -sha256, one run, for context: ${(SIZE / MB / opensslSecs).toFixed(0)} MB/s)`);
  console.log(`import osdeploy  ${importMBs.toFixed(0)} MB/s   (s: ${importSecs.map((s) => s.toFixed(2)).join(', ')})`);
  console.log(`import ratio     ${importRatio.toFixed(2)}×  target ≥ 0.70×  ${importRatio >= 0.7 ? 'PASS' : 'FAIL'}`);
  if (!args['keep-dir']) rmSync(work, { recursive: true, force: true });
}

main().catch(async (e: unknown) => {
  await stopAll();
  console.error(e);
  process.exit(1);
});
