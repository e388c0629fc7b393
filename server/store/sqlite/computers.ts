/**
 * Computers on SQLite: the existing `computers` and `computer_macs` tables (migration 1), written
 * with the same helpers as the site's own code (docs.ts: sealed document, change journal), so
 * either reads what the other wrote.
 */
import type { Computer } from '../../../policy/computers.js';
import type { Page, PageRequest } from '../../site/repos/common.js';
import { ComputerIdentityTaken, type ComputerFilter, type ComputerRepo } from '../../site/repos/computers.js';
import { deleteRow, likeContains, putDoc, readDoc } from '../docs.js';
import { checkPage } from '../rows.js';
import type { SqliteExec, Statements } from './statements.js';

const TABLE = 'computers';

/** The clash a put would run into, found before anything is written (a refused put stores nothing). */
function clashOf(q: Statements, c: Computer, macs: readonly string[]): ComputerIdentityTaken | null {
  for (const mac of macs) {
    const row = q.get<{ computer_id: string }>('SELECT computer_id FROM computer_macs WHERE mac = ? AND computer_id <> ?', mac, c.id);
    if (row) return new ComputerIdentityTaken('macAddresses', mac, row.computer_id);
  }
  if (c.smbiosUuid !== null) {
    const row = q.get<{ id: string }>('SELECT id FROM computers WHERE smbios_uuid = ? AND id <> ?', c.smbiosUuid, c.id);
    if (row) return new ComputerIdentityTaken('smbiosUuid', c.smbiosUuid, row.id);
  }
  return null;
}

export class SqliteComputerRepo implements ComputerRepo {
  constructor(private readonly exec: SqliteExec) {}

  async put(c: Computer, createdAt: number): Promise<void> {
    const macs = [...new Set(c.macAddresses)];
    return this.exec((q) => {
      const clash = clashOf(q, c, macs);
      if (clash) throw clash;
      // A savepoint (better-sqlite3 nests), so the row and its MACs land together even inside a caller's transaction.
      q.db.transaction(() => {
        const kept = q.get<{ created_at: number }>('SELECT created_at FROM computers WHERE id = ?', c.id);
        putDoc(q.db, TABLE, c.id, { name: c.name, smbios_uuid: c.smbiosUuid, architecture: c.architecture, created_at: kept?.created_at ?? createdAt }, c);
        q.run('DELETE FROM computer_macs WHERE computer_id = ?', c.id);
        for (const mac of macs) q.run('INSERT INTO computer_macs (mac, computer_id) VALUES (?, ?)', mac, c.id);
      })();
    });
  }

  private async one(sql: string, arg: string): Promise<Computer | null> {
    return this.exec((q) => {
      const row = q.get<{ doc: string }>(sql, arg);
      return row ? readDoc<Computer>(q.db, TABLE, row.doc) : null;
    });
  }

  get(id: string): Promise<Computer | null> {
    return this.one('SELECT doc FROM computers WHERE id = ?', id);
  }

  byMac(mac: string): Promise<Computer | null> {
    return this.one('SELECT c.doc FROM computer_macs m JOIN computers c ON c.id = m.computer_id WHERE m.mac = ?', mac);
  }

  byUuid(smbiosUuid: string): Promise<Computer | null> {
    return this.one('SELECT doc FROM computers WHERE smbios_uuid = ?', smbiosUuid);
  }

  async existing(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    // One statement for any number of ids: the list goes in as a JSON array.
    const list = JSON.stringify([...new Set(ids)]);
    return this.exec((q) => new Set(q.all<{ id: string }>('SELECT id FROM computers WHERE id IN (SELECT value FROM json_each(?))', list).map((r) => r.id)));
  }

  async delete(id: string): Promise<boolean> {
    return this.exec((q) =>
      q.db.transaction(() => {
        // The foreign key cascades too; this does not depend on the connection's foreign_keys pragma.
        q.run('DELETE FROM computer_macs WHERE computer_id = ?', id);
        return deleteRow(q.db, TABLE, id);
      })(),
    );
  }

  async page(filter: ComputerFilter, page: PageRequest): Promise<Page<Computer>> {
    checkPage(page);
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.name) {
      where.push("LOWER(name) LIKE LOWER(?) ESCAPE '\\'");
      args.push(likeContains(filter.name));
    }
    if (filter.mac !== undefined) {
      where.push('id IN (SELECT computer_id FROM computer_macs WHERE mac = ?)');
      args.push(filter.mac);
    }
    if (filter.smbiosUuid !== undefined) {
      where.push('smbios_uuid = ?');
      args.push(filter.smbiosUuid);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    return this.exec((q) => {
      const total = (q.get<{ n: number }>(`SELECT COUNT(*) AS n FROM computers ${clause}`, ...args) as { n: number }).n;
      const rows = q.all<{ doc: string }>(`SELECT doc FROM computers ${clause} ORDER BY created_at, id LIMIT ? OFFSET ?`, ...args, page.limit, page.offset);
      return { items: rows.map((r) => readDoc<Computer>(q.db, TABLE, r.doc)), total, offset: page.offset, limit: page.limit };
    });
  }

  async count(): Promise<number> {
    return this.exec((q) => (q.get<{ n: number }>('SELECT COUNT(*) AS n FROM computers') as { n: number }).n);
  }

  async after(afterId: string, limit: number): Promise<Computer[]> {
    checkPage({ offset: 0, limit });
    return this.exec((q) => q.all<{ doc: string }>('SELECT doc FROM computers WHERE id > ? ORDER BY id LIMIT ?', afterId, limit).map((r) => readDoc<Computer>(q.db, TABLE, r.doc)));
  }
}
