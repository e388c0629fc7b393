/**
 * The media password: it protects the variables file. scrypt turns the password and a
 * random salt into 64 bytes; the first 32 are the AES-256-GCM key, the last 32 are hashed into
 * a check value so a wrong password is told apart from a changed file. The media header is
 * the GCM additional data: editing its expiry on the media makes the file undecryptable.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { MediaError } from './model.js';

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** N = 2^15, r = 8: 32 MiB and about 0.1 s per try on a workstation. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
const MIN_N = 2 ** 15;
const MAX_N = 2 ** 20;

export interface SealedFile {
  readonly format: 'osdeploy-media-variables';
  readonly version: 1;
  readonly protected: true;
  readonly kdf: { readonly name: 'scrypt'; readonly N: number; readonly r: number; readonly p: number; readonly salt: string };
  readonly check: string;
  readonly cipher: 'aes-256-gcm';
  readonly iv: string;
  readonly tag: string;
  readonly ciphertext: string;
}

export const MIN_PASSWORD_LENGTH = 8;

function derive(password: string, salt: Buffer, params: ScryptParams): { key: Buffer; check: Buffer } {
  const maxmem = 128 * params.N * params.r * params.p * 2 + 1024 * 1024;
  const out = scryptSync(password.normalize('NFC'), salt, 64, { N: params.N, r: params.r, p: params.p, maxmem });
  return { key: out.subarray(0, 32), check: createHash('sha256').update(out.subarray(32)).digest() };
}

export function sealJson(value: unknown, password: string, aad: Buffer, params: ScryptParams = DEFAULT_SCRYPT): SealedFile {
  if (password.length < MIN_PASSWORD_LENGTH) throw new MediaError('invalid', `a media password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  if (params.N < MIN_N) throw new MediaError('invalid', `scrypt N must be at least 2^15`);
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const { key, check } = derive(password, salt, params);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return {
    format: 'osdeploy-media-variables',
    version: 1,
    protected: true,
    kdf: { name: 'scrypt', ...params, salt: salt.toString('base64') },
    check: check.toString('base64'),
    cipher: 'aes-256-gcm',
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
}

const b64 = (s: unknown, what: string): Buffer => {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new MediaError('tampered', `the variables file's ${what} is not base64`);
  return Buffer.from(s, 'base64');
};

export function isSealed(o: unknown): o is SealedFile {
  return typeof o === 'object' && o !== null && (o as { protected?: unknown }).protected === true;
}

/** The plain JSON, or `wrong-password` / `tampered`. */
export function openJson(file: SealedFile, password: string, aad: Buffer): unknown {
  const k = file.kdf;
  if (k?.name !== 'scrypt' || !Number.isInteger(k.N) || k.N < MIN_N || k.N > MAX_N || (k.N & (k.N - 1)) !== 0 || !(k.r >= 1 && k.r <= 32) || !(k.p >= 1 && k.p <= 16)) {
    throw new MediaError('tampered', 'the variables file has unsupported key derivation parameters');
  }
  if (file.cipher !== 'aes-256-gcm') throw new MediaError('tampered', `unsupported cipher ${String(file.cipher)}`);
  const { key, check } = derive(password, b64(k.salt, 'salt'), k);
  const stored = b64(file.check, 'check');
  if (stored.length !== check.length || !timingSafeEqual(stored, check)) throw new MediaError('wrong-password', 'wrong media password');
  const tag = b64(file.tag, 'tag');
  const iv = b64(file.iv, 'iv');
  if (tag.length !== 16 || iv.length !== 12) throw new MediaError('tampered', 'the variables file has a bad iv or tag');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(b64(file.ciphertext, 'ciphertext')), decipher.final()]);
    return JSON.parse(plain.toString('utf8'));
  } catch {
    throw new MediaError('tampered', 'the password is right but the media was changed after it was built (header or variables file)');
  }
}

/** The header bytes bound into the ciphertext: canonical JSON of the fields that must not change. */
export function headerAad(h: { id: string; type: string; createdAt: string; expiresAt: string | null; site: string }): Buffer {
  return Buffer.from(JSON.stringify([h.id, h.type, h.createdAt, h.expiresAt, h.site]), 'utf8');
}
