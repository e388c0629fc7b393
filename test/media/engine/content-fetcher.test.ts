/**
 * The engine's HTTP content fetcher against a tiny HTTP server with files of known
 * hashes: every file's sha256 is verified, a point that is down, answers 404 or sends the wrong
 * bytes is followed by the next one, and files already present are not fetched again.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { HttpContentFetcher } from '../../../media/engine/content/fetcher.js';
import { manifestHash, readContentPolicy, type ContentItem, type ContentLocation } from '../../../media/engine/content/policy.js';

const TOKEN = 'client-token-123';
const files: Record<string, string> = { 'setup.sh': 'echo installing\n', 'data/é space.txt': 'x'.repeat(100_000) };
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const FILES = Object.entries(files).map(([p, body]) => ({ path: p, sha256: sha(body), size: Buffer.byteLength(body) }));
/** An item as the policy names it: version, manifest hash and locations, no file list. */
const item = (locations: ContentLocation[]): ContentItem => ({ id: 'PS100010', kind: 'package', version: 3, manifestSha256: manifestHash(FILES), locations });
const fromSite = async () => ({ files: FILES, programs: [{ name: 'Install', commandLine: 'sh setup.sh' }] });
const at = (base: string, name?: string): ContentLocation => ({ url: `${base}/content/PS100010/3/`, ...(name ? { name } : {}) });

/** A point serving `/content/<id>/<version>/<path>`; `corrupt` flips the body, `missing` answers 404. */
async function point(t: Tap, mode: 'good' | 'corrupt' | 'missing', hits: string[]): Promise<string> {
  const srv = http.createServer((req, res) => {
    hits.push(`${mode} ${decodeURIComponent(req.url ?? '')}`);
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end();
    const m = /^\/content\/PS100010\/3\/(.+)$/.exec(decodeURIComponent(req.url ?? ''));
    const body = m ? files[m[1]!] : undefined;
    if (!body || mode === 'missing') return void res.writeHead(404).end('{"error":"not-found"}');
    res.writeHead(200, { 'content-length': Buffer.byteLength(body) }).end(mode === 'corrupt' ? body.toUpperCase() : body);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => srv.close(() => r())));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

function tempDir(t: Tap): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'osdeploy-fetch-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function closedUrl(t: Tap): Promise<string> {
  const url = await point(t, 'good', []);
  // Bind, read the port, close: nothing listens there afterwards.
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return url.replace(/:\d+$/, `:${port}`);
}

t.test('R-16 files come from the first point that serves the right bytes; hashes are verified', async (t) => {
  const hits: string[] = [];
  const down = await closedUrl(t);
  const corrupt = await point(t, 'corrupt', hits);
  const missing = await point(t, 'missing', hits);
  const good = await point(t, 'good', hits);
  const log: string[] = [];
  const fetcher = new HttpContentFetcher(TOKEN, fromSite, (l) => log.push(l));
  const ITEM = item([at(down, 'down'), at(corrupt, 'corrupt'), at(missing, 'missing'), at(good, 'good')]);
  const dest = tempDir(t);
  const r = await fetcher.fetch(ITEM, dest);
  t.equal(r.files, 2);
  t.equal(r.bytes, Buffer.byteLength(files['setup.sh']!) + 100_000);
  t.same(r.sources, ['setup.sh from good', 'data/é space.txt from good']);
  for (const [p, body] of Object.entries(files)) t.equal(readFileSync(path.join(dest, ...p.split('/')), 'utf8'), body, `${p} intact`);
  t.match(log.join('\n'), /down: unreachable/);
  t.match(log.join('\n'), /corrupt: hash mismatch/);
  t.match(log.join('\n'), /missing: HTTP 404/);
  t.notOk(existsSync(path.join(dest, 'setup.sh.partial')), 'no partial file is left behind');
  t.ok(hits.includes('missing /content/PS100010/3/data/é space.txt'), 'path segments are percent-encoded');
  t.same((await fetcher.manifest(ITEM)).programs, [{ name: 'Install', commandLine: 'sh setup.sh' }]);

  hits.length = 0;
  const again = await fetcher.fetch(ITEM, dest);
  t.same([again.bytes, hits], [0, []], 'files present with the right hash are not fetched again');
  writeFileSync(path.join(dest, 'setup.sh'), 'tampered');
  t.equal((await fetcher.fetch(ITEM, dest)).bytes, Buffer.byteLength(files['setup.sh']!), 'a damaged local copy is fetched again');
});

