/**
 * R-27 R-28 export a task sequence with its dependencies and content, import it into a fresh
 * data directory: every object equal but for secrets and ids; content verified and its source
 * the import path; the task sequence needs passwords and cannot be deployed until they are set;
 * no secret value anywhere in the exported bytes, in any encoding.
 */
import { cpSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { currentVersion, type ContentObject } from '../../../content/model.js';
import { stripSecrets, remapReferences } from '../../../policy/export/transform.js';
import type { TaskSequence } from '../../../policy/task-sequences/model.js';
import { readArchive } from '../../../server/site/export/archive-read.js';
import { getDoc } from '../../../server/store/docs.js';
import { apiHarness, collection, type ApiHarness, type Json } from '../../fixtures/api-harness.js';
import { exportTo, must, planPath, richSite, SECRETS, storedContent } from './fixture.js';

const docOf = (h: ApiHarness, id: string): TaskSequence => getDoc<TaskSequence>(h.db, 'task_sequences', id)!;
const recordOf = (h: ApiHarness, id: string): ContentObject => storedContent(h, id)!;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)).filter((f) => statSync(f).isFile());
}

/** Exports A's task sequence with everything to A/exports/build.zip and copies both to B/imports. */
async function exportAndCarry(a: ApiHarness, b: ApiHarness, tsId: string, extra: Record<string, unknown> = {}): Promise<Json> {
  const out = await exportTo(a, 'build.zip', { taskSequenceIds: [tsId], comments: 'Lab build, March', ...extra });
  cpSync(out.zip, path.join(b.dataDir, 'imports', 'build.zip'));
  if (out.filesFolder) cpSync(out.filesFolder, path.join(b.dataDir, 'imports', 'build_files'), { recursive: true });
  return out;
}

t.test('R-27 R-28 round trip into a fresh data directory: every object equal but for secrets and ids', async (t) => {
  const a = await apiHarness(t);
  const objs = await richSite(t, a);
  const b = await apiHarness(t);
  const out = await exportAndCarry(a, b, objs.tsId);
  t.equal(path.basename(out.filesFolder), 'build_files', 'R-27 content goes into NAME_files beside the zip');
  t.equal(out.objects.length, 8, 'the task sequence and its seven dependencies');

  const plan = await planPath(b, 'build.zip');
  t.equal(plan.status, 201, plan.body);
  t.match(plan.json, { comments: 'Lab build, March', site: 'PS1', includesDependencies: true, includesContent: true, file: { filesFolder: 'build_files', filesPresent: true } });
  t.ok(plan.json.objects.every((o: Json) => o.action === 'create' && o.existing === null && o.allowed.join() === 'create'), 'R-28 never imported: Create New');
  const tsPlan = plan.json.objects.find((o: Json) => o.type === 'taskSequence');
  t.equal(tsPlan.folderPath, '/Servers/Windows 11');
  t.equal(tsPlan.strippedSecrets.length, 4, 'the four secrets the export removed');

  const done = await must(b, 'POST', `/task-sequences/import/${plan.json.planId}/commit`, {});
  const ids = new Map<string, string>(done.objects.map((o: Json) => [o.key, o.id]));
  t.equal(done.content.files, 9, 'every content file went into the store');
  t.equal(done.needsPasswords.length, 1);

  // The task sequence: A's, secrets stripped, references mapped to B's ids, B's id and folder.
  const original = docOf(a, objs.tsId);
  const imported = docOf(b, ids.get(objs.tsId)!);
  const { taskSequence: stripped } = stripSecrets(original);
  const expected = remapReferences({ ...stripped, id: imported.id, folderId: imported.folderId }, (_k, id) => ids.get(id) ?? id);
  t.same(imported, expected, 'equal but for secrets and ids');
  t.not(imported.id, objs.tsId, 'a new id');
  t.same([...imported.strippedSecrets].sort(), [...stripSecrets(original).stripped].sort(), 'R-28 the stripped secrets are listed by step and property');
  t.equal(imported.strippedSecrets.length, 4);
  const view = await must(b, 'GET', `/task-sequences/${imported.id}`);
  t.match(view, { needsPasswords: true, folderPath: '/Servers/Windows 11', name: 'Install Windows 11' });

  // Content: equal but for ids, versions' dates and the source, which is now the import path.
  for (const [key, id] of ids) {
    if (key === objs.tsId) continue;
    const ra = recordOf(a, key);
    const rb = recordOf(b, id);
    const strip = (o: ContentObject) => {
      const { id: _i, sourcePath: _s, versions: _v, ...rest } = o as ContentObject & { dependencies?: string[] };
      return { ...rest, files: currentVersion(o)?.files ?? [], manifest: currentVersion(o)?.manifestSha256 ?? null };
    };
    const wantDeps = ra.kind === 'application' ? { dependencies: ra.dependencies.map((d) => ids.get(d)) } : {};
    t.same(strip(rb), { ...strip(ra), ...wantDeps }, `${ra.name} equal but for ids`);
    if (ra.withoutSource) t.equal(rb.withoutSource, true, `${ra.name} still has no source files`);
    else {
      t.equal(rb.sourcePath, path.join(b.dataDir, 'imports', 'build_files', key), `R-28 ${ra.name}: the source is the import path`);
      t.equal(rb.versions.length, 1);
      t.ok((await must(b, 'GET', `/content/${id}`)).usable);
    }
  }
  for await (const blob of b.ctx.library.store.list()) t.ok(await b.ctx.library.store.verify(blob), 'every imported blob verifies');
});

