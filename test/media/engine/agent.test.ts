/**
 * Full-OS mode: `osdeploy-engine --agent --once` against a real HTTP site whose
 * clock the test moves. A daily Required deployment is not due before its start, runs when due,
 * is not run twice for one occurrence, is retried the next day after a failure (rerun if
 * failed) and not after a success; a user may still start it (`--pick`).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { apiHarness, collection, computer } from '../../fixtures/api-harness.js';
import { runEngine } from './engine-process.js';
import { tempDir } from './step-env.js';

const DAY = 86_400_000;
const MAC = '02:aa:bb:00:00:10';

t.test('R-13/R-14 the agent runs a Required deployment when its schedule and rerun behaviour say so', async (t) => {
  const h = await apiHarness(t);
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  const pc = await computer(h, 'DESKTOP-7', { macAddresses: [MAC] });
  const col = await collection(h, 'Desktops', { directMemberIds: [pc] });
  const boot = await h.call('POST', '/content', { body: { kind: 'bootImage', name: 'Boot' } });
  const ts = await h.call('POST', '/task-sequences', { body: { type: 'custom', name: 'Nightly', bootImageId: boot.json.id } });
  const command = 'echo run >> "$OSDEPLOY_ROOT/runs.txt"; test ! -f "$OSDEPLOY_ROOT/fail"';
  await h.call('POST', `/task-sequences/${ts.json.id}/edits`, { body: { operations: [{ op: 'addStep', type: 'RunCommandLine', name: 'Work', properties: { commandLine: command } }] } });
  const daily = { kind: 'interval', start: { at: '2026-03-02T10:00', utc: true }, every: 1, unit: 'days' };
  const res = await h.call('POST', '/deployments', { body: { taskSequenceId: ts.json.id, collectionId: col, purpose: 'required', availability: 'clients', assignments: [daily], rerun: 'ifFailed' } });
  t.equal(res.status, 201, 'deployment created');
  const dep = res.json.id;

  const root = tempDir(t);
  const state = tempDir(t);
  const agent = (...extra: string[]) =>
    runEngine(t, ['--agent', '--once', '--site', url, '--token', h.tokens.client, '--mac', MAC, '--arch', 'x64', '--root', root, '--state', state, '--utc-offset', '0', '--now', String(h.clock.now()), ...extra]);
  const runs = () => (existsSync(path.join(root, 'runs.txt')) ? readFileSync(path.join(root, 'runs.txt'), 'utf8').split('\n').filter(Boolean).length : 0);

  let r = await agent();
  t.equal(r.code, 0);
  t.match(r.stderr, new RegExp(`nothing due; next: ${dep} due at 2026-03-02T10:00:00.000Z`), '09:00: before the assignment');
  t.equal(runs(), 0);

  h.clock.set(Date.UTC(2026, 2, 2, 10, 1));
  writeFileSync(path.join(root, 'fail'), '');
  r = await agent();
  t.equal(r.code, 1, 'due at 10:00; the run fails');
  t.match(r.stderr, new RegExp(`${dep} is due: assignment reached and never run`));
  t.equal(runs(), 1);

  r = await agent();
  t.match(r, { code: 0, stderr: /not run: .*already ran for the current assignment/ }, 'one run per occurrence');
  t.equal(runs(), 1);

  h.clock.advance(DAY);
  rmSync(path.join(root, 'fail'));
  r = await agent();
  t.match(r, { code: 0, stderr: /previous attempt failed; rerun if failed/ }, 'the next day the failed run is retried');
  t.equal(runs(), 2);

  h.clock.advance(DAY);
  r = await agent();
  t.match(r, { code: 0, stderr: /previous attempt succeeded; rerun only if failed/ }, 'after a success it is not rerun');
  t.equal(runs(), 2);

  r = await agent('--pick', dep);
  t.equal(r.code, 0, 'a user may start it anyway');
  t.equal(runs(), 3);
  t.match((await agent('--pick', 'PS129999')).stderr, /PS129999 is not available to this computer now/);

  const history = (await h.call('GET', `/computers/${pc}/status`)).json;
  t.same(history.runs.map((x: { state: string; source: string }) => `${x.source} ${x.state}`), ['fullOs error', 'fullOs success', 'fullOs success']);
});
