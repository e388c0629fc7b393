/**
 * Versioned schema migrations. SQL stays portable to PostgreSQL (a later issue adds it):
 * TEXT/INTEGER/BIGINT types, JSON documents as TEXT, no SQLite-only functions in queries.
 * Policy objects are stored whole as JSON (`doc`) beside the columns that queries and
 * uniqueness need; the policy layer validates every document before it is written.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

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
];
