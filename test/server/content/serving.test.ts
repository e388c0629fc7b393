/**
 * R-22 content over HTTP from the point's store: Content-Length, single and multiple ranges,
 * ETag and If-None-Match, HEAD; R-31 a token or a signed URL; R-32 bad ranges, forged and
 * expired signatures, and paths that try to leave the store.
 */
import { truncateSync } from 'node:fs';
import t from 'tap';
import { apiHarness, type ApiHarness } from '../../fixtures/api-harness.js';
import { folder } from './harness.js';

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];
const BODY = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));

async function setup(t: Tap) {
  const h = await apiHarness(t);
  const c = await h.call('POST', '/content', { body: { kind: 'package', name: 'Data', sourcePath: folder(t, { 'data.bin': BODY, 'dir/hello world.txt': 'hi', 'empty.txt': '' }) } });
  const files = (await h.call('GET', `/content/${c.json.id}/versions/1`)).json.files as { path: string; sha256: string }[];
  const sha = files.find((f) => f.path === 'data.bin')!.sha256;
  return { h, id: c.json.id as string, sha };
}

const get = (h: ApiHarness, url: string, headers: Record<string, string> = {}, token: string | null = h.tokens.client, method: 'GET' | 'HEAD' = 'GET') =>
  h.app.inject({ method, url, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });

t.test('R-22 a whole file: Content-Length, strong ETag from the hash, immutable by version, HEAD without a body', async (t) => {
  const { h, id, sha } = await setup(t);
  const r = await get(h, `/content/${id}/1/data.bin`);
  t.equal(r.statusCode, 200);
  t.equal(r.headers['content-length'], '5000');
  t.equal(r.headers.etag, `"${sha}"`);
  t.equal(r.headers['accept-ranges'], 'bytes');
  t.match(r.headers['cache-control'], /immutable/);
  t.same(r.rawPayload, BODY);
  const latest = await get(h, `/content/${id}/latest/data.bin`);
  t.same(latest.rawPayload, BODY);
  t.match(latest.headers['cache-control'], /no-cache/, '"latest" can change');
  const head = await get(h, `/content/${id}/1/data.bin`, {}, h.tokens.client, 'HEAD');
  t.equal(head.statusCode, 200);
  t.equal(head.headers['content-length'], '5000');
  t.equal(head.rawPayload.length, 0);
  t.equal((await get(h, `/content/${id}/1/dir/hello%20world.txt`)).body, 'hi', 'percent-encoded path segments');
  const empty = await get(h, `/content/${id}/1/empty.txt`);
  t.same([empty.statusCode, empty.headers['content-length'], empty.body], [200, '0', '']);
  const byHash = await get(h, `/content/sha256/${sha}`);
  t.same(byHash.rawPayload, BODY, 'the same bytes by hash');
  for (const token of [h.tokens.admin, h.tokens.technician]) t.equal((await get(h, `/content/${id}/1/data.bin`, {}, token)).statusCode, 200);
});

t.test('R-22 If-None-Match answers 304; a stale If-Range gets the whole file', async (t) => {
  const { h, id, sha } = await setup(t);
  const r = await get(h, `/content/${id}/1/data.bin`, { 'if-none-match': `"${sha}"` });
  t.equal(r.statusCode, 304);
  t.equal(r.rawPayload.length, 0);
  t.equal((await get(h, `/content/${id}/1/data.bin`, { 'if-none-match': '"nope"' })).statusCode, 200);
  t.equal((await get(h, `/content/${id}/1/data.bin`, { range: 'bytes=0-9', 'if-range': '"stale"' })).statusCode, 200);
  t.equal((await get(h, `/content/${id}/1/data.bin`, { range: 'bytes=0-9', 'if-range': `"${sha}"` })).statusCode, 206);
});

t.test('R-22 ranges: single is 206 with Content-Range; several are multipart/byteranges', async (t) => {
  const { h, id } = await setup(t);
  const one = await get(h, `/content/${id}/1/data.bin`, { range: 'bytes=100-199' });
  t.equal(one.statusCode, 206);
  t.equal(one.headers['content-range'], 'bytes 100-199/5000');
  t.equal(one.headers['content-length'], '100');
  t.same(one.rawPayload, BODY.subarray(100, 200));
  const suffix = await get(h, `/content/${id}/1/data.bin`, { range: 'bytes=-10' });
  t.same(suffix.rawPayload, BODY.subarray(4990));

  const multi = await get(h, `/content/${id}/1/data.bin`, { range: 'bytes=0-3, 4990-' });
  t.equal(multi.statusCode, 206);
  const boundary = /boundary=(\S+)/.exec(String(multi.headers['content-type']))![1]!;
  t.match(multi.headers['content-type'], /^multipart\/byteranges; boundary=/);
  t.equal(Number(multi.headers['content-length']), multi.rawPayload.length, 'Content-Length is exact');
  const text = multi.rawPayload.toString('latin1');
  const parts = text.split(`--${boundary}`).slice(1, -1);
  t.equal(parts.length, 2);
  t.match(parts[0], /Content-Range: bytes 0-3\/5000\r\n\r\n/);
  t.equal(Buffer.from(parts[0]!.split('\r\n\r\n')[1]!.replace(/\r\n$/, ''), 'latin1').toString('hex'), BODY.subarray(0, 4).toString('hex'));
  t.match(parts[1], /Content-Range: bytes 4990-4999\/5000/);
  t.ok(text.endsWith(`--${boundary}--\r\n`));
  const headMulti = await get(h, `/content/${id}/1/data.bin`, { range: 'bytes=0-3, 4990-' }, h.tokens.client, 'HEAD');
  t.equal(headMulti.headers['content-length'], multi.headers['content-length'], 'HEAD of a multipart answer carries the same length');
  t.equal(headMulti.rawPayload.length, 0);
});

