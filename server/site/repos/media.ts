/**
 * Boot media records: what was built, for whom, its state and its client token.
 * Variable values, the password and the token are never stored here; the preferred deployment
 * and "allow unattended" are, because the site answers password-protected media's boot loader
 * from them. The record is kept whole as a document, with the columns queries need beside it.
 */
import type { MediaFormat, MediaType } from '../../../media/boot-media/model.js';

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
  /** Epoch ms. */
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly createdBy: string;
  readonly error: string | null;
  readonly output: MediaOutput | null;
  /** The site node building it (absent on records older versions wrote; server/site/heartbeat.ts). */
  readonly node?: string;
  /** Epoch ms: when that node last refreshed the record while building (its heartbeat). */
  readonly aliveAt?: number;
}

export interface MediaRepo {
  /** Stores a new record; an id already stored is refused. */
  insert(record: MediaRecord): Promise<void>;
  /** Replaces the stored record `record.id` (its state, error, output); false when there is none. */
  update(record: MediaRecord): Promise<boolean>;
  get(id: string): Promise<MediaRecord | null>;
  /** Every record, oldest first (createdAt, then id). */
  list(): Promise<MediaRecord[]>;
  /** False when there was none. The media's token is the caller's to revoke. */
  delete(id: string): Promise<boolean>;
}
