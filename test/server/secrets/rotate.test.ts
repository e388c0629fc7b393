/**
 * `osdeploy secrets rotate-key` (issue 13, item 7): a new key, every secret re-encrypted in one
 * transaction, the key file replaced atomically (0600) with secret.key.old kept until done; the
 * site reads everything afterwards and the old key opens nothing. It refuses a running service,
 * explains what to do with an environment key (--new-key-file), refuses values it cannot open
 * with nothing changed, and a start after an interrupted rotation finishes or undoes it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { getDoc } from '../../../server/store/docs.js';
import { pointSecret } from '../../../server/store/points.js';
import { cipherOf } from '../../../server/store/secrets/binding.js';
import { SecretCipher, type SecretError } from '../../../server/store/secrets/cipher.js';
import { readKeyFile, writeKeyFile } from '../../../server/store/secrets/key.js';
import { resealAll, rotateKey } from '../../../server/store/secrets/rotate.js';
import type { Collection } from '../../../policy/collections.js';
import type { TaskSequence } from '../../../policy/task-sequences/model.js';
import { runCli } from '../cli/harness.js';
import { foundIn, HIDDEN_VALUE, JOIN_PASSWORD, openSecretSite, POINT_TOKEN, populate, rawDatabase, tempDataDir, type Populated, type SecretSite, type Teardowns } from './fixture.js';

const NO_KEY = { secretKey: null, secretKeyFile: null };

async function populated(t: Teardowns, env: Record<string, string> = {}): Promise<{ dataDir: string; ids: Populated }> {
  const dataDir = tempDataDir(t);
  const s = await openSecretSite(t, dataDir, env);
  const ids = await populate(s);
  await s.close();
  return { dataDir, ids };
}

function readsEverything(t: Tap, s: SecretSite, ids: Populated): void {
  const ts = getDoc<TaskSequence>(s.db, 'task_sequences', ids.tsId)!;
  t.equal((ts.items[0] as { properties: Record<string, unknown> }).properties.password, JOIN_PASSWORD, 'the step password');
  t.equal(getDoc<Collection>(s.db, 'collections', ids.collectionId)!.variables.find((v) => v.hidden)?.value, HIDDEN_VALUE, 'the hidden variable');
  t.equal(pointSecret(s.db, ids.pointId)?.token, POINT_TOKEN, 'the point token');
}
type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

const keyIdsIn = (raw: Buffer): Set<string> => new Set([...raw.toString('latin1').matchAll(/enc:v1:([0-9a-f]{16}):/g)].map((m) => m[1]!));

t.test('rotate-key re-encrypts every secret with a new key file; the site reads everything; the old key opens nothing', async (t) => {
  const { dataDir, ids } = await populated(t);
  const keyFile = path.join(dataDir, 'secret.key');
  const oldKey = readKeyFile(keyFile);
  const oldId = new SecretCipher(oldKey, 'old').keyId;

  const r = rotateKey({ dataDir, ...NO_KEY });
  t.match(r, { secrets: 5, fromKeyId: oldId, keyFile, fromEnvironment: false });
  t.not(r.toKeyId, oldId);
  t.notOk(readKeyFile(keyFile).equals(oldKey), 'secret.key holds a new key');
  t.equal(statSync(keyFile).mode & 0o777, 0o600, 'the new key file is 0600');
  t.notOk(existsSync(`${keyFile}.old`), 'secret.key.old is removed when done');
  t.notOk(existsSync(`${keyFile}.new`), 'nothing left beside it');
  const raw = rawDatabase(dataDir);
  t.same([...keyIdsIn(raw)], [r.toKeyId], 'every envelope in the files is sealed with the new key (old pages rewritten)');
  t.same(foundIn(raw), [], 'and nothing is in the clear');

  const s = await openSecretSite(t, dataDir);
  readsEverything(t, s, ids);
  await s.close();
  await t.rejects(openSecretSite(t, dataDir, { OSDEPLOY_SECRET_KEY: oldKey.toString('base64') }), /is not the key the secrets .* were encrypted with/, 'the old key is refused');
});

t.test('rotate-key refuses while the service has the database open; nothing changes', async (t) => {
  const dataDir = tempDataDir(t);
  const s = await openSecretSite(t, dataDir);
  await populate(s);
  const key = readFileSync(path.join(dataDir, 'secret.key'));
  let err: SecretError | undefined;
  try {
    rotateKey({ dataDir, ...NO_KEY });
  } catch (e) {
    err = e as SecretError;
  }
  t.equal(err?.code, 'in-use');
  t.match(err?.message, /is in use \(is osdeploy serve running on this data directory\?\); stop the service/);
  t.ok(readFileSync(path.join(dataDir, 'secret.key')).equals(key), 'the key file is unchanged');
  t.notOk(existsSync(path.join(dataDir, 'secret.key.new')) || existsSync(path.join(dataDir, 'secret.key.old')));
  t.equal((await s.call('GET', '/collections')).status, 200, 'the running site goes on');
});

t.test('an environment key: rotate-key explains --new-key-file, then writes the new key there', async (t) => {
  const oldKey = randomBytes(32);
  const env = { OSDEPLOY_SECRET_KEY: oldKey.toString('base64') };
  const { dataDir, ids } = await populated(t, env);
  const config = { dataDir, secretKey: null, secretKeyFile: null };
  const withEnv = { ...config, secretKey: (await import('../../../server/config.js')).loadConfig({ env }).secretKey };
  t.throws(() => rotateKey(withEnv), /the key comes from OSDEPLOY_SECRET_KEY, which this command does not change\. Run it with --new-key-file FILE/);
  const newFile = path.join(tempDataDir(t), 'next.key');
  writeFileSync(newFile, 'taken');
  t.throws(() => rotateKey({ ...withEnv, newKeyFile: newFile }), /next\.key already exists; it is never overwritten/);
  t.throws(() => rotateKey({ ...config, newKeyFile: newFile }), /rotate-key replaces in place; --new-key-file is for a key given by/);

  const fresh = path.join(path.dirname(newFile), 'fresh.key');
  const r = rotateKey({ ...withEnv, newKeyFile: fresh });
  t.match(r, { secrets: 5, keyFile: fresh, fromEnvironment: true });
  t.equal(statSync(fresh).mode & 0o777, 0o600);
  const s = await openSecretSite(t, dataDir, { OSDEPLOY_SECRET_KEY_FILE: fresh });
  readsEverything(t, s, ids);
  await s.close();
  await t.rejects(openSecretSite(t, dataDir, env), /is not the key/);
});

t.test('a value the current key cannot open stops the rotation with nothing changed', async (t) => {
  const { dataDir, ids } = await populated(t);
  const s = await openSecretSite(t, dataDir);
  s.db.prepare('UPDATE distribution_points SET secret = ? WHERE id = ?').run('enc:v1:nonsense', ids.pointId);
  await s.close();
  const key = readFileSync(path.join(dataDir, 'secret.key'));
  t.throws(() => rotateKey({ dataDir, ...NO_KEY }), new RegExp(`the key was not rotated, nothing was changed: 1 secret\\(s\\) cannot be decrypted with the current key: distribution point ${ids.pointId}, tokens cannot be decrypted: the stored value is not a well-formed enc:v1 envelope\\. Give those values again`));
  t.ok(readFileSync(path.join(dataDir, 'secret.key')).equals(key));
  t.notOk(existsSync(path.join(dataDir, 'secret.key.new')) || existsSync(path.join(dataDir, 'secret.key.old')), 'no key files left behind');
});

t.test('a start after an interrupted rotation finishes it (committed) or undoes it (not committed)', async (t) => {
  const { dataDir, ids } = await populated(t);
  const keyFile = path.join(dataDir, 'secret.key');

  // Not committed: .new and .old written, the database untouched.
  writeKeyFile(`${keyFile}.new`, randomBytes(32), { replace: true });
  writeKeyFile(`${keyFile}.old`, readKeyFile(keyFile), { replace: true });
  const undone = await openSecretSite(t, dataDir);
  t.match(undone.logs(), /removed what an unfinished key rotation left/);
  t.notOk(existsSync(`${keyFile}.new`) || existsSync(`${keyFile}.old`));
  readsEverything(t, undone, ids);

  // Committed, then the process died before renaming .new over secret.key.
  const next = randomBytes(32);
  writeKeyFile(`${keyFile}.new`, next, { replace: true });
  writeKeyFile(`${keyFile}.old`, readKeyFile(keyFile), { replace: true });
  resealAll(undone.db, cipherOf(undone.db)!, new SecretCipher(next, 'next'));
  await undone.close();
  const finished = await openSecretSite(t, dataDir);
  t.match(finished.logs(), /finished an interrupted key rotation/);
  t.ok(readKeyFile(keyFile).equals(next), 'secret.key is the key the database uses');
  t.notOk(existsSync(`${keyFile}.new`) || existsSync(`${keyFile}.old`));
  readsEverything(t, finished, ids);
});

t.test('osdeploy secrets rotate-key --data-dir (the CLI)', async (t) => {
  const { dataDir, ids } = await populated(t);
  const cwd = tempDataDir(t);
  const ok = await runCli(['secrets', 'rotate-key', '--data-dir', dataDir], {}, cwd);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /^re-encrypted 5 secret\(s\): key [0-9a-f]{16} → [0-9a-f]{16}, now in .*secret\.key \(mode 0600\)/);
  const json = await runCli(['secrets', 'rotate-key', '--data-dir', dataDir, '--json'], {}, cwd);
  t.match(JSON.parse(json.stdout), { secrets: 5, fromEnvironment: false });
  const env = await runCli(['secrets', 'rotate-key', '--data-dir', dataDir], { OSDEPLOY_SECRET_KEY: randomBytes(32).toString('hex') }, cwd);
  t.equal(env.code, 1);
  t.match(env.stderr, /^osdeploy: the key comes from OSDEPLOY_SECRET_KEY, which this command does not change\. Run it with --new-key-file FILE/);
  const help = await runCli(['secrets', '--help'], {}, cwd);
  t.match(help.stdout, /rotate-key/);
  const s = await openSecretSite(t, dataDir);
  readsEverything(t, s, ids);
});
