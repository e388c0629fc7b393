/**
 * Computers on PostgreSQL (`computers`, `computer_macs`, migration 4). The document is the same
 * sealed JSON text SQLite keeps, sealed and opened with the binding on the store's holder (its
 * pool). A put is one statement, so it is atomic with or without the caller's transaction, and it
 * checks for a clash before it writes: a refused put raises no SQL error, which would otherwise
 * abort the caller's whole transaction.
 */
import type { NoteChange } from '../../site/repos/changes.js';
import type { DatabaseError } from 'pg';
import type { Computer } from '../../../policy/computers.js';
import type { Page, PageRequest } from '../../site/repos/common.js';
import { ComputerIdentityTaken, type ComputerFilter, type ComputerRepo } from '../../site/repos/computers.js';
import { likeContains } from '../docs.js';
import { checkPage, jsonText } from '../rows.js';
import { openDoc, sealDoc, type SecretHolder } from '../secrets/binding.js';
import { oneRow, type PgQuery } from './query.js';

const TABLE = 'computers';

/**
 * $1 id, $2 name, $3 UUID, $4 architecture, $5 doc, $6 created_at (new rows only), $7 MACs.
 * Writes only when nothing clashes, and returns the clashes. Data-modifying CTEs all run; the
 * foreign key of the new MACs is checked at the end of the statement, after the computer's row.
 */
const PUT_SQL = `
WITH taken_mac AS (
  SELECT mac, computer_id FROM computer_macs WHERE mac = ANY($7::text[]) AND computer_id <> $1
), taken_uuid AS (
  SELECT id FROM computers WHERE smbios_uuid = $3::text AND id <> $1
), up AS (
  INSERT INTO computers (id, name, smbios_uuid, architecture, doc, created_at)
  SELECT $1, $2, $3::text, $4, $5, $6
  WHERE NOT EXISTS (SELECT 1 FROM taken_mac) AND NOT EXISTS (SELECT 1 FROM taken_uuid)
  ON CONFLICT (id) DO UPDATE SET name = excluded.name, smbios_uuid = excluded.smbios_uuid, architecture = excluded.architecture, doc = excluded.doc
  RETURNING id
), gone AS (
  DELETE FROM computer_macs WHERE computer_id = $1 AND mac <> ALL($7::text[]) AND EXISTS (SELECT 1 FROM up)
), added AS (
  INSERT INTO computer_macs (mac, computer_id)
  SELECT m, $1 FROM unnest($7::text[]) AS m
  WHERE EXISTS (SELECT 1 FROM up) AND NOT EXISTS (SELECT 1 FROM computer_macs WHERE mac = m AND computer_id = $1)
)
SELECT 'mac' AS what, mac AS value, computer_id AS holder FROM taken_mac
UNION ALL
SELECT 'uuid', $3::text, id FROM taken_uuid`;

/** A put that lost a race to a concurrent one passed the check, and met the unique key instead. */
function raced(e: unknown): ComputerIdentityTaken | null {
  const err = e as Partial<DatabaseError>;
  if (err.code !== '23505') return null;
  if (err.constraint === 'computer_macs_mac_key') return new ComputerIdentityTaken('macAddresses', null, null);
  if (err.constraint === 'computers_smbios_uuid_key') return new ComputerIdentityTaken('smbiosUuid', null, null);
  return null;
}

export class PgComputerRepo implements ComputerRepo {
  constructor(
    private readonly q: PgQuery,
    private readonly secrets: SecretHolder,
    private readonly note: NoteChange,
  ) {}

  private open = (row: { doc: string }): Computer => openDoc<Computer>(this.secrets, TABLE, row.doc);

  async put(c: Computer, createdAt: number): Promise<void> {
    const doc = jsonText(sealDoc(this.secrets, TABLE, c), `computer ${c.id}`);
    const macs = [...new Set(c.macAddresses)];
    let clashes: { what: string; value: string; holder: string }[];
    try {
      clashes = (await this.q<{ what: string; value: string; holder: string }>(PUT_SQL, [c.id, c.name, c.smbiosUuid, c.architecture, doc, createdAt, macs])).rows;
    } catch (e) {
      throw raced(e) ?? e;
    }
    const first = clashes.find((x) => x.what === 'mac') ?? clashes[0];
    if (first) throw new ComputerIdentityTaken(first.what === 'mac' ? 'macAddresses' : 'smbiosUuid', first.value, first.holder);
    this.note({ kind: 'doc', table: TABLE, id: c.id, doc: c });
  }

  private async one(sql: string, arg: string): Promise<Computer | null> {
    const row = (await this.q<{ doc: string }>(sql, [arg])).rows[0];
    return row ? this.open(row) : null;
  }

  get(id: string): Promise<Computer | null> {
    return this.one('SELECT doc FROM computers WHERE id = $1', id);
  }

  byMac(mac: string): Promise<Computer | null> {
    return this.one('SELECT c.doc FROM computer_macs m JOIN computers c ON c.id = m.computer_id WHERE m.mac = $1', mac);
  }

  byUuid(smbiosUuid: string): Promise<Computer | null> {
    return this.one('SELECT doc FROM computers WHERE smbios_uuid = $1', smbiosUuid);
  }

  async existing(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    return new Set((await this.q<{ id: string }>('SELECT id FROM computers WHERE id = ANY($1::text[])', [[...new Set(ids)]])).rows.map((r) => r.id));
  }

  async delete(id: string): Promise<boolean> {
    // Its MACs go with it (ON DELETE CASCADE), in the same statement.
    const gone = ((await this.q('DELETE FROM computers WHERE id = $1', [id])).rowCount ?? 0) > 0;
    if (gone) this.note({ kind: 'doc', table: TABLE, id, doc: null });
    return gone;
  }

  async page(filter: ComputerFilter, page: PageRequest): Promise<Page<Computer>> {
    checkPage(page);
    const where: string[] = [];
    const args: unknown[] = [];
    const p = (v: unknown): string => `$${args.push(v)}`;
    // The pattern is "C" as well, so LOWER() folds ASCII only on both sides, as on SQLite.
    if (filter.name) where.push(`LOWER(name) LIKE LOWER(${p(likeContains(filter.name))} COLLATE "C") ESCAPE '\\'`);
    if (filter.mac !== undefined) where.push(`id IN (SELECT computer_id FROM computer_macs WHERE mac = ${p(filter.mac)})`);
    if (filter.smbiosUuid !== undefined) where.push(`smbios_uuid = ${p(filter.smbiosUuid)}`);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (await oneRow<{ n: number }>(this.q, `SELECT COUNT(*) AS n FROM computers ${clause}`, args)).n;
    const rows = (await this.q<{ doc: string }>(`SELECT doc FROM computers ${clause} ORDER BY created_at, id LIMIT ${p(page.limit)} OFFSET ${p(page.offset)}`, args)).rows;
    return { items: rows.map(this.open), total, offset: page.offset, limit: page.limit };
  }

  async count(): Promise<number> {
    return (await oneRow<{ n: number }>(this.q, 'SELECT COUNT(*) AS n FROM computers')).n;
  }

  async after(afterId: string, limit: number): Promise<Computer[]> {
    checkPage({ offset: 0, limit });
    return (await this.q<{ doc: string }>('SELECT doc FROM computers WHERE id > $1 ORDER BY id LIMIT $2', [afterId, limit])).rows.map(this.open);
  }
}
