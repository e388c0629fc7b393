/**
 * What the SQLite and PostgreSQL distribution repositories share (tables of SQLite migration 2,
 * PostgreSQL migration 6): the holding row and its mapping, the statements that read the same on
 * both engines (`p(i)` gives the engine's i-th placeholder), and a point's tokens, kept as one
 * JSON value sealed with the store's secret key (secrets/, R-31).
 */
import type { DistributionPoint, Holding, HoldingState } from '../../content/distribution.js';
import type { HoldingFilter, PointSecret } from '../site/repos/points.js';
import { openValue, sealValue, type SecretHolder } from './secrets/binding.js';
import { pointSecretWhat } from './secrets/fields.js';

export interface HoldingRow {
  point_id: string;
  content_id: string;
  version: number;
  manifest_sha256: string;
  state: HoldingState;
  reason: string | null;
  job_id: string | null;
  updated_at: number;
}

export const holdingOf = (r: HoldingRow): Holding => ({
  pointId: r.point_id,
  contentId: r.content_id,
  version: r.version,
  manifestSha256: r.manifest_sha256,
  state: r.state,
  reason: r.reason,
  jobId: r.job_id,
  updatedAt: r.updated_at,
});

const HOLDING_COLUMNS = 'point_id, content_id, version, manifest_sha256, state, reason, job_id, updated_at';

/**
 * Upsert of one holding, written only while its point is stored (so a transfer that outlived
 * its point raises no foreign-key error, which on PostgreSQL would abort the caller's transaction).
 * Arguments: `holdingArgs(h)`.
 */
export const PUT_HOLDING_SQL = (p: (i: number) => string): string =>
  `INSERT INTO point_content (${HOLDING_COLUMNS}) SELECT ${[1, 2, 3, 4, 5, 6, 7, 8].map(p).join(', ')} ` +
  `WHERE EXISTS (SELECT 1 FROM distribution_points WHERE id = ${p(9)}) ` +
  'ON CONFLICT (point_id, content_id, version) DO UPDATE SET manifest_sha256 = excluded.manifest_sha256, state = excluded.state, ' +
  'reason = excluded.reason, job_id = excluded.job_id, updated_at = excluded.updated_at';
export const holdingArgs = (h: Holding): unknown[] => [h.pointId, h.contentId, h.version, h.manifestSha256, h.state, h.reason, h.jobId, h.updatedAt, h.pointId];

/**
 * The holdings query for a filter, or null when it matches nothing (an empty `contentIds`).
 * `param` adds an argument and returns its placeholder; `oneOf` is the engine's "column is one
 * of this list" with the list as one argument.
 */
export function holdingsQuery(f: HoldingFilter, param: (v: unknown) => string, oneOf: (column: string, ids: readonly string[]) => string): string | null {
  if (f.contentIds?.length === 0) return null;
  const where: string[] = [];
  if (f.pointId !== undefined) where.push(`point_id = ${param(f.pointId)}`);
  if (f.contentId !== undefined) where.push(`content_id = ${param(f.contentId)}`);
  if (f.contentIds !== undefined) where.push(oneOf('content_id', [...new Set(f.contentIds)]));
  return `SELECT ${HOLDING_COLUMNS} FROM point_content ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY point_id, content_id, version`;
}

/** Newest first; arguments: limit, offset. */
export const JOBS_PAGE_SQL = (p: (i: number) => string): string => `SELECT doc FROM distribution_jobs ORDER BY created_at DESC, id DESC LIMIT ${p(1)} OFFSET ${p(2)}`;
export const UNFINISHED_JOBS_SQL = "SELECT doc FROM distribution_jobs WHERE state IN ('queued', 'running') ORDER BY created_at, id";

/** The columns kept beside a point's document. */
export const pointColumns = (p: DistributionPoint) => ({ name: p.name, kind: p.kind, url: p.url });

/** The stored form of a point's tokens: sealed, so a key must be loaded (a missing key throws before anything is written). */
export const sealPointSecret = (holder: SecretHolder, pointId: string, secret: PointSecret | null): string | null =>
  secret ? sealValue(holder, JSON.stringify(secret), pointSecretWhat(pointId)) : null;

/** The tokens, or null when there are none or they cannot be decrypted (the opener logs that). */
export function openPointSecret(holder: SecretHolder, pointId: string, stored: string | null | undefined): PointSecret | null {
  if (!stored) return null;
  const plain = openValue(holder, stored, pointSecretWhat(pointId));
  return plain === null ? null : (JSON.parse(plain) as PointSecret);
}
