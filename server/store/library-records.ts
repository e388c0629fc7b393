/**
 * The content library's records (content/records.ts) on the site database: one row per content
 * object, the whole ContentObject as `doc`, plus the small ContentInfo policy reads on every
 * boot (`info`) and the current version, so reference checks never parse file lists. A put is
 * one statement, so readers see the old record or the new one, never a mix.
 */
import type { ContentInfo } from '../../policy/content-refs.js';
import { contentInfoOf, currentVersion, type ContentObject } from '../../content/model.js';
import type { LibraryRecords } from '../../content/records.js';
import type { Db } from './db.js';
import { deleteRow } from './docs.js';

export class SqliteLibraryRecords implements LibraryRecords {
  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {}

  getSync(id: string): ContentObject | undefined {
    const row = this.db.prepare('SELECT doc FROM content WHERE id = ?').get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as ContentObject) : undefined;
  }

  putSync(record: ContentObject): void {
    const info = contentInfoOf(record);
    this.db
      .prepare(
        `INSERT INTO content (id, kind, name, doc, info, current_version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, doc = excluded.doc, info = excluded.info,
           current_version = excluded.current_version, updated_at = excluded.updated_at`,
      )
      .run(record.id, record.kind, record.name, JSON.stringify(record), JSON.stringify(info), currentVersion(record)?.version ?? null, this.now());
  }

  deleteSync(id: string): boolean {
    return deleteRow(this.db, 'content', id);
  }

  /** What policy needs of one object, without its file lists. */
  info(id: string): ContentInfo | undefined {
    const row = this.db.prepare('SELECT info FROM content WHERE id = ?').get(id) as { info: string | null } | undefined;
    if (!row) return undefined;
    // A row written before migration 2 filled `info` cannot exist (the migration rewrites all), but be safe.
    return row.info ? (JSON.parse(row.info) as ContentInfo) : contentInfoOf(this.getSync(id)!);
  }

  infos(): ContentInfo[] {
    return (this.db.prepare('SELECT id, info FROM content ORDER BY id').all() as { id: string; info: string | null }[]).map((r) =>
      r.info ? (JSON.parse(r.info) as ContentInfo) : contentInfoOf(this.getSync(r.id)!),
    );
  }

  /** The facts of every boot image: what the public boot routes may serve is what these declare. */
  bootImageInfos(): ContentInfo[] {
    return (this.db.prepare("SELECT id, info FROM content WHERE kind = 'bootImage' ORDER BY id").all() as { id: string; info: string | null }[]).map((r) =>
      r.info ? (JSON.parse(r.info) as ContentInfo) : contentInfoOf(this.getSync(r.id)!),
    );
  }

  listSync(): ContentObject[] {
    return (this.db.prepare('SELECT doc FROM content ORDER BY id').all() as { doc: string }[]).map((r) => JSON.parse(r.doc) as ContentObject);
  }

  async get(id: string): Promise<ContentObject | undefined> {
    return this.getSync(id);
  }

  async put(record: ContentObject): Promise<void> {
    this.putSync(record);
  }

  async list(): Promise<ContentObject[]> {
    return this.listSync();
  }
}
