/**
 * Versioned migrations of the PostgreSQL site database (migrate.ts runs them). They create the
 * tables of the aggregates that have a PostgreSQL repository so far, the equivalents of the
 * SQLite tables of the same names (../migrations.ts); the other aggregates' tables come with
 * their repositories, as later versions here.
 *
 * Types: times are BIGINT epoch ms; ids and names TEXT with the "C" collation, so ORDER BY sorts
 * by bytes as SQLite does whatever the database's locale; `seq` columns are identity columns.
 * Documents (settings values, audit details, status messages) are JSON kept as TEXT, not jsonb:
 * jsonb refuses the \u0000 escape that engine output may carry, reorders keys, and nothing
 * queries inside them; a later version can add jsonb columns or expression indexes if one must.
 */
export interface PgMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'id space and settings',
    sql: `
CREATE TABLE counters (name TEXT COLLATE "C" PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE settings (name TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
`,
  },
  {
    version: 2,
    name: 'tokens and audit',
    sql: `
CREATE TABLE tokens (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT,
  expires_at BIGINT,
  media_id TEXT COLLATE "C",
  scope TEXT,
  computer_id TEXT COLLATE "C"
);
CREATE INDEX tokens_media ON tokens (media_id, created_at);
CREATE INDEX tokens_role_active ON tokens (role) WHERE revoked_at IS NULL;

CREATE TABLE audit (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  message TEXT NOT NULL,
  details TEXT NOT NULL
);
CREATE INDEX audit_target ON audit (target, seq);
CREATE INDEX audit_action ON audit (action, seq);
`,
  },
  {
    version: 3,
    name: 'status messages and required PXE starts',
    sql: `
CREATE TABLE status_messages (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  at BIGINT NOT NULL,
  computer_id TEXT COLLATE "C" NOT NULL,
  deployment_id TEXT COLLATE "C",
  kind TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX status_messages_computer ON status_messages (computer_id, seq);
CREATE INDEX status_messages_deployment ON status_messages (deployment_id, seq);

CREATE TABLE required_pxe_starts (
  computer_id TEXT COLLATE "C" NOT NULL,
  deployment_id TEXT COLLATE "C" NOT NULL,
  started_at BIGINT NOT NULL,
  PRIMARY KEY (computer_id, deployment_id)
);
CREATE INDEX required_pxe_starts_deployment ON required_pxe_starts (deployment_id);
`,
  },
  {
    version: 4,
    name: 'computers, their MAC addresses, and collections',
    // Names are "C" too: LOWER() then folds ASCII only, as SQLite's does (the name filter), and
    // uniqueness is by bytes. A MAC is unique across computers (its primary key), as on SQLite.
    sql: `
CREATE TABLE computers (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL,
  smbios_uuid TEXT COLLATE "C" CONSTRAINT computers_smbios_uuid_key UNIQUE,
  architecture TEXT,
  doc TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX computers_name ON computers (name);
CREATE INDEX computers_created ON computers (created_at, id);

CREATE TABLE computer_macs (
  mac TEXT COLLATE "C" CONSTRAINT computer_macs_mac_key PRIMARY KEY,
  computer_id TEXT COLLATE "C" NOT NULL REFERENCES computers (id) ON DELETE CASCADE
);
CREATE INDEX computer_macs_computer ON computer_macs (computer_id);

CREATE TABLE collections (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL CONSTRAINT collections_name_key UNIQUE,
  doc TEXT NOT NULL
);
`,
  },
  {
    version: 5,
    name: 'task sequences, their folders, and deployments',
    // As on SQLite: a folder or task sequence names a stored parent folder, a deployment a stored
    // task sequence, and each refuses deletion of what it names. A deployment's collection gets
    // no foreign key here (collections come with their own migration and checks).
    sql: `
CREATE TABLE folders (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL,
  parent_id TEXT COLLATE "C" REFERENCES folders (id)
);
CREATE INDEX folders_parent ON folders (parent_id);

CREATE TABLE task_sequences (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL,
  folder_id TEXT COLLATE "C" REFERENCES folders (id),
  doc TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX task_sequences_name ON task_sequences (name, id);
CREATE INDEX task_sequences_folder ON task_sequences (folder_id, name, id);

CREATE TABLE deployments (
  id TEXT COLLATE "C" PRIMARY KEY,
  task_sequence_id TEXT COLLATE "C" NOT NULL REFERENCES task_sequences (id),
  collection_id TEXT COLLATE "C" NOT NULL,
  doc TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX deployments_created ON deployments (created_at, id);
CREATE INDEX deployments_collection ON deployments (collection_id, created_at, id);
CREATE INDEX deployments_task_sequence ON deployments (task_sequence_id, created_at, id);
`,
  },
  {
    version: 6,
    name: 'distribution points, groups, point content and distribution jobs',
    // As SQLite's migration 2. A point's tokens are one sealed value in `secret`; its holdings
    // go with it (ON DELETE CASCADE). Content ids get no foreign key: content has its own table
    // and checks, and deleting content deletes its holdings (HoldingRepo.deleteOfContent).
    sql: `
CREATE TABLE distribution_points (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL CONSTRAINT distribution_points_name_key UNIQUE,
  kind TEXT NOT NULL,
  url TEXT,
  secret TEXT,
  doc TEXT NOT NULL
);

CREATE TABLE distribution_point_groups (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL CONSTRAINT distribution_point_groups_name_key UNIQUE,
  doc TEXT NOT NULL
);

CREATE TABLE point_content (
  point_id TEXT COLLATE "C" NOT NULL REFERENCES distribution_points (id) ON DELETE CASCADE,
  content_id TEXT COLLATE "C" NOT NULL,
  version INTEGER NOT NULL,
  manifest_sha256 TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  job_id TEXT COLLATE "C",
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (point_id, content_id, version)
);
CREATE INDEX point_content_content ON point_content (content_id, state);

CREATE TABLE distribution_jobs (
  id TEXT COLLATE "C" PRIMARY KEY,
  state TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX distribution_jobs_created ON distribution_jobs (created_at, id);
CREATE INDEX distribution_jobs_unfinished ON distribution_jobs (created_at, id) WHERE state IN ('queued', 'running');
`,
  },
  {
    version: 7,
    name: 'boot media records and import links',
    // As SQLite's media (migration 4) and import_links (migration 3). A media record names its
    // token, and a link its local object, without a foreign key: a link to a deleted object is
    // stale (the site checks), and tokens outlive their media for the audit trail.
    sql: `
CREATE TABLE media (
  id TEXT COLLATE "C" PRIMARY KEY,
  type TEXT NOT NULL,
  format TEXT NOT NULL,
  state TEXT NOT NULL,
  token_id TEXT COLLATE "C",
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  doc TEXT NOT NULL
);
CREATE INDEX media_created ON media (created_at, id);

CREATE TABLE import_links (
  origin_site TEXT COLLATE "C" NOT NULL,
  origin_id TEXT COLLATE "C" NOT NULL,
  type TEXT NOT NULL,
  local_id TEXT COLLATE "C" NOT NULL,
  imported_at BIGINT NOT NULL,
  PRIMARY KEY (origin_site, origin_id)
);
CREATE INDEX import_links_local ON import_links (local_id);
`,
  },
  {
    version: 8,
    name: 'content records',
    // As SQLite's content (migrations 1 and 2): the whole object as doc, the ContentInfo policy
    // reads as info (never missing here), the current version's number.
    sql: `
CREATE TABLE content (
  id TEXT COLLATE "C" PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  doc TEXT NOT NULL,
  info TEXT NOT NULL,
  current_version INTEGER,
  updated_at BIGINT NOT NULL
);
CREATE INDEX content_kind ON content (kind, id);
`,
  },
  {
    version: 9,
    name: 'one id space and the secret key id',
    // As SQLite's migrations 7 and 6: every id of the site is claimed here once, whatever its
    // kind (the counters of migration 1 count per kind); and the id of the key secrets are
    // sealed with, so a node started with another key is refused before it writes anything.
    sql: `
CREATE TABLE site_ids (
  id TEXT COLLATE "C" PRIMARY KEY,
  kind TEXT NOT NULL
);
CREATE TABLE secret_keys (
  key_id TEXT COLLATE "C" PRIMARY KEY,
  created_at BIGINT NOT NULL
);
`,
  },
];
