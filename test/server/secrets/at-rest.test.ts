/**
 * R-31 "Secrets are encrypted at rest" (issue 13, item 7): step passwords, hidden variable values
 * and a remote point's tokens never reach site.db, its WAL or its shared-memory file in the clear,
 * while the policy layer still reads them plain and the API still masks them. No checkpoint is
 * forced: the WAL is read as the running service leaves it. Logs carry neither secrets nor the key.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { pointSecret } from '../../../server/store/points.js';
import { getDoc } from '../../../server/store/docs.js';
import type { TaskSequence } from '../../../policy/task-sequences/model.js';
import type { Collection } from '../../../policy/collections.js';
import type { Computer } from '../../../policy/computers.js';
import {
  ALL_SECRETS,
  COMPUTER_HIDDEN,
  foundIn,
  HIDDEN_VALUE,
  JOIN_PASSWORD,
  openSecretSite,
  POINT_CLIENT_TOKEN,
  POINT_TOKEN,
  populate,
  rawDatabase,
  RUNAS_PASSWORD,
  tempDataDir,
  type Json,
} from './fixture.js';

const stepProps = (ts: TaskSequence, type: string): Json => (ts.items.find((i) => i.kind === 'step' && i.type === type) as Json).properties;

t.test('R-31 no secret is in site.db, site.db-wal or site.db-shm; the site still reads them all', async (t) => {
  const dataDir = tempDataDir(t);
  const s = await openSecretSite(t, dataDir);
  const ids = await populate(s);

  const raw = rawDatabase(dataDir);
  t.ok(readFileSync(path.join(dataDir, 'site.db-wal')).length > 0, 'the writes are still in the WAL (nothing was checkpointed)');
  t.same(foundIn(raw), [], 'no secret appears in the raw bytes of the database files');
  t.ok(raw.includes(Buffer.from('plain-visible-value')), 'a visible variable is stored as it is (the scan reads the right files)');
  t.ok(raw.includes(Buffer.from('enc:v1:')), 'the secrets are stored as enc:v1 envelopes');

  // The storage seam opens them again: the policy layer and the engine get plain values.
  const ts = getDoc<TaskSequence>(s.db, 'task_sequences', ids.tsId)!;
  t.equal(stepProps(ts, 'JoinDomainOrWorkgroup').password, JOIN_PASSWORD, 'the Join Domain password reads back plain');
  t.equal(stepProps(ts, 'RunCommandLine').runAsPassword, RUNAS_PASSWORD, 'the run-as password reads back plain');
  t.same(ts.strippedSecrets, [], 'nothing counts as missing');
  t.same(getDoc<Collection>(s.db, 'collections', ids.collectionId)!.variables.find((v) => v.hidden)?.value, HIDDEN_VALUE);
  t.same(getDoc<Computer>(s.db, 'computers', ids.computerId)!.variables[0]?.value, COMPUTER_HIDDEN);
  t.same(pointSecret(s.db, ids.pointId), { token: POINT_TOKEN, clientToken: POINT_CLIENT_TOKEN });
  const site = s.ctx.snapshot.get();
  t.equal(site.collections.get(ids.collectionId)?.variables.find((v) => v.hidden)?.value, HIDDEN_VALUE, 'the policy snapshot holds the plain value');

  // People still see them masked, as before.
  const col = await s.call('GET', `/collections/${ids.collectionId}`);
  t.match(col.json.variables, [{ name: 'DomainJoinKey', value: null, hidden: true }, { name: 'Visible', value: 'plain-visible-value' }]);
  const tsView = await s.call('GET', `/task-sequences/${ids.tsId}`);
  t.match(tsView.json.items[0], { secretsSet: ['password'] });
  t.equal((await s.call('GET', `/distribution-points/${ids.pointId}`)).json.hasToken, true);
  for (const res of [col, tsView, await s.call('GET', `/computers/${ids.computerId}`), await s.call('GET', '/distribution-points')])
    t.same(foundIn(Buffer.from(res.body)), [], 'no response carries a secret');

  // Editing a task sequence keeps the sealed password (no double sealing, no loss).
  const rename = await s.call('POST', `/task-sequences/${ids.tsId}/edits`, { operations: [{ op: 'rename', itemId: 'i1', name: 'Join the domain' }] });
  t.equal(rename.status, 200, rename.body);
  t.equal(stepProps(getDoc<TaskSequence>(s.db, 'task_sequences', ids.tsId)!, 'JoinDomainOrWorkgroup').password, JOIN_PASSWORD);
  t.same(foundIn(rawDatabase(dataDir)), [], 'still nothing in the clear after more writes');

  // The logs (trace level) hold no secret and not the key.
  const key = readFileSync(path.join(dataDir, 'secret.key'), 'utf8').trim();
  const logs = s.logs();
  t.ok(logs.length > 0, 'something was logged');
  t.same(foundIn(Buffer.from(logs), [...ALL_SECRETS, key, Buffer.from(key, 'base64').toString('hex')]), [], 'no secret or key in the logs');
});

t.test('after a restart the same key opens everything; the key file is 0600', async (t) => {
  const dataDir = tempDataDir(t);
  const first = await openSecretSite(t, dataDir);
  const ids = await populate(first);
  await first.close();
  const mode = (await import('node:fs')).statSync(path.join(dataDir, 'secret.key')).mode & 0o777;
  t.equal(mode, 0o600, 'secret.key is owner-only');
  t.equal(Buffer.from(readFileSync(path.join(dataDir, 'secret.key'), 'utf8').trim(), 'base64').length, 32, 'it holds 32 bytes (base64)');

  const again = await openSecretSite(t, dataDir);
  t.equal(stepProps(getDoc<TaskSequence>(again.db, 'task_sequences', ids.tsId)!, 'JoinDomainOrWorkgroup').password, JOIN_PASSWORD);
  t.same(pointSecret(again.db, ids.pointId)?.token, POINT_TOKEN);
  t.same(foundIn(rawDatabase(dataDir)), []);
});
