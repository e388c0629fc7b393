/**
 * Secrets at rest: AES-256-GCM with a random 96-bit nonce per value, kept in a versioned
 * envelope `enc:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`. The key id is a keyed hash of
 * the key (never the key), so a value sealed with another key is named as such instead of looking
 * like damage, and a key rotation can tell old values from new ones. The envelope's header is the
 * additional authenticated data: changing the version or key id breaks the tag.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const PREFIX = 'enc:v1:';
const ENVELOPE = /^enc:v1:([0-9a-f]{16}):([A-Za-z0-9_-]+)$/;

export type SecretErrorCode = 'no-key' | 'key-file' | 'wrong-key' | 'unreadable' | 'in-use';

/** Errors of the secrets layer. Messages name what and where, never a secret or the key. */
export class SecretError extends Error {
  constructor(
    readonly code: SecretErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SecretError';
  }
}

/** Looks like a sealed value (what a reader must open rather than take as it is). */
export const isEnvelope = (value: unknown): value is string => typeof value === 'string' && value.startsWith(PREFIX);

/** The key id of a well-formed envelope, or null. */
export function envelopeKeyId(value: string): string | null {
  return ENVELOPE.exec(value)?.[1] ?? null;
}

export function keyIdOf(key: Buffer): string {
  return createHmac('sha256', key).update('osdeploy secret key id v1').digest('hex').slice(0, 16);
}

export class SecretCipher {
  readonly keyId: string;
  readonly #key: Buffer;

  /** `source` says where the key came from ("the key file /srv/osdeploy/secret.key"), for messages. */
  constructor(
    key: Buffer,
    readonly source: string,
  ) {
    if (key.length !== KEY_BYTES) throw new SecretError('key-file', `${source} must be ${KEY_BYTES} bytes (got ${key.length})`);
    this.#key = Buffer.from(key);
    this.keyId = keyIdOf(this.#key);
  }

  seal(plain: string): string {
    const header = `${PREFIX}${this.keyId}`;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(header, 'utf8'));
    const body = Buffer.concat([nonce, cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${header}:${body.toString('base64url')}`;
  }

  /**
   * The plain value of an envelope. `what` names the value in errors ("collection PS100014,
   * hidden variable DomainPassword"): `wrong-key` when another key sealed it, `unreadable` when it
   * is malformed or was altered.
   */
  open(envelope: string, what: string): string {
    const m = ENVELOPE.exec(envelope);
    if (!m) throw new SecretError('unreadable', `${what} cannot be decrypted: the stored value is not a well-formed enc:v1 envelope`);
    const [, keyId, b64] = m as unknown as [string, string, string];
    if (keyId !== this.keyId) {
      throw new SecretError('wrong-key', `${what} was encrypted with key ${keyId}, but ${this.source} is key ${this.keyId}`);
    }
    const body = Buffer.from(b64, 'base64url');
    if (body.length < NONCE_BYTES + TAG_BYTES) throw new SecretError('unreadable', `${what} cannot be decrypted: the stored value is truncated`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, body.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(`${PREFIX}${keyId}`, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretError('unreadable', `${what} cannot be decrypted: the stored value was altered or damaged (authentication failed)`);
    }
  }

  /** True when `value` is an envelope this key sealed and that opens: sealing it again would double-seal. */
  sealedHere(value: string): boolean {
    if (envelopeKeyId(value) !== this.keyId) return false;
    try {
      this.open(value, 'value');
      return true;
    } catch {
      return false;
    }
  }

  /** Never the key: a cipher that reaches a log or a JSON body shows only where its key came from. */
  toJSON(): { keyId: string; source: string } {
    return { keyId: this.keyId, source: this.source };
  }
}