t.test('R-16 when every point fails the error names the file and each point’s reason', async (t) => {
  const corrupt = await point(t, 'corrupt', []);
  const missing = await point(t, 'missing', []);
  const fetcher = new HttpContentFetcher(TOKEN, fromSite);
  await t.rejects(fetcher.fetch(item([at(corrupt, 'dp1'), at(missing, 'dp2')]), tempDir(t)), { message: /could not fetch PS100010 version 3 file setup.sh: dp1: hash mismatch .*; dp2: HTTP 404/ });
  await t.rejects(fetcher.fetch(item([]), tempDir(t)), { message: /no distribution point holds PS100010 version 3/ });
  const good = await point(t, 'good', []);
  await t.rejects(new HttpContentFetcher('nope', fromSite).fetch(item([at(good)]), tempDir(t)), /HTTP 401/);
  t.ok(await new HttpContentFetcher('nope', fromSite).fetch(item([{ ...at(good), token: TOKEN }]), tempDir(t)), 'a remote point’s own token is used');
});

t.test('R-06/R-16 a file list that does not hash to the policy’s manifest hash is not trusted', async (t) => {
  const good = await point(t, 'good', []);
  const lying = async () => ({ files: FILES.map((f, i) => (i === 0 ? { ...f, sha256: sha('evil') } : f)) });
  await t.rejects(new HttpContentFetcher(TOKEN, lying).fetch(item([at(good)]), tempDir(t)), { message: /does not match its manifest hash/ });
  await t.rejects(new HttpContentFetcher(TOKEN, null).fetch(item([at(good)]), tempDir(t)), { message: /file list of PS100010 version 3 is not known/ });
  const carried = { ...item([at(good)]), files: FILES };
  t.equal((await new HttpContentFetcher(TOKEN, null).fetch(carried, tempDir(t))).files, 2, 'a policy that carries the files needs no site');
});

t.test('R-32 a manifest path that would leave the destination is refused', async (t) => {
  const fetcher = new HttpContentFetcher(TOKEN, null);
  const good = await point(t, 'good', []);
  for (const bad of ['../escape', '/etc/passwd', 'a/../../b', 'C:/Windows', 'x\0y']) {
    const files = [{ path: bad, sha256: sha(''), size: 0 }];
    await t.rejects(fetcher.fetch({ ...item([at(good)]), manifestSha256: null, files }, tempDir(t)), /leave the destination/, bad);
  }
});

t.test('R-16 the content section reader takes the content library’s packages with their locations', async (t) => {
  t.equal(readContentPolicy(undefined), null);
  const p = readContentPolicy({
    option: 'downloadAsNeeded',
    useRemoteDistributionPoint: true,
    packages: [
      { id: 'PS100010', kind: 'package', name: 'Tools', version: 3, manifestSha256: 'AB', locations: [{ pointId: 'local', url: 'http://site/content/PS100010/3/', local: true }, { pointId: 'dp2', url: 'http://dp2/content/PS100010/3', local: false, token: 't2' }] },
      { id: 'PS100011', kind: 'package', name: 'Nowhere', version: null, manifestSha256: null, locations: [] },
    ],
  });
  t.same(p, {
    option: 'downloadAsNeeded',
    items: [{ id: 'PS100010', kind: 'package', version: 3, manifestSha256: 'ab', locations: [{ url: 'http://site/content/PS100010/3/', name: 'local' }, { url: 'http://dp2/content/PS100010/3/', name: 'dp2', token: 't2' }] }],
  }, 'a package no point holds is left out');
});
