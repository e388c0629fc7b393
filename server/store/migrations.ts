/**
 * Versioned schema migrations. SQL stays portable to PostgreSQL (a later issue adds it):
 * TEXT/INTEGER/BIGINT types, JSON documents as TEXT, no SQLite-only functions in queries.
 * Policy objects are stored whole as JSON (`doc`) beside the columns that queries and
 * uniqueness need; the policy layer validates every document before it is written.
 */
import type Database from 'better-sqlite3';
import { contentInfoOf } from '../../content/model.js';
import { contentFromInfo } from '../site/content-input.js';
import { sealStoredSecrets } from './secrets/stored.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  /** Data changes SQL cannot express portably (JSON document reshaping), run after `sql` in the same transaction. */
  readonly up?: (db: Database.Database) => void;
}

/** The tables whose rows carry a site object id, and the kind each id is claimed for. */
export const ID_TABLES: readonly (readonly [string, string])[] = [
  ['computers', 'computer'],
  ['collections', 'collection'],
  ['folders', 'folder'],
  ['content', 'package'],
  ['task_sequences', 'package'],
  ['deployments', 'deployment'],
  ['tokens', 'token'],
  ['distribution_points', 'point'],
  ['distribution_point_groups', 'pointGroup'],
  ['distribution_jobs', 'distributionJob'],
  ['media', 'media'],
];

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'site database',
    sql: `
CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE computers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  smbios_uuid TEXT UNIQUE,
  architecture TEXT,
  doc TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX computers_name ON computers (name);
CREATE TABLE computer_macs (
  mac TEXT PRIMARY KEY,
  computer_id TEXT NOT NULL REFERENCES computers (id) ON DELETE CASCADE
);
CREATE INDEX computer_macs_computer ON computer_macs (computer_id);

CREATE TABLE collections (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  doc TEXT NOT NULL
);

CREATE TABLE folders (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  parent_id TEXT REFERENCES folders (id)
);

CREATE TABLE content (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  doc TEXT NOT NULL
);

CREATE TABLE task_sequences (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  folder_id TEXT REFERENCES folders (id),
  doc TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE deployments (
  id TEXT PRIMARY KEY,
  task_sequence_id TEXT NOT NULL REFERENCES task_sequences (id),
  collection_id TEXT NOT NULL REFERENCES collections (id),
  doc TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX deployments_collection ON deployments (collection_id);
CREATE INDEX deployments_task_sequence ON deployments (task_sequence_id);

CREATE TABLE required_pxe_starts (
  computer_id TEXT NOT NULL,
  deployment_id TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  PRIMARY KEY (computer_id, deployment_id)
);

CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);

CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  message TEXT NOT NULL,
  details TEXT NOT NULL
);

CREATE TABLE status_messages (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  at BIGINT NOT NULL,
  computer_id TEXT NOT NULL,
  deployment_id TEXT,
  kind TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX status_messages_computer ON status_messages (computer_id, seq);
CREATE INDEX status_messages_deployment ON status_messages (deployment_id, seq);
`,
  },
  {
    version: 2,
    name: 'content library and distribution points',
    // `content.doc` becomes the whole ContentObject (versions and file lists); `info` keeps the
    // small ContentInfo policy reads on every boot, so it never parses file lists.
    sql: `
ALTER TABLE content ADD COLUMN info TEXT;
ALTER TABLE content ADD COLUMN current_version INTEGER;
ALTER TABLE content ADD COLUMN updated_at BIGINT;

CREATE TABLE distribution_points (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  url TEXT,
  secret TEXT,
  doc TEXT NOT NULL
);

CREATE TABLE distribution_point_groups (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  doc TEXT NOT NULL
);

CREATE TABLE point_content (
  point_id TEXT NOT NULL REFERENCES distribution_points (id) ON DELETE CASCADE,
  content_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  manifest_sha256 TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  job_id TEXT,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (point_id, content_id, version)
);
CREATE INDEX point_content_content ON point_content (content_id, state);

CREATE TABLE distribution_jobs (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX distribution_jobs_created ON distribution_jobs (created_at);
`,
    up: (db) => {
      const rows = db.prepare('SELECT id, doc FROM content').all() as { id: string; doc: string }[];
      const update = db.prepare('UPDATE content SET doc = ?, info = ?, current_version = NULL, updated_at = 0 WHERE id = ?');
      for (const r of rows) {
        const object = contentFromInfo(JSON.parse(r.doc) as Record<string, unknown>);
        update.run(JSON.stringify(object), JSON.stringify(contentInfoOf(object)), r.id);
      }
    },
  },
  {
    version: 3,
    name: 'task sequence import links',
    // R-28: which local object an imported one became (or was linked to), by the exporting
    // site's code and id, so importing the same file again proposes Ignore Duplicate.
    sql: `
CREATE TABLE import_links (
  origin_site TEXT NOT NULL,
  origin_id TEXT NOT NULL,
  type TEXT NOT NULL,
  local_id TEXT NOT NULL,
  imported_at BIGINT NOT NULL,
  PRIMARY KEY (origin_site, origin_id)
);
CREATE INDEX import_links_local ON import_links (local_id);
`,
  },
  {
    version: 4,
    name: 'boot media and token expiry',
    // R-25: media records, and tokens that expire with the media they were made for (a
    // request with an expired media token is answered 401 "media expired").
    sql: `
ALTER TABLE tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE tokens ADD COLUMN media_id TEXT;

CREATE TABLE media (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  format TEXT NOT NULL,
  state TEXT NOT NULL,
  token_id TEXT,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  doc TEXT NOT NULL
);
CREATE INDEX media_created ON media (created_at);
`,
  },
  {
    version: 5,
    name: 'client token scopes',
    // Issue 13: a client token is bound (scope): `site` (a trusted relay an administrator made),
    // `computer` (one computer's agent), `enroll` (boots and registers, reads no secrets) or
    // `media` (its media's own settings). Tokens older boot images carried in their initrd were
    // readable by anyone who could fetch it: they are revoked.
    sql: `
ALTER TABLE tokens ADD COLUMN scope TEXT;
ALTER TABLE tokens ADD COLUMN computer_id TEXT;
UPDATE tokens SET scope = 'media' WHERE role = 'client' AND media_id IS NOT NULL;
UPDATE tokens SET scope = 'site' WHERE role = 'client' AND media_id IS NULL AND name NOT LIKE 'boot environment %';
UPDATE tokens SET scope = 'enroll', revoked_at = created_at WHERE role = 'client' AND media_id IS NULL AND name LIKE 'boot environment %' AND revoked_at IS NULL;
UPDATE tokens SET scope = 'enroll' WHERE role = 'client' AND scope IS NULL;
`,
  },
  {
    version: 6,
    name: 'secrets encrypted at rest',
    // Issue 13 (R-31): step passwords, hidden variable values and remote points' tokens are
    // sealed with the site's secret key (secrets/); the key id they were sealed with is recorded
    // so a wrong key is refused at start. Values older versions stored in the clear are sealed
    // here, and the opener then rewrites the file so no old page keeps them.
    sql: `
CREATE TABLE secret_keys (
  key_id TEXT PRIMARY KEY,
  created_at BIGINT NOT NULL
);
`,
    up: (db) => sealStoredSecrets(db),
  },
  {
    version: 7,
    name: 'one id space',
    // Issue 14: every object id of the site is claimed here once, whatever its kind, so two
    // kinds whose formats overlap (collections PS1 + hex(0x10 + n), packages and task sequences
    // PS1 + hex(n)) can never hand out the same id: a copied task sequence got PS100011, an
    // existing collection's. Ids are never reused, so a deleted object's id stays claimed.
    sql: `
CREATE TABLE site_ids (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL
);
${ID_TABLES.map(([table, kind]) => `INSERT OR IGNORE INTO site_ids (id, kind) SELECT id, '${kind}' FROM ${table};`).join('\n')}
`,
  },
];
