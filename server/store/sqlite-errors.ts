/** Maps SQLite constraint failures to policy conflicts naming the field, so they become 409s, not 500s. */
import { conflict } from '../../policy/errors.js';

/** `messages` maps `table.column` to the message, or to the message and the API field when the column name differs. */
export function asConflict(e: unknown, messages: Record<string, string | { readonly message: string; readonly field: string }>): never {
  const err = e as { code?: string; message?: string };
  if (typeof err.code === 'string' && err.code.startsWith('SQLITE_CONSTRAINT')) {
    for (const [needle, m] of Object.entries(messages))
      if (err.message?.includes(needle)) throw typeof m === 'string' ? conflict(m, needle.split('.').pop()) : conflict(m.message, m.field);
    throw conflict(`constraint failed: ${err.message ?? ''}`);
  }
  throw e;
}
