/** Maps SQLite constraint failures to policy conflicts naming the field, so they become 409s, not 500s. */
import { conflict } from '../../policy/errors.js';

export function asConflict(e: unknown, messages: Record<string, string>): never {
  const err = e as { code?: string; message?: string };
  if (typeof err.code === 'string' && err.code.startsWith('SQLITE_CONSTRAINT')) {
    for (const [needle, message] of Object.entries(messages)) if (err.message?.includes(needle)) throw conflict(message, needle.split('.').pop());
    throw conflict(`constraint failed: ${err.message ?? ''}`);
  }
  throw e;
}
