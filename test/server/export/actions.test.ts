/**
 * R-28 import actions: Create New for objects never imported; Ignore Duplicate (the default for
 * objects already here) links the existing object; Overwrite replaces it under its id;
 * applications add a revision or become a new application. Actions the object does not offer
 * are refused naming it; a plan made stale by a change to the site is refused at commit.
 */
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { TaskSequence } from '../../../policy/task-sequences/model.js';
import { getDoc } from '../../../server/store/docs.js';
import { apiHarness, type ApiHarness, type Json } from '../../fixtures/api-harness.js';
import { counts, exportTo, must, planPath, richSite, type SiteObjects, type Teardowns } from './fixture.js';

const docOf = (h: ApiHarness, id: string): TaskSequence => getDoc<TaskSequence>(h.db, 'task_sequences', id)!;
const byKey = (plan: Json, key: string): Json => plan.objects.find((o: Json) => o.key === key);

/** Exports from `a` as `name` and places the zip and folder in `b`'s imports. */
async function carry(a: ApiHarness, b: ApiHarness, tsId: string, name: string, extra: Record<string, unknown> = {}): Promise<void> {
  const out = await exportTo(a, `${name}.zip`, { taskSequenceIds: [tsId], ...extra });
  cpSync(out.zip, path.join(b.dataDir, 'imports', `${name}.zip`));
  if (out.filesFolder) cpSync(out.filesFolder, path.join(b.dataDir, 'imports', `${name}_files`), { recursive: true });
}

async function importAll(b: ApiHarness, name: string, actions: Record<string, string> = {}): Promise<{ plan: Json; done: Json; ids: Map<string, string> }> {
  const plan = await planPath(b, `${name}.zip`);
  if (plan.status !== 201) throw new Error(plan.body);
  const done = await must(b, 'POST', `/task-sequences/import/${plan.json.planId}/commit`, { actions });
  return { plan: plan.json, done, ids: new Map(done.objects.map((o: Json) => [o.key, o.id])) };
}

async function twoSites(t: Teardowns): Promise<{ a: ApiHarness; b: ApiHarness; objs: SiteObjects; first: Map<string, string> }> {
  const a = await apiHarness(t);
  const objs = await richSite(t, a);
  const b = await apiHarness(t);
  await carry(a, b, objs.tsId, 'one');
  const { ids } = await importAll(b, 'one');
  return { a, b, objs, first: ids };
}

t.test('R-28 importing the same file again: every object found, Ignore Duplicate by default, nothing written', async (t) => {
  const { a, b, objs, first } = await twoSites(t);
  await carry(a, b, objs.tsId, 'two');
  const plan = (await planPath(b, 'two.zip')).json;
  for (const o of plan.objects) {
    t.match(o, { action: 'ignore', existing: { id: first.get(o.key), matchedBy: 'previous-import' } }, `${o.name}: found`);
    t.same(o.allowed, o.type === 'application' ? ['ignore', 'new-revision', 'create'] : ['ignore', 'overwrite']);
  }
  const before = counts(b);
  const done = await must(b, 'POST', `/task-sequences/import/${plan.planId}/commit`, {});
  t.same(counts(b), before, 'no object created, changed or duplicated');
  t.ok(done.objects.every((o: Json) => o.id === first.get(o.key) && o.action === 'ignore'), 'each linked to the existing object');
});

t.test('R-28 exporting and importing into the same site finds the objects themselves', async (t) => {
  const a = await apiHarness(t);
  const objs = await richSite(t, a);
  await carry(a, a, objs.tsId, 'self');
  const plan = (await planPath(a, 'self.zip')).json;
  t.ok(plan.objects.every((o: Json) => o.action === 'ignore' && o.existing.id === o.key && o.existing.matchedBy === 'same-object'));
});

t.test('R-28 Overwrite replaces the existing object under its id; Ignore Duplicate links it into the imported task sequence', async (t) => {
  const { a, b, objs, first } = await twoSites(t);
  const tsB = first.get(objs.tsId)!;
  // B gives the passwords and deploys its copy.
  const operations = docOf(b, tsB).strippedSecrets.map((s) => ({ op: 'setProperties', itemId: s.split('.')[0], properties: { [s.split('.')[1]!]: 'given-in-B' } }));
  await must(b, 'POST', `/task-sequences/${tsB}/edits`, { operations });
  const lab = await must(b, 'POST', '/collections', { name: 'Lab' });
  const deployment = await must(b, 'POST', '/deployments', { taskSequenceId: tsB, collectionId: lab.id });
  // B's copies drift: the task sequence is edited, the driver package renamed.
  await must(b, 'POST', `/task-sequences/${tsB}/edits`, { operations: [{ op: 'remove', itemId: 'i13' }, { op: 'rename', itemId: 'i12', name: 'Local change' }] });
  await must(b, 'PATCH', `/content/${first.get(objs.driver)}`, { name: 'Renamed in B' });
  // A's client package gets a new version.
  const src = (await must(a, 'GET', `/content/${objs.client}`)).sourcePath;
  writeFileSync(path.join(src, 'ccmsetup.exe'), 'MZ client v2');
  await must(a, 'POST', `/content/${objs.client}/import`, {});
  await carry(a, b, objs.tsId, 'two');
  const before = counts(b);
  const { done } = await importAll(b, 'two', { [objs.tsId]: 'overwrite', [objs.driver]: 'overwrite', [objs.client]: 'overwrite' });
  t.same(counts(b), before, 'overwritten in place: no new objects');
  t.ok(done.objects.every((o: Json) => o.id === first.get(o.key)));
  const ts = docOf(b, tsB);
  t.equal(ts.items.length, docOf(a, objs.tsId).items.length, 'the steps are the imported ones again');
  t.equal(ts.strippedSecrets.length, 4, 'and need their passwords again');
  t.ok(done.warnings.some((w: string) => w.includes(`was overwritten and is deployed (${deployment.id})`)), 'the deployment is named in a warning');
  t.equal((await must(b, 'GET', `/content/${first.get(objs.driver)}`)).name, 'Dell Latitude drivers', 'metadata replaced');
  const client = (await b.ctx.library.records.get(first.get(objs.client)!))!;
  t.same(client.versions.map((v) => v.version), [1, 2], 'Overwrite adds the imported content as the next version');
  t.equal(client.versions[1]!.manifestSha256, (await a.ctx.library.records.get(objs.client))!.versions[1]!.manifestSha256);
  t.equal(client.sourcePath, path.join(b.dataDir, 'imports', 'two_files', objs.client), 'its source is the new import path');
  const driver = (await b.ctx.library.records.get(first.get(objs.driver)!))!;
  t.equal(driver.versions.length, 1, 'same content: no new version');
});

