import t from 'tap';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../../server/config.js';
import { createLogger } from '../../../server/logger.js';
import { startService } from '../../../server/main.js';
import { createContentFromSource, updateContent } from '../../../server/site/content.js';

const run = promisify(execFile);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

// The public boot routes serve only the boot files a boot image declares (issue 13 H-2); the rest
// of content needs a token (test/server/security/public-boot-routes.test.ts).
t.test('R-21/R-22 TFTP and /boot/ read declared boot files from the content store (Windows paths, any case)', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'osdeploy-tftp-content-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const src = path.join(dir, 'src');
  mkdirSync(path.join(src, 'Boot', 'x64'), { recursive: true });
  const bcd = Buffer.alloc(300_000);
  for (let i = 0; i < bcd.length; i++) bcd[i] = (i * 7919) & 255;
  writeFileSync(path.join(src, 'Boot', 'x64', 'BCD'), bcd);
  writeFileSync(path.join(src, 'boot.wim'), 'wim bytes');
  writeFileSync(path.join(src, 'readme.txt'), 'not a boot file');

  const config = loadConfig({
    flags: { 'data-dir': path.join(dir, 'data'), 'http-port': '0', bind: '127.0.0.1', pxe: 'off', 'tftp-port': '0', 'log-level': 'silent' },
  });
  const service = await startService(config, createLogger('silent'));
  t.teardown(() => service.close());
  const { content } = await createContentFromSource(service.ctx, 'test', { kind: 'bootImage', name: 'WinPE', os: 'winpe' }, src);
  await updateContent(service.ctx, 'test', content.id, { boot: { os: 'winpe', wim: `content/${content.id}/latest/boot.wim`, bcd: `content/${content.id}/latest/Boot/x64/BCD` } });
  const tftpPort = (JSON.parse((await service.app.inject({ url: '/healthz' })).body) as { roles: { role: string; detail: string }[] }).roles
    .find((r) => r.role === 'tftp')!.detail.replace(/\D+/g, '');

  const out = path.join(dir, 'out.bin');
  await run('curl', ['-s', '-o', out, `tftp://127.0.0.1:${tftpPort}/content/${content.id}/latest/boot%5CX64%5Cbcd`]);
  t.equal(sha(readFileSync(out)), sha(bcd), 'a Windows-style, wrong-case path reaches the stored bytes over TFTP');
  await run('curl', ['-s', '-o', out, `tftp://127.0.0.1:${tftpPort}/content/${content.id}/1/boot.wim`]);
  t.equal(readFileSync(out, 'utf8'), 'wim bytes', 'by version number');

  const http = await service.app.inject({ url: `/boot/content/${content.id}/latest/Boot/x64/BCD`, headers: { range: 'bytes=0-9' } });
  t.equal(http.statusCode, 206);
  t.same(http.rawPayload, bcd.subarray(0, 10), 'the same bytes over HTTP with Range');

  const undeclared = await service.app.inject({ url: `/boot/content/${content.id}/latest/readme.txt` });
  t.equal(undeclared.statusCode, 404, 'a file the boot image does not declare is not served without a token');
  const missing = await service.app.inject({ url: `/boot/content/${content.id}/9/boot.wim` });
  t.equal(missing.statusCode, 404, 'an unknown version is not found');
  const escape = await service.app.inject({ url: `/boot/content/${content.id}/latest/..%2f..%2fsite.db` });
  t.equal(escape.statusCode, 403, 'a path that climbs is refused');
  const plain = await service.app.inject({ url: '/boot/undionly.kpxe', method: 'HEAD' });
  t.ok([200, 404].includes(plain.statusCode), 'other paths still go to the boot-file store');
});
