/**
 * The site's HMAC keys: the per-boot token key (boot-tokens.ts) and the signed content URL key
 * (content-signing.ts, R-22). Each is 32 random bytes in a settings row, made on first use by
 * whichever process or node gets there first (`putIfAbsent`), so every service on one database
 * signs and checks with the same key. They are read once through the settings repository and
 * held per store, so minting and checking a token on the boot path reads no database.
 */
import { randomBytes } from 'node:crypto';
import type { SettingsRepo } from './repos/settings.js';
import type { SiteStore } from './repos/store.js';

/** Settings rows, as earlier versions named them (hex text). */
export const BOOT_TOKEN_KEY_ROW = 'boot-token-secret';
export const CONTENT_URL_KEY_ROW = 'content-url-secret';

export interface SiteKeys {
  readonly bootToken: Buffer;
  readonly contentUrl: Buffer;
}

async function keyOf(settings: SettingsRepo, row: string): Promise<Buffer> {
  const stored = await settings.putIfAbsent(row, randomBytes(32).toString('hex'));
  if (typeof stored !== 'string' || !/^[0-9a-f]{64}$/i.test(stored)) throw new Error(`settings row ${row} does not hold a 32-byte key in hex`);
  return Buffer.from(stored, 'hex');
}

class KeyHolder {
  private keys: SiteKeys | null = null;
  private loading: Promise<SiteKeys> | null = null;

  constructor(private readonly settings: SettingsRepo) {}

  /** Reads (or makes) the keys the first time; later calls answer from memory. */
  load(): Promise<SiteKeys> {
    this.loading ??= (async () => ({ bootToken: await keyOf(this.settings, BOOT_TOKEN_KEY_ROW), contentUrl: await keyOf(this.settings, CONTENT_URL_KEY_ROW) }))().then(
      (keys) => (this.keys = keys),
      (e: unknown) => {
        this.loading = null; // a failed read is tried again by the next caller
        throw e;
      },
    );
    return this.loading;
  }

  /** The keys, synchronously: they must have been loaded (the HTTP routes load them when the app is built). */
  get(): SiteKeys {
    if (!this.keys) throw new Error('the site keys are not loaded yet: await siteKeys(ctx).load() first');
    return this.keys;
  }
}

const holders = new WeakMap<SiteStore, KeyHolder>();

/** The keys of the store the context uses (one holder per store, made on first ask). */
export function siteKeys(ctx: { readonly store: SiteStore }): { load(): Promise<SiteKeys>; get(): SiteKeys } {
  let h = holders.get(ctx.store);
  if (!h) holders.set(ctx.store, (h = new KeyHolder(ctx.store.settings)));
  return h;
}
