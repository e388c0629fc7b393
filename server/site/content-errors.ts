/**
 * Import failures as the API reports them: the source folder is the administrator's input, so
 * whatever is wrong with it (missing, unreadable, a link out of it) is a 400 naming the field,
 * not a 404 for the content object or a 500. Other ContentErrors map in server/http/errors.ts.
 */
import { ContentError } from '../../content/errors.js';
import { PolicyError, type PolicyErrorCode } from '../../policy/errors.js';

export function contentFailure(e: unknown, field: string, code?: PolicyErrorCode): unknown {
  if (e instanceof PolicyError) return e;
  if (code) return new PolicyError(code, (e as Error).message, { field });
  if (e instanceof ContentError) {
    if (e.code === 'exists') return new PolicyError('conflict', e.message, { field });
    if (e.code === 'not-found' || e.code === 'invalid' || e.code === 'hostile-path') return new PolicyError('invalid', e.message, { field });
    return e;
  }
  const errno = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) return new PolicyError('invalid', `the source folder cannot be read: ${(e as Error).message}`, { field });
  return e;
}
