/**
 * Files that carry what others must not read (issue 13, item 7): media (an unprotected one holds
 * its client token and variables) and exports are written owner-only, files 0600 in folders
 * 0700, and folders an older version left 0755 are closed at start. secret.key's mode is checked
 * in key.test.ts.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { mediaBuilt } from '../../../server/site/media.js';
import { apiHarness, type ApiHarness } from '../../fixtures/api-harness.js';
import { missingFor } from '../../media/boot-media/fixture.js';
import { mediaSite } from '../../media/boot-media/site-fixture.js';
import { openSecretSite, tempDataDir } from './fixture.js';

const modeOf = (p: string): number => statSync(p).mode & 0o777;

/** Every path under `root` (itself included) whose mode is not 0700 (folders) or 0600 (files). */
function loose(root: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    const want = st.isDirectory() ? 0o700 : 0o600;
    if ((st.mode & 0o777) !== want) out.push(`${path.relative(root, p) || '.'} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(path.join(p, e));
  };
  walk(root);
  return out;
}

async function call(h: ApiHarness, method: string, url: string, body?: unknown) {
  const res = await h.call(method, url, body === undefined ? {} : { body });
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${res.body}`);
  return res.json;
}

t.test('media are written 0600 in 0700 folders (tar and folder formats)', { skip: missingFor('tar') }, async (t) => {
  const h = await apiHarness(t);
  const s = await mediaSite(async (method, url, body) => h.call(method, url, body === undefined ? {} : { body }), t);
  for (const format of ['tar', 'folder']) {
    const started = await h.call('POST', '/media', { token: h.tokens.technician, body: { type: 'bootable', format, deploymentId: s.hidden } });
    t.equal(started.status, 202, started.body);
    const done = await mediaBuilt(h.ctx, started.json.id);
    t.equal(done.state, 'ready', `${format}: ${done.error ?? ''}`);
    t.equal(modeOf(path.join(h.dataDir, 'media')), 0o700, 'DATA_DIR/media is 0700');
    t.same(loose(path.join(h.dataDir, 'media', done.id)), [], `${format}: every file 0600, every folder 0700`);
  }
});

t.test('exports: the zip 0600, NAME_files and every folder 0700, files 0600', async (t) => {
  const h = await apiHarness(t);
  const src = mkdtempSync(path.join(os.tmpdir(), 'osdeploy-export-src-'));
  t.teardown(() => rmSync(src, { recursive: true, force: true }));
  mkdirSync(path.join(src, 'sub'));
  writeFileSync(path.join(src, 'vmlinuz'), 'KERNEL');
  writeFileSync(path.join(src, 'sub', 'initrd.img'), 'INITRD');
  const boot = await call(h, 'POST', '/content', { kind: 'bootImage', name: 'Boot', sourcePath: src });
  const ts = await call(h, 'POST', '/task-sequences', { type: 'custom', name: 'Exported', bootImageId: boot.id });
  await call(h, 'POST', '/task-sequences/export', { taskSequenceIds: [ts.id], includeContent: true, path: 'team/april/backup' });
  const root = path.join(h.dataDir, 'exports');
  t.same(readdirSync(path.join(root, 'team', 'april')).sort(), ['backup.zip', 'backup_files']);
  t.same(loose(root), [], 'DATA_DIR/exports: every file 0600, every folder 0700');
});

t.test('media and export folders an older version left open are closed at start', async (t) => {
  const dataDir = tempDataDir(t);
  for (const dir of ['media/PS1M00001', 'exports/old']) mkdirSync(path.join(dataDir, dir), { recursive: true, mode: 0o755 });
  writeFileSync(path.join(dataDir, 'media/PS1M00001/PS1M00001.tar'), 'token inside', { mode: 0o644 });
  for (const dir of ['media', 'media/PS1M00001', 'exports']) chmodSync(path.join(dataDir, dir), 0o755);
  await openSecretSite(t, dataDir);
  for (const dir of ['media', 'media/PS1M00001', 'exports']) t.equal(modeOf(path.join(dataDir, dir)), 0o700, `${dir} is 0700`);
});
