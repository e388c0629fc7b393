/**
 * Opening the site database with its secret key. The key is kept apart from the database:
 * by default DATA_DIR/secret.key (32 random bytes, mode 0600, made on the first start), or given
 * by OSDEPLOY_SECRET_KEY / OSDEPLOY_SECRET_KEY_FILE. Before the migrations run the key is loaded
 * and checked against the key id the database records, so a wrong or missing key stops the start
 * with a message naming the key file, and nothing is written with it. After them, every sealed
 * value is checked once: values no key can open are logged by name (never by value).
 */
import { chmodSync, existsSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { openDatabase, type Db } from '../db.js';
import { MIGRATIONS } from '../migrations.js';
import { bindSecrets, cipherOf, takeSealed, type SecretBinding } from './binding.js';
import { isEnvelope, keyIdOf, SecretCipher, SecretError } from './cipher.js';
import { newKey, readKeyFile, replaceFile, writeKeyFile, type SecretKey } from './key.js';
import { recordKeyId, storedKeyIds, walkSecrets } from './stored.js';

export interface SecretKeyConfig {
  readonly dataDir: string;
  /** OSDEPLOY_SECRET_KEY. */
  readonly secretKey: SecretKey | null;
  /** OSDEPLOY_SECRET_KEY_FILE. */
  readonly secretKeyFile: string | null;
}

export interface OpenSiteDatabaseOptions extends SecretKeyConfig {
  readonly log?: Logger;
  /** Hold the database alone for as long as this handle is open; refuse if anyone else has it open. */
  readonly exclusive?: boolean;
}

export const defaultKeyFile = (dataDir: string): string => path.join(dataDir, 'secret.key');

export type KeySource = { readonly kind: 'env' } | { readonly kind: 'file'; readonly file: string; readonly isDefault: boolean };

export function keySourceOf(c: SecretKeyConfig): KeySource {
  if (c.secretKey) return { kind: 'env' };
  if (c.secretKeyFile) return { kind: 'file', file: path.resolve(c.secretKeyFile), isDefault: false };
  return { kind: 'file', file: defaultKeyFile(c.dataDir), isDefault: true };
}

export const describeSource = (s: KeySource): string => (s.kind === 'env' ? 'the key in OSDEPLOY_SECRET_KEY' : `the key file ${s.file}`);

export function openSiteDatabase(file: string, opts: OpenSiteDatabaseOptions): Db {
  const db = openDatabase(file, MIGRATIONS, {
    beforeMigrate: (d) => {
      if (opts.exclusive) holdExclusive(d);
      loadKey(d, opts);
    },
  });
  try {
    checkSealed(db, opts.log);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

/**
 * Takes the database for this connection alone. Leaving WAL mode needs every other connection
 * closed, so a running service makes it fail at once (SQLITE_BUSY) instead of being changed
 * under its feet; the exclusive locking mode then keeps a service from starting meanwhile.
 */
export function holdExclusive(db: Db): void {
  db.pragma('busy_timeout = 0');
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = DELETE');
    db.pragma('journal_mode = WAL');
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('SQLITE_BUSY'))
      throw new SecretError('in-use', `the site database ${db.name} is in use (is osdeploy serve running on this data directory?); stop the service, then run the command again`);
    throw e;
  } finally {
    db.pragma('busy_timeout = 5000');
  }
}

function loadKey(db: Db, opts: OpenSiteDatabaseOptions): void {
  const cipher = loadCipher(opts, storedKeyIds(db), `the site database ${db.name}`);
  bindSecrets(db, bindingOf(cipher, opts.log));
}

/**
 * The site's secret key, checked against the key ids the database records (`stored`): from
 * OSDEPLOY_SECRET_KEY, a key file, or the default key file (made on the first start of a
 * database that holds no secrets yet). `where` names the database in messages.
 */
export function loadCipher(opts: SecretKeyConfig & { readonly log?: Logger }, stored: readonly string[], where: string): SecretCipher {
  const source = keySourceOf(opts);
  let key: Buffer;
  if (source.kind === 'env') key = opts.secretKey!.bytes();
  else {
    if (source.isDefault) settleRotation(source.file, stored, opts.log);
    if (!existsSync(source.file)) {
      if (!source.isDefault) throw new SecretError('key-file', `OSDEPLOY_SECRET_KEY_FILE names ${source.file}, which does not exist`);
      if (stored.length > 0) {
        throw new SecretError(
          'no-key',
          `${where} holds secrets encrypted with key ${stored.join(', ')}, but the key file ${source.file} is missing; restore it from a backup (or give that key with OSDEPLOY_SECRET_KEY or OSDEPLOY_SECRET_KEY_FILE). No new key is made: it could never open them.`,
        );
      }
      writeKeyFile(source.file, newKey(), { replace: false });
      opts.log?.info({ file: source.file }, `a secret key for passwords and hidden values was written to ${source.file} (mode 0600); back it up apart from the database`);
    } else if (source.isDefault && (statSync(source.file).mode & 0o077) !== 0) {
      chmodSync(source.file, 0o600);
      opts.log?.warn({ file: source.file }, `${source.file} was readable by others; its mode is now 0600`);
    }
    key = readKeyFile(source.file);
  }
  const cipher = new SecretCipher(key, describeSource(source));
  if (stored.length > 0 && !stored.includes(cipher.keyId)) throw wrongKey(where, cipher, stored);
  return cipher;
}

/** How a store opens sealed values with the cipher: an unreadable one is logged once, by name. */
export function bindingOf(cipher: SecretCipher, log?: Logger): SecretBinding {
  const reported = new Set<string>();
  return {
    cipher,
    onUnreadable: (what, err) => {
      if (reported.has(what)) return;
      reported.add(what);
      log?.error({ secret: what, code: err.code }, `${err.message}; it is left out until it is given again`);
    },
  };
}

function wrongKey(where: string, cipher: SecretCipher, stored: readonly string[]): SecretError {
  return new SecretError(
    'wrong-key',
    `${cipher.source} (key ${cipher.keyId}) is not the key the secrets in ${where} were encrypted with (key ${stored.join(', ')}); nothing was changed. Start with that key: restore its key file, or set OSDEPLOY_SECRET_KEY or OSDEPLOY_SECRET_KEY_FILE to it.`,
  );
}

const keyIdIn = (file: string): string | null => {
  try {
    return keyIdOf(readKeyFile(file));
  } catch {
    return null;
  }
};

/**
 * A key rotation (rotate.ts) writes secret.key.new and secret.key.old, commits the re-sealed
 * secrets, renames .new over secret.key and removes .old. If it stopped half-way, finish or undo
 * it by what the database says it was sealed with.
 */
function settleRotation(file: string, stored: readonly string[], log?: Logger): void {
  const pending = `${file}.new`;
  const old = `${file}.old`;
  if (stored.length === 0 || (!existsSync(pending) && !existsSync(old))) return;
  const pendingId = existsSync(pending) ? keyIdIn(pending) : null;
  if (pendingId !== null && stored.includes(pendingId) && keyIdIn(file) !== pendingId) {
    replaceFile(pending, file);
    rmSync(old, { force: true });
    log?.warn({ file }, `finished an interrupted key rotation: ${file} now holds the key the database uses`);
  } else if (stored.includes(keyIdIn(file) ?? '')) {
    rmSync(pending, { force: true });
    rmSync(old, { force: true });
    log?.warn({ file }, `removed what an unfinished key rotation left beside ${file} (the database still uses ${file})`);
  }
}

/** After the migrations: record the key of a new database, check every sealed value once. */
function checkSealed(db: Db, log?: Logger): void {
  const cipher = cipherOf(db)!;
  if (storedKeyIds(db).length === 0) recordKeyId(db, cipher.keyId, Date.now());
  const foreign: string[] = [];
  const unreadable: string[] = [];
  walkSecrets(
    db,
    (value, what) => {
      if (!isEnvelope(value)) return value;
      try {
        cipher.open(value, what);
      } catch (e) {
        if (!(e instanceof SecretError)) throw e;
        if (e.code === 'wrong-key') foreign.push(what);
        else unreadable.push(e.message);
      }
      return value;
    },
    { onlySealed: true },
  );
  if (foreign.length > 0) {
    throw new SecretError(
      'wrong-key',
      `${foreign.length} stored secret(s) were encrypted with another key than ${cipher.source} (key ${cipher.keyId}), e.g. ${foreign.slice(0, 3).join('; ')}; nothing was changed. Start with the key they were encrypted with.`,
    );
  }
  for (const message of unreadable) log?.error(`${message}; it is left out until it is given again`);
  const sealed = takeSealed(db);
  if (sealed > 0) {
    scrub(db);
    log?.info({ secrets: sealed }, `encrypted ${sealed} secret(s) an older version stored in the clear`);
  }
}

/**
 * Rewrites the database file from its current content: old page images (which may hold values
 * as they were before sealing) leave the WAL and the file's free space.
 */
export function scrub(db: Db): void {
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('VACUUM');
  db.pragma('wal_checkpoint(TRUNCATE)');
}
