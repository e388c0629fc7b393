/**
 * The PXE password: when set, every PXE boot that would start something is asked for it
 * before anything boots, as Configuration Manager does. The site keeps only a scrypt hash (its
 * own settings row, never shown, never in a boot script); a boot that gives it is a proven boot
 * (boot-tokens.ts), the only kind that receives secrets. Wrong answers are counted per machine
 * and address, and a burst of them is refused for a while.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { invalid } from '../../policy/errors.js';
import { PXE_PASSWORD } from './repos/changes.js';
import type { SettingsRepo } from './repos/settings.js';

const ROW = PXE_PASSWORD;
const N = 16384;
export const MAX_FAILURES = 5;
export const LOCKOUT_MS = 60_000;

const hashOf = (password: string, salt: Buffer): Buffer => scryptSync(password.normalize('NFC'), salt, 32, { N, r: 8, p: 1 });

export function validatePxePassword(password: unknown): string {
  if (typeof password !== 'string') throw invalid('pxe.password must be a string (null clears it)', 'pxe.password');
  // iPXE's login form takes printable ASCII, and at most 63 characters of it.
  if (password.length < 4 || password.length > 63 || !/^[\x20-\x7e]+$/.test(password)) throw invalid('pxe.password must be 4 to 63 printable ASCII characters', 'pxe.password');
  return password;
}

/** Stores the hash (inside the caller's transaction); null clears it. */
export async function storePxePassword(settings: SettingsRepo, password: string | null): Promise<void> {
  if (password === null) {
    await settings.delete(ROW);
    return;
  }
  const salt = randomBytes(16);
  // The same `scrypt:N:salt:hash` text as ever (now kept as a JSON string; plain rows read the same).
  await settings.put(ROW, `scrypt:${N}:${salt.toString('base64')}:${hashOf(password, salt).toString('base64')}`);
}

export const hasPxePassword = async (settings: SettingsRepo): Promise<boolean> => (await settings.get(ROW)) !== undefined;

function matches(stored: unknown, password: string): boolean {
  if (typeof stored !== 'string' || password.length > 64) return false;
  const [, n, salt, hash] = stored.split(':');
  if (Number(n) !== N || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const given = hashOf(password, Buffer.from(salt, 'base64'));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const failures = new WeakMap<SettingsRepo, Map<string, { count: number; since: number }>>();

export type PasswordCheck = 'ok' | 'wrong' | 'locked';

/** Checks a PXE boot's answer; `who` is the machine and its address, for counting failures. */
export async function checkPxePassword(settings: SettingsRepo, who: string, password: string, now: number): Promise<PasswordCheck> {
  const stored = await settings.get(ROW);
  // From here on nothing awaits, so answers arriving together are all counted.
  let map = failures.get(settings);
  if (!map) failures.set(settings, (map = new Map()));
  const f = map.get(who);
  if (f && now - f.since > LOCKOUT_MS) map.delete(who);
  const current = map.get(who);
  if (current && current.count >= MAX_FAILURES) return 'locked';
  if (matches(stored, password)) {
    map.delete(who);
    return 'ok';
  }
  if (map.size > 10_000) map.clear(); // a flood of addresses must not grow memory without bound
  map.set(who, { count: (current?.count ?? 0) + 1, since: current?.since ?? now });
  return 'wrong';
}
