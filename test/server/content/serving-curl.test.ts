/**
 * R-22 content served to a real third-party client: curl against a listening service, for the
 * whole file (streamed, hash intact), single and multiple ranges, HEAD, If-None-Match and a
 * signed URL with no token. R-32 a bad range and a missing token fail with curl seeing the status.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { folder, ok, startNode, tempDir } from './harness.js';

interface Curl {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

function curl(args: readonly string[]): Promise<Curl> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', ...args], { encoding: 'buffer', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr: stderr.toString() }),
    );
  });
}

// 12 MiB of non-repeating bytes: big enough to stream in many chunks.
const DATA = Buffer.alloc(12 * 1024 * 1024);
for (let i = 0; i < DATA.length; i += 4) DATA.writeUInt32LE((i * 2654435761) >>> 0, i);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

t.test('R-22 curl: whole file, ranges, HEAD, If-None-Match, signed URL', async (t) => {
  const site = await startNode(t);
  const pkg = await ok(site, 'POST', '/content', { kind: 'osImage', name: 'Image', sourcePath: folder(t, { 'install.wim': DATA }) });
  const url = `${site.url}/content/${pkg.id}/1/install.wim`;
  const auth = ['-H', `Authorization: Bearer ${site.token}`];
  const out = path.join(tempDir(t), 'got.wim');

  const whole = await curl([...auth, '--fail', '-o', out, '-w', '%{http_code} %{size_download}', url]);
  t.equal(whole.stdout.toString(), `200 ${DATA.length}`);
  t.equal(sha(readFileSync(out)), sha(DATA), 'the bytes arrive intact');

  const one = await curl([...auth, '--fail', '-r', '1000-1999', url]);
  t.same(one.stdout, DATA.subarray(1000, 2000));

  const head = (await curl([...auth, '-I', url])).stdout.toString();
  t.match(head, /^HTTP\/1\.1 200/);
  t.match(head, new RegExp(`content-length: ${DATA.length}`, 'i'));
  t.match(head, new RegExp(`etag: "${sha(DATA)}"`, 'i'));
  t.match(head, /accept-ranges: bytes/i);

  const multi = await curl([...auth, '-D', '-', '-r', '0-9,5000000-5000009', url]);
  const text = multi.stdout.toString('latin1');
  t.match(text, /HTTP\/1\.1 206/);
  const boundary = /boundary=([^\s;]+)/i.exec(text)![1]!;
  t.match(text, /Content-Range: bytes 0-9\/12582912/);
  t.match(text, /Content-Range: bytes 5000000-5000009\/12582912/);
  t.ok(text.includes(DATA.subarray(5000000, 5000010).toString('latin1')), 'the second part carries its bytes');
  t.ok(text.trimEnd().endsWith(`--${boundary}--`));

  const cached = await curl([...auth, '-o', '/dev/null', '-w', '%{http_code}', '-H', `If-None-Match: "${sha(DATA)}"`, url]);
  t.equal(cached.stdout.toString(), '304');

  const link = (await ok(site, 'POST', `/content/${pkg.id}/links`, { ttlSeconds: 300 })).files[0].url;
  const signed = await curl(['--fail', '-r', '-16', link]);
  t.same(signed.stdout, DATA.subarray(DATA.length - 16), 'a signed URL needs no token');

  const bad = await curl([...auth, '-o', '/dev/null', '-w', '%{http_code}', '-r', '99999999-', url]);
  t.equal(bad.stdout.toString(), '416');
  const anonymous = await curl(['--fail', '-o', '/dev/null', url]);
  t.equal(anonymous.code, 22, 'curl --fail sees the 401');
  t.match(anonymous.stderr, /401/);
});
