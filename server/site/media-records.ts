/**
 * Media records in the site database (migration 3): what was built, for whom, its state and
 * its client token. Variable values, the password and the token are never stored here; the
 * preferred deployment and "allow unattended" are, because the site answers password-protected
 * media's boot loader from them.
 */
import type { MediaFormat, MediaType } from '../../media/boot-media/model.js';
import type { SiteContext } from './context.js';

export type MediaState = 'building' | 'ready' | 'failed';

export interface MediaOutput {
  /** File or folder name under DATA_DIR/media/<id>/. */
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly files: number;
}

export interface MediaRecord {
  readonly id: string;
  readonly type: MediaType;
  readonly format: MediaFormat;
  readonly state: MediaState;
  readonly protected: boolean;
  readonly siteUrl: string;
  readonly architecture: string;
  readonly mediaForm: string;
  readonly bootImageId: string;
  readonly deploymentId: string | null;
  readonly preferred: string | null;
  readonly allowUnattended: boolean;
  readonly variableNames: readonly string[];
  readonly tokenId: string | null;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly createdBy: string;
  readonly error: string | null;
  readonly output: MediaOutput | null;
}

export function insertMedia(ctx: SiteContext, r: MediaRecord): void {
  ctx.db
    .prepare('INSERT INTO media (id, type, format, state, token_id, created_at, expires_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    .run(r.id, r.type, r.format, r.state, r.tokenId, r.createdAt, r.expiresAt, JSON.stringify(r));
}

export function updateMedia(ctx: SiteContext, r: MediaRecord): void {
  ctx.db.prepare('UPDATE media SET state = ?, doc = ? WHERE id = ?').run(r.state, JSON.stringify(r), r.id);
}

export function getMediaRecord(ctx: SiteContext, id: string): MediaRecord | null {
  const row = ctx.db.prepare('SELECT doc FROM media WHERE id = ?').get(id) as { doc: string } | undefined;
  return row ? (JSON.parse(row.doc) as MediaRecord) : null;
}

export function listMediaRecords(ctx: SiteContext): MediaRecord[] {
  return (ctx.db.prepare('SELECT doc FROM media ORDER BY created_at, id').all() as { doc: string }[]).map((r) => JSON.parse(r.doc) as MediaRecord);
}

export function deleteMediaRecord(ctx: SiteContext, id: string): void {
  ctx.db.prepare('DELETE FROM media WHERE id = ?').run(id);
}
