/**
 * Distribution points, groups, what each point holds, and distribution jobs in the site
 * database (migration 2). A remote point's credentials live in their own column so that no
 * document a reader gets ever carries them, encrypted at rest (secrets/, R-31).
 */
import type { DistributionJob } from '../../content/distribution-job.js';
import type { DistributionPoint, Holding, HoldingState, PointGroup } from '../../content/distribution.js';
import type { Db } from './db.js';
import { allDocs, getDoc, putDoc } from './docs.js';
import { openValue, sealValue } from './secrets/binding.js';
import { pointSecretWhat } from './secrets/fields.js';

/** Tokens the site uses with a remote point: its own (admin) one, and a client one for machines. */
export interface PointSecret {
  readonly token: string;
  readonly clientToken: string | null;
}

export const getPoint = (db: Db, id: string): DistributionPoint | undefined => getDoc<DistributionPoint>(db, 'distribution_points', id);
export const allPoints = (db: Db): DistributionPoint[] => allDocs<DistributionPoint>(db, 'distribution_points', 'id');

export function putPoint(db: Db, p: DistributionPoint, secret?: PointSecret | null): void {
  putDoc(db, 'distribution_points', p.id, { name: p.name, kind: p.kind, url: p.url }, p);
  if (secret !== undefined) {
    const stored = secret ? sealValue(db, JSON.stringify(secret), pointSecretWhat(p.id)) : null;
    db.prepare('UPDATE distribution_points SET secret = ? WHERE id = ?').run(stored, p.id);
  }
}

/** The point's tokens; null when it has none, or when they cannot be decrypted (logged by the opener). */
export function pointSecret(db: Db, id: string): PointSecret | null {
  const row = db.prepare('SELECT secret FROM distribution_points WHERE id = ?').get(id) as { secret: string | null } | undefined;
  if (!row?.secret) return null;
  const plain = openValue(db, row.secret, pointSecretWhat(id));
  return plain === null ? null : (JSON.parse(plain) as PointSecret);
}

export const getGroup = (db: Db, id: string): PointGroup | undefined => getDoc<PointGroup>(db, 'distribution_point_groups', id);
export const allGroups = (db: Db): PointGroup[] => allDocs<PointGroup>(db, 'distribution_point_groups', 'id');
export const putGroup = (db: Db, g: PointGroup): void => putDoc(db, 'distribution_point_groups', g.id, { name: g.name }, g);

interface HoldingRow {
  point_id: string;
  content_id: string;
  version: number;
  manifest_sha256: string;
  state: HoldingState;
  reason: string | null;
  job_id: string | null;
  updated_at: number;
}
const holdingOf = (r: HoldingRow): Holding => ({
  pointId: r.point_id,
  contentId: r.content_id,
  version: r.version,
  manifestSha256: r.manifest_sha256,
  state: r.state,
  reason: r.reason,
  jobId: r.job_id,
  updatedAt: r.updated_at,
});

export function holdings(db: Db, where: { pointId?: string; contentId?: string; contentIds?: readonly string[] } = {}): Holding[] {
  const clauses: string[] = [];
  const args: unknown[] = [];
  if (where.pointId !== undefined) {
    clauses.push('point_id = ?');
    args.push(where.pointId);
  }
  if (where.contentId !== undefined) {
    clauses.push('content_id = ?');
    args.push(where.contentId);
  }
  if (where.contentIds !== undefined) {
    if (where.contentIds.length === 0) return [];
    clauses.push(`content_id IN (${where.contentIds.map(() => '?').join(', ')})`);
    args.push(...where.contentIds);
  }
  const sql = `SELECT * FROM point_content ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''} ORDER BY point_id, content_id, version`;
  return (db.prepare(sql).all(...args) as HoldingRow[]).map(holdingOf);
}

export function putHolding(db: Db, h: Holding): void {
  db.prepare(
    `INSERT INTO point_content (point_id, content_id, version, manifest_sha256, state, reason, job_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (point_id, content_id, version) DO UPDATE SET manifest_sha256 = excluded.manifest_sha256, state = excluded.state,
       reason = excluded.reason, job_id = excluded.job_id, updated_at = excluded.updated_at`,
  ).run(h.pointId, h.contentId, h.version, h.manifestSha256, h.state, h.reason, h.jobId, h.updatedAt);
}

export const getJob = (db: Db, id: string): DistributionJob | undefined => getDoc<DistributionJob>(db, 'distribution_jobs', id);
export const putJob = (db: Db, j: DistributionJob): void => putDoc(db, 'distribution_jobs', j.id, { state: j.state, created_at: j.createdAt }, j);

export function listJobs(db: Db, limit: number, offset: number): { items: DistributionJob[]; total: number } {
  const total = (db.prepare('SELECT COUNT(*) AS n FROM distribution_jobs').get() as { n: number }).n;
  const rows = db.prepare('SELECT doc FROM distribution_jobs ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?').all(limit, offset) as { doc: string }[];
  return { items: rows.map((r) => JSON.parse(r.doc) as DistributionJob), total };
}

export function unfinishedJobs(db: Db): DistributionJob[] {
  return (db.prepare("SELECT doc FROM distribution_jobs WHERE state IN ('queued', 'running') ORDER BY created_at").all() as { doc: string }[]).map(
    (r) => JSON.parse(r.doc) as DistributionJob,
  );
}
