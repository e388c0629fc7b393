/**
 * The secret key as bytes: parsed from OSDEPLOY_SECRET_KEY (base64 or hex), read from a key file
 * (base64, hex or 32 raw bytes) and written to one atomically with mode 0600 (a temporary file,
 * fsynced, then linked or renamed into place, then the directory fsynced), so a key file is
 * either absent or whole. Messages never echo key material.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { inspect } from 'node:util';
import path from 'node:path';
import { KEY_BYTES, SecretError } from './cipher.js';

/** Key bytes that never print: not in JSON, not in `util.inspect` (so not in a logged config). */
export class SecretKey {
  readonly #bytes: Buffer;
  constructor(bytes: Buffer) {
    this.#bytes = Buffer.from(bytes);
  }
  bytes(): Buffer {
    return Buffer.from(this.#bytes);
  }
  toJSON(): string {
    return '[secret key]';
  }
  [inspect.custom](): string {
    return '[secret key]';
  }
}

/** 32 bytes from base64, base64url or hex text (surrounding white space ignored), or null. */
export function parseKeyText(text: string): Buffer | null {
  const s = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(s) || /^[A-Za-z0-9_-]{43}$/.test(s)) {
    const b = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return b.length === KEY_BYTES ? b : null;
  }
  return null;
}

export const KEY_FORMS = `${KEY_BYTES} bytes as base64 (44 characters) or hex (64 characters); make one with: openssl rand -base64 ${KEY_BYTES}`;

export function readKeyFile(file: string): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (e) {
    throw new SecretError('key-file', `cannot read the secret key file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (raw.length === KEY_BYTES) return raw;
  const key = parseKeyText(raw.toString('latin1'));
  if (!key) throw new SecretError('key-file', `the secret key file ${file} must hold ${KEY_FORMS} (or ${KEY_BYTES} raw bytes)`);
  return key;
}

export const newKey = (): Buffer => randomBytes(KEY_BYTES);

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY);
    fsyncSync(fd);
  } catch {
    // Some platforms cannot open or fsync a directory; the file itself was fsynced.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes `key` (as base64 and a newline) to `file` with mode 0600. `replace: false` refuses an
 * existing file (first start, --new-key-file); `replace: true` swaps it atomically.
 */
export function writeKeyFile(file: string, key: Buffer, opts: { replace: boolean }): void {
  if (!opts.replace && existsSync(file)) throw new SecretError('key-file', `${file} already exists; it is never overwritten`);
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${key.toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    // link() fails when the target exists, where rename() would replace it.
    if (opts.replace) renameSync(tmp, file);
    else linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new SecretError('key-file', `${file} already exists; it is never overwritten`);
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
  fsyncDir(path.dirname(file));
}

/** Renames `from` over `to` and makes it durable. */
export function replaceFile(from: string, to: string): void {
  renameSync(from, to);
  fsyncDir(path.dirname(to));
}