t.test('R-32 bad ranges: unsatisfiable is 416 with the size; nonsense is ignored', async (t) => {
  const { h, id } = await setup(t);
  const r = await get(h, `/content/${id}/1/data.bin`, { range: 'bytes=5000-6000' });
  t.equal(r.statusCode, 416);
  t.equal(r.headers['content-range'], 'bytes */5000');
  t.equal((await get(h, `/content/${id}/1/data.bin`, { range: 'bytes=zz' })).statusCode, 200);
  const many = Array.from({ length: 40 }, (_, i) => `${i * 10}-${i * 10}`).join(',');
  t.equal((await get(h, `/content/${id}/1/data.bin`, { range: `bytes=${many}` })).statusCode, 416, 'too many parts');
});

t.test('R-31 a token of any role or a signed URL; forged, altered and expired links refused', async (t) => {
  const { h, id, sha } = await setup(t);
  t.equal((await get(h, `/content/${id}/1/data.bin`, {}, null)).statusCode, 401);
  t.equal((await get(h, `/content/${id}/1/data.bin`, {}, 'osd_not-a-token')).statusCode, 401);
  t.equal((await h.call('POST', `/content/${id}/links`, { token: h.tokens.technician, body: { ttlSeconds: 60 } })).status, 403, 'signed links are for administrators (R-31: technicians build media only)');
  const links = await h.call('POST', `/content/${id}/links`, { body: { ttlSeconds: 60 } });
  t.equal(links.status, 200);
  const link = links.json.files.find((f: { path: string }) => f.path === 'data.bin');
  const url = new URL(link.url);
  const signed = await get(h, `${url.pathname}${url.search}`, {}, null);
  t.equal(signed.statusCode, 200, 'no token needed with a signature');
  t.same(signed.rawPayload, BODY);
  const blob = new URL(link.blobUrl);
  t.equal((await get(h, `${blob.pathname}${blob.search}`, { range: 'bytes=0-0' }, null)).statusCode, 206);

  const forged = `${url.search.slice(0, -2)}${url.search.endsWith('AA') ? 'BB' : 'AA'}`;
  t.match(await get(h, `${url.pathname}${forged}`, {}, null), { statusCode: 403 });
  t.equal((await get(h, `/content/${id}/1/empty.txt${url.search}`, {}, null)).statusCode, 403, 'a signature is for one path');
  t.equal((await get(h, `/content/sha256/${sha}${url.search}`, {}, null)).statusCode, 403);
  const later = url.search.replace(/expires=\d+/, (m) => `expires=${Number(m.slice(8)) + 3600}`);
  t.equal((await get(h, `${url.pathname}${later}`, {}, null)).statusCode, 403, 'a longer expiry breaks the signature');
  h.clock.advance(61_000);
  const expired = await get(h, `${url.pathname}${url.search}`, {}, null);
  t.equal(expired.statusCode, 403);
  t.match(expired.json(), { message: /expired/ });
  t.equal((await h.call('POST', `/content/${id}/links`, { token: h.tokens.client, body: {} })).status, 403, 'clients do not mint links');
  t.equal((await h.call('POST', `/content/${id}/links`, { body: { ttlSeconds: 10 ** 9 } })).status, 400);
});

t.test('R-32 nothing outside the store is reachable', async (t) => {
  const { h, id } = await setup(t);
  for (const p of [
    `/content/${id}/1/..%2F..%2F..%2Fsite.db`,
    `/content/${id}/1/%2e%2e/%2e%2e/site.db`,
    `/content/${id}/1/dir/..%5C..%5Cadmin.token`,
    `/content/${id}/1/%00data.bin`,
    `/content/${id}/1/%2Fetc%2Fpasswd`,
  ]) {
    const r = await get(h, p);
    // 400 from the path check, or 404 when the URL parser already folded the dots away: never the file.
    t.ok(r.statusCode === 400 || r.statusCode === 404, `${p} → ${r.statusCode}`);
    t.notOk(r.body.includes('osd_'), 'no secret leaks');
  }
  for (const p of ['/content/sha256/..%2F..%2Fsite.db', '/content/sha256/ABC', `/content/sha256/${'g'.repeat(64)}`]) t.equal((await get(h, p)).statusCode, 400, `${p} → 400`);
  t.equal((await get(h, `/content/sha256/${'0'.repeat(64)}`)).statusCode, 404);
  t.equal((await get(h, `/content/${id}/1/nope.bin`)).statusCode, 404);
  t.equal((await get(h, `/content/${id}/9/data.bin`)).statusCode, 404);
  t.equal((await get(h, `/content/${id}/0/data.bin`)).statusCode, 400);
  t.equal((await get(h, `/content/PS1FFFFF/1/data.bin`)).statusCode, 404);
});

t.test('R-22 a damaged blob is not served as if whole', async (t) => {
  const { h, id, sha } = await setup(t);
  truncateSync(h.ctx.library.store.pathOf(sha), 10);
  const r = await get(h, `/content/${id}/1/data.bin`);
  t.equal(r.statusCode, 503);
  t.match(r.json(), { message: /damaged/ });
});
