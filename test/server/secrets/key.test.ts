/**
 * The cipher and its key (issue 13, item 7): AES-256-GCM envelopes round-trip and name what
 * they cannot open; the key comes from DATA_DIR/secret.key (made 0600 on the first start),
 * OSDEPLOY_SECRET_KEY or OSDEPLOY_SECRET_KEY_FILE; a wrong or missing key stops the start with
 * a message naming the key (file), and nothing is changed or silently lost.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { ConfigError, loadConfig } from '../../../server/config.js';
import { SecretCipher, SecretError, envelopeKeyId, keyIdOf } from '../../../server/store/secrets/cipher.js';
import { parseKeyText } from '../../../server/store/secrets/key.js';
import { getDoc } from '../../../server/store/docs.js';
import { pointSecret } from '../../../server/store/points.js';
import type { TaskSequence } from '../../../policy/task-sequences/model.js';
import { foundIn, JOIN_PASSWORD, openSecretSite, POINT_TOKEN, populate, rawDatabase, tempDataDir, type Json } from './fixture.js';

const cipher = (key = randomBytes(32)) => new SecretCipher(key, 'the test key');
function errorOf(fn: () => unknown): Error | undefined {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  return undefined;
}
const codeOf = (fn: () => unknown): string | undefined => (errorOf(fn) as SecretError | undefined)?.code;

t.test('envelopes: enc:v1:<key id>:<nonce+ct+tag>, a fresh nonce each time, round trip for any text', async (t) => {
  const c = cipher();
  const a = c.seal('Pa55word');
  t.match(a, /^enc:v1:[0-9a-f]{16}:[A-Za-z0-9_-]+$/);
  t.equal(envelopeKeyId(a), c.keyId);
  t.not(a, c.seal('Pa55word'), 'the same value seals differently (random 96-bit nonce)');
  t.equal(Buffer.from(a.split(':')[3]!, 'base64url').length, 12 + 8 + 16, 'nonce (12) + ciphertext + tag (16)');
  fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => c.open(c.seal(s), 'value') === s));
  t.same(Object.keys(JSON.parse(JSON.stringify(c))).sort(), ['keyId', 'source'], 'a cipher never serialises its key');
});

t.test('bad envelopes are named errors, never a crash', async (t) => {
  const c = cipher();
  const sealed = c.seal('secret');
  const body = sealed.split(':')[3]!;
  const flipped = `${sealed.slice(0, -body.length)}${body[0] === 'A' ? 'B' : 'A'}${body.slice(1)}`;
  const cases: [string, string, string][] = [
    ['altered', flipped, 'unreadable'],
    ['truncated', `${sealed.slice(0, -body.length)}AAAA`, 'unreadable'],
    ['malformed', 'enc:v1:zz:!!', 'unreadable'],
    ['header changed', sealed.replace('enc:v1:', 'enc:v1:').replace(c.keyId, c.keyId.replace(/^./, (x) => (x === '0' ? '1' : '0'))), 'wrong-key'],
    ['another key', cipher().seal('secret'), 'wrong-key'],
  ];
  for (const [name, value, code] of cases) {
    let err: SecretError | undefined;
    try {
      c.open(value, 'collection PS100014, hidden variable JoinKey');
    } catch (e) {
      err = e as SecretError;
    }
    t.ok(err instanceof SecretError, `${name}: a SecretError`);
    t.equal(err?.code, code, `${name}: ${code}`);
    t.match(err?.message, /^collection PS100014, hidden variable JoinKey /, `${name}: names what could not be decrypted`);
    t.notOk(err?.message.includes('secret'), `${name}: never the value`);
  }
  t.equal(codeOf(() => new SecretCipher(Buffer.alloc(16), 'a short key')), 'key-file');
  t.equal(keyIdOf(Buffer.alloc(32, 1)), keyIdOf(Buffer.alloc(32, 1)), 'the key id depends on the key only');
});

t.test('OSDEPLOY_SECRET_KEY: base64 or hex, 32 bytes, only from the environment, never echoed', async (t) => {
  const key = randomBytes(32);
  t.same(loadConfig({ env: { OSDEPLOY_SECRET_KEY: key.toString('base64') } }).secretKey?.bytes(), key);
  t.same(loadConfig({ env: { OSDEPLOY_SECRET_KEY: key.toString('hex') } }).secretKey?.bytes(), key);
  t.same(parseKeyText(` ${key.toString('base64url')}\n`), key, 'base64url and surrounding space');
  const bad = 'not-a-key-0123456789';
  const refused = errorOf(() => loadConfig({ env: { OSDEPLOY_SECRET_KEY: bad } }));
  t.ok(refused instanceof ConfigError, 'a configuration error');
  t.match(refused?.message, /^OSDEPLOY_SECRET_KEY must be 32 bytes as base64 \(44 characters\) or hex \(64 characters\)/);
  t.notOk(refused?.message.includes(bad), 'the value is not echoed');
  t.throws(() => loadConfig({ env: { OSDEPLOY_SECRET_KEY: randomBytes(16).toString('base64') } }), /must be 32 bytes/);
  t.throws(() => loadConfig({ flags: { 'secret-key': key.toString('base64') } }), /unknown option --secret-key/, 'no flag: a key on a command line shows in ps');
  const dir = tempDataDir(t);
  const file = path.join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ secretKey: key.toString('base64') }));
  t.throws(() => loadConfig({ file }), /secretKey can only be given by OSDEPLOY_SECRET_KEY/);
  t.throws(() => loadConfig({ env: { OSDEPLOY_SECRET_KEY: key.toString('hex'), OSDEPLOY_SECRET_KEY_FILE: file } }), /not both/);
  t.equal(loadConfig({ flags: { 'secret-key-file': 'k/s.key' } }).secretKeyFile, path.resolve('k/s.key'));
  const c = loadConfig({ env: { OSDEPLOY_SECRET_KEY: key.toString('hex') } });
  t.notOk(JSON.stringify(c).includes(key.toString('hex')) || JSON.stringify(c).includes(key.toString('base64')), 'a config that is logged shows no key');
  t.notOk((await import('node:util')).inspect(c).includes(key.toString('hex')));
});

t.test('an environment key: no key file is made, the same key reopens, a missing one is refused', async (t) => {
  const dataDir = tempDataDir(t);
  const env = { OSDEPLOY_SECRET_KEY: randomBytes(32).toString('base64') };
  const s = await openSecretSite(t, dataDir, env);
  const ids = await populate(s);
  await s.close();
  t.notOk(existsSync(path.join(dataDir, 'secret.key')), 'no DATA_DIR/secret.key');
  t.same(foundIn(rawDatabase(dataDir)), []);
  const again = await openSecretSite(t, dataDir, env);
  t.equal(pointSecret(again.db, ids.pointId)?.token, POINT_TOKEN);
  await again.close();

  await t.rejects(openSecretSite(t, dataDir), /holds secrets encrypted with key [0-9a-f]{16}, but the key file .*secret\.key is missing; restore it/);
  t.notOk(existsSync(path.join(dataDir, 'secret.key')), 'no new key was made that could never open them');

  const keyFile = path.join(tempDataDir(t), 'elsewhere.key');
  writeFileSync(keyFile, Buffer.from(env.OSDEPLOY_SECRET_KEY, 'base64'), { mode: 0o600 });
  const viaFile = await openSecretSite(t, dataDir, { OSDEPLOY_SECRET_KEY_FILE: keyFile });
  t.equal(pointSecret(viaFile.db, ids.pointId)?.token, POINT_TOKEN, 'OSDEPLOY_SECRET_KEY_FILE with 32 raw bytes opens them');
  await viaFile.close();
  await t.rejects(openSecretSite(t, dataDir, { OSDEPLOY_SECRET_KEY_FILE: `${keyFile}.gone` }), /OSDEPLOY_SECRET_KEY_FILE names .*elsewhere\.key\.gone, which does not exist/);
});

t.test('a wrong key stops the start naming the key file; nothing is changed', async (t) => {
  const dataDir = tempDataDir(t);
  const s = await openSecretSite(t, dataDir);
  const ids = await populate(s);
  await s.close();
  const keyFile = path.join(dataDir, 'secret.key');
  const right = readFileSync(keyFile);
  const before = rawDatabase(dataDir);

  writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`);
  const wrong = await openSecretSite(t, dataDir).then(() => undefined, (e: unknown) => e as SecretError);
  t.ok(wrong instanceof SecretError && wrong.code === 'wrong-key', 'a wrong-key error');
  t.ok(wrong?.message.startsWith(`the key file ${keyFile} (key `), wrong?.message ?? 'no error');
  t.match(wrong?.message, /is not the key the secrets in .*site\.db were encrypted with \(key [0-9a-f]{16}\); nothing was changed/);
  await t.rejects(openSecretSite(t, dataDir, { OSDEPLOY_SECRET_KEY: randomBytes(32).toString('hex') }), /the key in OSDEPLOY_SECRET_KEY \(key [0-9a-f]{16}\) is not the key/);
  writeFileSync(keyFile, 'garbage');
  await t.rejects(openSecretSite(t, dataDir), new RegExp(`the secret key file ${keyFile} must hold 32 bytes`));
  t.ok(rawDatabase(dataDir).equals(before), 'the database files were not touched');

  writeFileSync(keyFile, right);
  const again = await openSecretSite(t, dataDir);
  const ts = getDoc<TaskSequence>(again.db, 'task_sequences', ids.tsId)!;
  t.equal((ts.items[0] as Json).properties.password, JOIN_PASSWORD, 'with the right key everything is there');
});

t.test('a damaged envelope: the start goes on, the log names it, its task sequence needs that password again', async (t) => {
  const dataDir = tempDataDir(t);
  const s = await openSecretSite(t, dataDir);
  const ids = await populate(s);
  // Damage the stored password and the point's tokens under the same key (what a bad disk or an edit by hand does).
  const row = s.db.prepare('SELECT doc FROM task_sequences WHERE id = ?').get(ids.tsId) as { doc: string };
  const damaged = row.doc.replace(/("password":"enc:v1:[0-9a-f]{16}:)([A-Za-z0-9_-])/, (_, head: string, c: string) => `${head}${c === 'A' ? 'B' : 'A'}`);
  t.not(damaged, row.doc);
  s.db.prepare('UPDATE task_sequences SET doc = ? WHERE id = ?').run(damaged, ids.tsId);
  s.db.prepare('UPDATE distribution_points SET secret = ? WHERE id = ?').run('enc:v1:nonsense', ids.pointId);
  await s.close();

  const again = await openSecretSite(t, dataDir);
  const logs = again.logs();
  t.match(logs, new RegExp(`task sequence ${ids.tsId}, step i1 \\(JoinDomainOrWorkgroup\\), property password cannot be decrypted: the stored value was altered`));
  t.match(logs, new RegExp(`distribution point ${ids.pointId}, tokens cannot be decrypted: the stored value is not a well-formed enc:v1 envelope`));
  t.same(foundIn(Buffer.from(logs)), [], 'the log names values, never shows them');

  const view = await again.call('GET', `/task-sequences/${ids.tsId}`);
  t.equal(view.status, 200, 'the task sequence still reads');
  t.match(view.json, { needsPasswords: true, strippedSecrets: ['i1.password'] });
  t.equal((ts(again, ids.tsId).items[1] as Json).properties.runAsPassword !== undefined, true, 'the other password is intact');
  t.equal((await again.call('GET', `/distribution-points/${ids.pointId}`)).json.hasToken, false, 'the point shows it has no usable token');
  t.ok(again.ctx.snapshot.get().taskSequences.size > 0, 'policy (boots) still builds');

  const fix = await again.call('POST', `/task-sequences/${ids.tsId}/edits`, { operations: [{ op: 'setProperties', itemId: 'i1', properties: { password: 'New-Join-Pa55' } }] });
  t.equal(fix.status, 200, fix.body);
  t.match(fix.json, { needsPasswords: false });
  t.equal((ts(again, ids.tsId).items[0] as Json).properties.password, 'New-Join-Pa55', 'given again, it is stored (sealed) and reads back');
});

const ts = (s: { db: Parameters<typeof getDoc>[0] }, id: string): TaskSequence => getDoc<TaskSequence>(s.db, 'task_sequences', id)!;

t.test('secret.key made on the first start is 0600 and a loosened one is tightened', async (t) => {
  const dataDir = tempDataDir(t);
  const s = await openSecretSite(t, dataDir);
  await s.close();
  const keyFile = path.join(dataDir, 'secret.key');
  t.equal(statSync(keyFile).mode & 0o777, 0o600);
  t.match(s.logs(), /a secret key for passwords and hidden values was written to .*secret\.key \(mode 0600\)/);
  (await import('node:fs')).chmodSync(keyFile, 0o644);
  const again = await openSecretSite(t, dataDir);
  t.equal(statSync(keyFile).mode & 0o777, 0o600);
  t.match(again.logs(), /was readable by others; its mode is now 0600/);
});
