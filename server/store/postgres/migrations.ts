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
];
