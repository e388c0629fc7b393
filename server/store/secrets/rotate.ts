/**
 * `osdeploy secrets rotate-key`: a new key, every secret re-encrypted with it in one
 * transaction, on the data directory of a stopped service. For the default key file the order
 * is: the new key to secret.key.new and a copy of the current one to secret.key.old (both 0600,
 * written atomically), the transaction, secret.key.new renamed over secret.key, secret.key.old
 * removed. A start after a crash at any point finishes or undoes it (open.ts settleRotation).
 * A key given by the environment cannot be changed from here: the new key goes to
 * --new-key-file and the administrator points the environment at it.
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Db } from '../db.js';
import { cipherOf } from './binding.js';
import { isEnvelope, SecretCipher, SecretError } from './cipher.js';
import { newKey, readKeyFile, replaceFile, writeKeyFile } from './key.js';
import { keySourceOf, openSiteDatabase, scrub, type SecretKeyConfig } from './open.js';
import { recordKeyId, walkSecrets } from './stored.js';

export interface RotateOptions extends SecretKeyConfig {
  /** Where the new key goes when the current one comes from the environment. */
  readonly newKeyFile?: string | null;
  readonly log?: Logger;
}

export interface RotateResult {
  readonly secrets: number;
  readonly fromKeyId: string;
  readonly toKeyId: string;
  /** The file that holds the new key now. */
  readonly keyFile: string;
  /** The key came from the environment: the administrator must point it at `keyFile`. */
  readonly fromEnvironment: boolean;
}

/** Re-seals every secret from `from` to `to` in one transaction; any value `from` cannot open stops it with nothing changed. */
export function resealAll(db: Db, from: SecretCipher, to: SecretCipher): number {
  const failures: string[] = [];
  walkSecrets(db, (value, what) => {
    if (!isEnvelope(value)) return value;
    try {
      from.open(value, what);
    } catch (e) {
      if (!(e instanceof SecretError)) throw e;
      failures.push(e.message);
    }
    return value;
  });
  if (failures.length > 0) {
    const more = failures.length > 10 ? ` (and ${failures.length - 10} more)` : '';
    throw new SecretError('unreadable', `the key was not rotated, nothing was changed: ${failures.length} secret(s) cannot be decrypted with the current key: ${failures.slice(0, 10).join('; ')}${more}. Give those values again (or remove them), then rotate.`);
  }
  return db.transaction(() => {
    const n = walkSecrets(db, (value, what) => to.seal(isEnvelope(value) ? from.open(value, what) : value));
    recordKeyId(db, to.keyId, Date.now());
    return n;
  })();
}

export function rotateKey(opts: RotateOptions): RotateResult {
  const source = keySourceOf(opts);
  const newKeyFile = opts.newKeyFile ? path.resolve(opts.newKeyFile) : null;
  if (source.kind === 'env' || !source.isDefault) {
    const where = source.kind === 'env' ? 'OSDEPLOY_SECRET_KEY' : `OSDEPLOY_SECRET_KEY_FILE (${source.file})`;
    if (!newKeyFile) {
      throw new SecretError(
        'key-file',
        `the key comes from ${where}, which this command does not change. Run it with --new-key-file FILE: it writes a new key to FILE (mode 0600) and re-encrypts every secret with it; then set OSDEPLOY_SECRET_KEY_FILE=FILE (or OSDEPLOY_SECRET_KEY to FILE's content) where the service starts.`,
      );
    }
  } else if (newKeyFile) {
    throw new SecretError('key-file', `the key is ${source.file}, which rotate-key replaces in place; --new-key-file is for a key given by OSDEPLOY_SECRET_KEY or OSDEPLOY_SECRET_KEY_FILE`);
  }
  const dbFile = path.join(opts.dataDir, 'site.db');
  if (!existsSync(dbFile)) throw new SecretError('key-file', `there is no site database at ${dbFile}; give the service's --data-dir`);

  const db = openSiteDatabase(dbFile, { ...opts, exclusive: true });
  try {
    const from = cipherOf(db)!;
    const key = newKey();
    if (newKeyFile) {
      writeKeyFile(newKeyFile, key, { replace: false });
      let n: number;
      try {
        n = resealAll(db, from, new SecretCipher(key, `the key file ${newKeyFile}`));
      } catch (e) {
        rmSync(newKeyFile, { force: true });
        throw e;
      }
      scrub(db);
      return { secrets: n, fromKeyId: from.keyId, toKeyId: new SecretCipher(key, newKeyFile).keyId, keyFile: newKeyFile, fromEnvironment: true };
    }
    const file = source.kind === 'file' ? source.file : '';
    const pending = `${file}.new`;
    const old = `${file}.old`;
    writeKeyFile(pending, key, { replace: true });
    writeKeyFile(old, readKeyFile(file), { replace: true });
    const to = new SecretCipher(key, `the key file ${file}`);
    let n: number;
    try {
      n = resealAll(db, from, to);
    } catch (e) {
      rmSync(pending, { force: true });
      rmSync(old, { force: true });
      throw e;
    }
    replaceFile(pending, file);
    scrub(db);
    db.close();
    rmSync(old, { force: true });
    opts.log?.info({ file, from: from.keyId, to: to.keyId, secrets: n }, 'secret key rotated');
    return { secrets: n, fromKeyId: from.keyId, toKeyId: to.keyId, keyFile: file, fromEnvironment: false };
  } finally {
    if (db.open) db.close();
  }
}
