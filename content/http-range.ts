/**
 * HTTP range and validator logic for content reads, pure so it can be tested on its own
 * and reused by any transport. RFC 9110 §14 (Range, Content-Range, multipart/byteranges) and
 * §13.1.2 (If-None-Match). Ranges are end-inclusive, as in the header.
 */
import type { ByteRange } from './store.js';

/**
 * More parts than this is refused (416): a request for thousands of tiny ranges costs far more
 * to serve than it returns, the amplification RFC 9110 §14.2 warns about.
 */
export const MAX_RANGES = 32;

export type RangeAnswer =
  | { readonly kind: 'whole' }
  | { readonly kind: 'partial'; readonly ranges: readonly ByteRange[] }
  | { readonly kind: 'unsatisfiable'; readonly reason: string };

const WHOLE: RangeAnswer = { kind: 'whole' };
const SPEC = /^(\d*)-(\d*)$/;

/**
 * Resolves a Range header against a representation of `size` bytes. A header we cannot parse
 * (another unit, bad syntax) is ignored and the whole file is served, as §14.2 requires; a
 * well-formed one that selects nothing is 416.
 */
export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return WHOLE;
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!m) return WHOLE;
  const specs = m[1]!.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length === 0) return WHOLE;
  if (specs.length > MAX_RANGES) return { kind: 'unsatisfiable', reason: `at most ${MAX_RANGES} ranges per request` };
  const ranges: ByteRange[] = [];
  for (const spec of specs) {
    const r = SPEC.exec(spec);
    if (!r || (r[1] === '' && r[2] === '')) return WHOLE;
    // Digits beyond 2^53 cannot address a real file; treat them like any other bad syntax.
    if (r[1]!.length > 15 || r[2]!.length > 15) return WHOLE;
    let start: number;
    let end: number;
    if (r[1] === '') {
      const suffix = Number(r[2]);
      if (suffix === 0) continue; // "-0" selects nothing
      start = Math.max(0, size - suffix);
      end = size - 1;
    } else {
      start = Number(r[1]);
      end = r[2] === '' ? size - 1 : Math.min(Number(r[2]), size - 1);
      if (r[2] !== '' && Number(r[2]) < start) return WHOLE; // "5-3" is invalid syntax (§14.1.1)
    }
    if (start < size && start <= end) ranges.push({ start, end });
  }
  if (ranges.length === 0) return { kind: 'unsatisfiable', reason: `no range is inside the ${size} bytes` };
  return { kind: 'partial', ranges: coalesce(ranges) };
}

/** Overlapping or adjacent ranges merge (§14.2 allows it), so no byte is sent twice. */
export function coalesce(ranges: readonly ByteRange[]): ByteRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: ByteRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + 1) out[out.length - 1] = { start: last.start, end: Math.max(last.end, r.end) };
    else out.push({ ...r });
  }
  return out;
}

/** An ETag for content named by its sha256: strong, since equal hashes mean equal bytes. */
export const etagOf = (sha256: string): string => `"${sha256}"`;

/** If-None-Match (§13.1.2): `*` or any listed tag, compared weakly as the RFC says for GET. */
export function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === bare);
}

/** If-Range (§13.1.5): a Range applies only when the tag still matches; dates are not used here. */
export const ifRangeAllows = (header: string | undefined, etag: string): boolean => header === undefined || header.trim() === etag;

export interface MultipartPart {
  readonly range: ByteRange;
  /** The boundary line and part headers written before the part's bytes. */
  readonly head: string;
}

export interface MultipartPlan {
  readonly contentType: string;
  readonly parts: readonly MultipartPart[];
  readonly tail: string;
  /** Exact body length, so the response carries Content-Length. */
  readonly length: number;
}

/** Lays out a multipart/byteranges body (§14.6) for `ranges` of a `size`-byte representation. */
export function multipartPlan(ranges: readonly ByteRange[], size: number, partType: string, boundary: string): MultipartPlan {
  const parts = ranges.map((range, i) => ({
    range,
    head: `${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${partType}\r\nContent-Range: bytes ${range.start}-${range.end}/${size}\r\n\r\n`,
  }));
  const tail = `\r\n--${boundary}--\r\n`;
  const length = parts.reduce((n, p) => n + Buffer.byteLength(p.head) + (p.range.end - p.range.start + 1), 0) + Buffer.byteLength(tail);
  return { contentType: `multipart/byteranges; boundary=${boundary}`, parts, tail, length };
}