t.test('R-28 an imported task sequence that needs passwords cannot be deployed until they are set', async (t) => {
  const a = await apiHarness(t);
  const objs = await richSite(t, a);
  const b = await apiHarness(t);
  await exportAndCarry(a, b, objs.tsId);
  const plan = await planPath(b, 'build.zip');
  const done = await must(b, 'POST', `/task-sequences/import/${plan.json.planId}/commit`, {});
  const tsId = done.objects.find((o: Json) => o.type === 'taskSequence').id;
  const col = await collection(b, 'Lab');
  const refused = await b.call('POST', '/deployments', { body: { taskSequenceId: tsId, collectionId: col } });
  t.equal(refused.status, 422);
  t.equal(refused.json.rule, 'R-28');
  t.match(refused.json.message, /needs passwords/);

  const secrets = docOf(b, tsId).strippedSecrets;
  const value: Record<string, string> = { productKey: SECRETS.productKey, domainJoinPassword: 'new-join-pw', runAsPassword: 'new-runas', password: 'new-share' };
  const operations = secrets.map((s) => ({ op: 'setProperties', itemId: s.split('.')[0], properties: { [s.split('.')[1]!]: value[s.split('.')[1]!] } }));
  await must(b, 'POST', `/task-sequences/${tsId}/edits`, { operations });
  t.match(await must(b, 'GET', `/task-sequences/${tsId}`), { needsPasswords: false, strippedSecrets: [] });
  const ok = await b.call('POST', '/deployments', { body: { taskSequenceId: tsId, collectionId: col } });
  t.equal(ok.status, 201, ok.body);
});

t.test('R-27 no secret value occurs anywhere in the exported bytes: zip, entries and files folder', async (t) => {
  const a = await apiHarness(t);
  const objs = await richSite(t, a);
  const out = await exportTo(a, 'secrets.zip', { taskSequenceIds: [objs.tsId] });
  const blobs: { where: string; bytes: Buffer }[] = [{ where: 'secrets.zip', bytes: readFileSync(out.zip) }];
  // Deflate hides plain text in the zip's bytes, so the inflated entries are searched as well.
  for (const [name, bytes] of await readArchive(out.zip)) blobs.push({ where: `zip entry ${name}`, bytes });
  for (const f of filesUnder(out.filesFolder)) blobs.push({ where: f, bytes: readFileSync(f) });
  t.ok(blobs.length > 10);
  for (const secret of Object.values(SECRETS)) {
    const utf8 = Buffer.from(secret, 'utf8');
    const utf16 = Buffer.from(secret, 'utf16le');
    const forms: Record<string, Buffer> = {
      plain: utf8,
      base64: Buffer.from(utf8.toString('base64')),
      base64url: Buffer.from(utf8.toString('base64url')),
      hex: Buffer.from(utf8.toString('hex')),
      HEX: Buffer.from(utf8.toString('hex').toUpperCase()),
      utf16le: utf16,
      utf16be: Buffer.from(utf16).swap16(),
      'utf16 base64': Buffer.from(utf16.toString('base64')),
      'url-encoded': Buffer.from(encodeURIComponent(secret)),
      json: Buffer.from(JSON.stringify(secret).slice(1, -1)),
    };
    for (const { where, bytes } of blobs) for (const [form, needle] of Object.entries(forms)) if (bytes.includes(needle)) t.fail(`${form} form of a secret found in ${where}`);
  }
  const manifest = JSON.parse((await readArchive(out.zip)).get('manifest.json')!.toString());
  t.same(manifest.objects.find((o: Json) => o.type === 'taskSequence').strippedSecrets.length, 4, 'the names of the stripped secrets, not their values');
});