t.test('R-28 applications: Overwrite adds a revision, or Create New makes a new application the task sequence then uses', async (t) => {
  const { a, b, objs, first } = await twoSites(t);
  await carry(a, b, objs.tsId, 'two');
  const plan = (await planPath(b, 'two.zip')).json;
  const refused = await b.call('PATCH', `/task-sequences/import/${plan.planId}`, { body: { actions: { [objs.appA]: 'overwrite' } } });
  t.equal(refused.status, 400);
  t.match(refused.json, { field: `actions.${objs.appA}`, rule: 'R-28', message: /new-revision.*create/ });
  const patched = await must(b, 'PATCH', `/task-sequences/import/${plan.planId}`, { actions: { [objs.appA]: 'new-revision', [objs.appB]: 'create' } });
  t.equal(byKey(patched, objs.appA).action, 'new-revision');
  t.same(patched.actions, { [objs.appA]: 'new-revision', [objs.appB]: 'create' });
  const done = await must(b, 'POST', `/task-sequences/import/${plan.planId}/commit`, {});
  const ids = new Map<string, string>(done.objects.map((o: Json) => [o.key, o.id]));
  t.equal(ids.get(objs.appA), first.get(objs.appA), 'new-revision keeps the application');
  const appA = await must(b, 'GET', `/content/${ids.get(objs.appA)}`);
  t.equal(appA.revision, 3, 'revision 2 at A, 3 here: one added');
  const newB = ids.get(objs.appB)!;
  t.not(newB, first.get(objs.appB), 'Create New made another application');
  t.same(appA.dependencies, [newB], 'the revised application depends on the new one');
  t.equal((await must(b, 'GET', '/content')).items.filter((c: Json) => c.name === 'VC++ runtime').length, 2);
});

t.test('R-28 actions an object does not offer are refused naming it; unknown keys too', async (t) => {
  const a = await apiHarness(t);
  const objs = await richSite(t, a);
  const b = await apiHarness(t);
  await carry(a, b, objs.tsId, 'one');
  const plan = (await planPath(b, 'one.zip')).json;
  const url = `/task-sequences/import/${plan.planId}`;
  const cases: [Record<string, string>, RegExp][] = [
    [{ [objs.tsId]: 'ignore' }, /not in this site yet; it can only be created/],
    [{ [objs.osImage]: 'overwrite' }, /only be created/],
    [{ nope: 'create' }, /holds no object "nope"/],
    [{ [objs.tsId]: 'destroy' }, /not an action/],
  ];
  for (const [actions, message] of cases) {
    const r = await b.call('PATCH', url, { body: { actions } });
    t.equal(r.status, 400, JSON.stringify(actions));
    t.match(r.json, { rule: 'R-28', field: `actions.${Object.keys(actions)[0]}`, message });
  }
  const before = counts(b);
  const commit = await b.call('POST', `${url}/commit`, { body: { actions: { [objs.tsId]: 'ignore' } } });
  t.equal(commit.status, 400);
  t.same(counts(b), before, 'nothing imported');
  t.equal((await b.call('DELETE', url)).status, 204, 'dry run: the plan is discarded');
  t.equal((await b.call('GET', url)).status, 404);
  t.same(counts(b), before);
});

t.test('R-28 a plan made stale by a change to the site is refused at commit', async (t) => {
  const { a, b, objs, first } = await twoSites(t);
  await carry(a, b, objs.tsId, 'two');
  const plan = (await planPath(b, 'two.zip')).json;
  t.equal((await b.call('DELETE', `/task-sequences/${first.get(objs.tsId)}`)).status, 204);
  const before = counts(b);
  const r = await b.call('POST', `/task-sequences/import/${plan.planId}/commit`, { body: {} });
  t.equal(r.status, 409);
  t.match(r.json.message, /changed since the plan/);
  t.same(counts(b), before);
});
