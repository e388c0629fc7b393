/**
 * Content-relative paths: how a file is named inside a content version, in manifests, in HTTP
 * URLs and in TFTP requests. Always relative and '/' separated (DESIGN.md lesson 7: rooted paths).
 */
import { ContentError } from './errors.js';

/**
 * Normalises a path a client, a manifest or a folder walk gave us. Windows `\` separators become
 * `/` (TFTP clients and Windows-made folders use them, R-21); empty and `.` segments are dropped.
 * Refused as hostile: NUL, `..`, absolute paths (`/x`, `\x`, `C:`, `\\server`), and empty results.
 */
export function normaliseContentPath(raw: string): string {
  if (typeof raw !== 'string') throw new ContentError('hostile-path', 'a content path must be a string');
  const shown = JSON.stringify(raw.slice(0, 200));
  if (raw.includes('\0')) throw new ContentError('hostile-path', `NUL in content path ${shown}`);
  const slashed = raw.replaceAll('\\', '/');
  if (slashed.startsWith('/') || /^[A-Za-z]:/.test(slashed)) {
    throw new ContentError('hostile-path', `absolute content path ${shown}`);
  }
  const segments = slashed.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new ContentError('hostile-path', `'..' in content path ${shown}`);
  if (segments.length === 0) throw new ContentError('hostile-path', `empty content path ${shown}`);
  return segments.join('/');
}

/** Code-unit order, not locale order: the manifest hash must not depend on the host's locale. */
export const comparePaths = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
