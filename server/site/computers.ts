/** Computers: create, import, update, delete, list. */
import { newComputer, unknownComputers, type Computer, type ComputerInput } from '../../policy/computers.js';
import { conflict, invalid, notFound } from '../../policy/errors.js';
import { tryNormalizeMac, tryNormalizeUuid } from '../../policy/normalize.js';
import { maskVariables, type VariableView } from '../../policy/variables.js';
import { claimId, holdId } from '../store/db.js';
import type { Collection } from '../../policy/collections.js';
import { allDocs, deleteRow, getDoc, likeContains, putDoc, readDoc, type Page } from '../store/docs.js';
import { asConflict } from '../store/sqlite-errors.js';
import { deletePxeStarts } from '../store/policy-rows.js';
import { write, writeAudit, type SiteContext } from './context.js';

export interface ComputerView extends Omit<Computer, 'variables'> {
  readonly variables: readonly VariableView[];
  readonly builtIn: boolean;
}

export const computerView = (c: Computer): ComputerView => ({ ...c, variables: maskVariables(c.variables), builtIn: c.unknownArchitecture !== null });

/** Resource ids count up from 16777220, as Configuration Manager's do. */
const nextComputerId = (ctx: SiteContext): string => claimId(ctx.db, 'computer', (n) => String(16777219 + n));

function store(ctx: SiteContext, c: Computer, createdAt: number): void {
  try {
    putDoc(ctx.db, 'computers', c.id, { name: c.name, smbios_uuid: c.smbiosUuid, architecture: c.architecture, created_at: createdAt }, c);
    ctx.db.prepare('DELETE FROM computer_macs WHERE computer_id = ?').run(c.id);
    const insert = ctx.db.prepare('INSERT INTO computer_macs (mac, computer_id) VALUES (?, ?)');
    for (const mac of c.macAddresses) insert.run(mac, c.id);
  } catch (e) {
    asConflict(e, {
      // The API's field names, not the columns'.
      'computers.smbios_uuid': { message: `another computer already has SMBIOS UUID ${c.smbiosUuid}`, field: 'smbiosUuid' },
      'computer_macs.mac': { message: `another computer already has one of the MAC addresses ${c.macAddresses.join(', ')}`, field: 'macAddresses' },
    });
  }
}

export function ensureBuiltInComputers(ctx: SiteContext): void {
  write(ctx, () => {
    for (const c of unknownComputers()) {
      holdId(ctx.db, c.id, 'computer');
      if (!getDoc(ctx.db, 'computers', c.id)) store(ctx, c, ctx.now());
    }
  });
}

export function getComputer(ctx: SiteContext, id: string): Computer {
  const c = getDoc<Computer>(ctx.db, 'computers', id);
  if (!c) throw notFound(`no computer ${id}`, 'id');
  return c;
}

export function createComputer(ctx: SiteContext, actor: string, input: ComputerInput): Computer {
  return write(ctx, () => {
    const c = newComputer(nextComputerId(ctx), input);
    store(ctx, c, ctx.now());
    writeAudit(ctx, actor, { action: 'computer.created', target: c.id, message: `Computer ${c.name} (${c.id}) created`, details: { macAddresses: c.macAddresses, smbiosUuid: c.smbiosUuid } });
    return c;
  });
}

/** Import many in one transaction: all or nothing, the error names the row. */
export function importComputers(ctx: SiteContext, actor: string, rows: readonly ComputerInput[]): Computer[] {
  if (rows.length > 100_000) throw invalid('at most 100,000 computers per import', 'computers');
  return write(ctx, () => {
    const out: Computer[] = [];
    rows.forEach((row, i) => {
      try {
        const c = newComputer(nextComputerId(ctx), row);
        store(ctx, c, ctx.now());
        out.push(c);
      } catch (e) {
        const err = e as Error & { field?: string };
        throw Object.assign(e as object, { message: `row ${i + 1}: ${err.message}`, field: `computers[${i}]${err.field ? '.' + err.field : ''}` });
      }
    });
    writeAudit(ctx, actor, { action: 'computer.imported', target: String(out.length), message: `${out.length} computers imported`, details: { ids: out.slice(0, 100).map((c) => c.id) } });
    return out;
  });
}

export function updateComputer(ctx: SiteContext, actor: string, id: string, patch: Partial<ComputerInput>): Computer {
  return write(ctx, () => {
    const current = getComputer(ctx, id);
    if (current.unknownArchitecture !== null) throw conflict('the built-in Unknown Computer objects cannot be edited', 'id');
    const updated = newComputer(id, {
      name: patch.name ?? current.name,
      macAddresses: patch.macAddresses ?? current.macAddresses,
      smbiosUuid: patch.smbiosUuid === undefined ? current.smbiosUuid : patch.smbiosUuid,
      architecture: patch.architecture === undefined ? current.architecture : patch.architecture,
      isSiteSystem: patch.isSiteSystem ?? current.isSiteSystem,
      isServer: patch.isServer ?? current.isServer,
      variables: patch.variables ?? current.variables,
    });
    const createdAt = (ctx.db.prepare('SELECT created_at FROM computers WHERE id = ?').get(id) as { created_at: number }).created_at;
    store(ctx, updated, createdAt);
    writeAudit(ctx, actor, { action: 'computer.updated', target: id, message: `Computer ${updated.name} (${id}) updated`, details: { fields: Object.keys(patch) } });
    return updated;
  });
}

export function deleteComputer(ctx: SiteContext, actor: string, id: string): void {
  write(ctx, () => {
    const c = getComputer(ctx, id);
    if (c.unknownArchitecture !== null) throw conflict('the built-in Unknown Computer objects cannot be deleted', 'id');
    deletePxeStarts(ctx.db, { computerId: id });
    // Direct membership rules naming the computer go with it.
    for (const col of allDocs<Collection>(ctx.db, 'collections'))
      if (col.directMemberIds.includes(id)) putDoc(ctx.db, 'collections', col.id, { name: col.name }, { ...col, directMemberIds: col.directMemberIds.filter((m) => m !== id) });
    deleteRow(ctx.db, 'computers', id);
    writeAudit(ctx, actor, { action: 'computer.deleted', target: id, message: `Computer ${c.name} (${id}) deleted`, details: {} });
  });
}

export interface ComputerFilter {
  readonly offset?: number;
  readonly limit?: number;
  /** Substring of the name, case-insensitive. */
  readonly name?: string;
  readonly mac?: string;
  readonly smbiosUuid?: string;
}

export function listComputers(ctx: SiteContext, f: ComputerFilter): Page<Computer> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.name) {
    where.push("LOWER(name) LIKE LOWER(?) ESCAPE '\\'");
    args.push(likeContains(f.name));
  }
  if (f.mac !== undefined) {
    const mac = tryNormalizeMac(f.mac);
    if (!mac) throw invalid(`not a MAC address: ${f.mac}`, 'mac');
    where.push('id IN (SELECT computer_id FROM computer_macs WHERE mac = ?)');
    args.push(mac);
  }
  if (f.smbiosUuid !== undefined) {
    const uuid = tryNormalizeUuid(f.smbiosUuid);
    if (!uuid) throw invalid(`not an SMBIOS UUID: ${f.smbiosUuid}`, 'smbiosUuid');
    where.push('smbios_uuid = ?');
    args.push(uuid);
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const offset = f.offset ?? 0;
  const limit = f.limit ?? 100;
  const total = (ctx.db.prepare(`SELECT COUNT(*) AS n FROM computers ${clause}`).get(...args) as { n: number }).n;
  const rows = ctx.db.prepare(`SELECT doc FROM computers ${clause} ORDER BY created_at, id LIMIT ? OFFSET ?`).all(...args, limit, offset) as { doc: string }[];
  return { items: rows.map((r) => readDoc<Computer>(ctx.db, 'computers', r.doc)), total, offset, limit };
}

/** `name,mac,smbiosUuid` CSV (header required; MACs separated by `;` or spaces; extra columns become variables). */
export function parseComputerCsv(text: string): ComputerInput[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw invalid('the CSV is empty', 'body');
  const split = (line: string): string[] => {
    const out: string[] = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i]!;
      if (quoted) {
        if (ch === '"' && line[i + 1] === '"') {
          cur += '"';
          i++;
        } else if (ch === '"') quoted = false;
        else cur += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ',') {
        out.push(cur);
        cur = '';
      }
      else cur += ch;
    }
    if (quoted) throw invalid(`unterminated quote in CSV line: ${line.slice(0, 80)}`, 'body');
    out.push(cur);
    return out.map((s) => s.trim());
  };
  const header = split(lines[0]!).map((h) => h.toLowerCase());
  const col = (...names: string[]) => header.findIndex((h) => names.includes(h));
  const nameCol = col('name', 'computername', 'computer');
  const macCol = col('mac', 'macaddress', 'macaddresses', 'mac address');
  const uuidCol = col('smbiosuuid', 'uuid', 'smbios guid', 'smbiosguid');
  if (nameCol < 0) throw invalid('the CSV header needs a name column', 'body');
  if (macCol < 0 && uuidCol < 0) throw invalid('the CSV header needs a mac or smbiosUuid column', 'body');
  const original = split(lines[0]!);
  const varCols = header.map((_, i) => i).filter((i) => i !== nameCol && i !== macCol && i !== uuidCol);
  return lines.slice(1).map((line, n) => {
    const cells = split(line);
    if (cells.length !== header.length) throw invalid(`CSV line ${n + 2} has ${cells.length} fields, the header has ${header.length}`, 'body');
    return {
      name: cells[nameCol]!,
      macAddresses: macCol >= 0 ? cells[macCol]!.split(/[;\s]+/).filter(Boolean) : [],
      smbiosUuid: uuidCol >= 0 && cells[uuidCol] ? cells[uuidCol]! : null,
      variables: varCols.filter((i) => cells[i] !== '').map((i) => ({ name: original[i]!, value: cells[i]!, hidden: false })),
    };
  });
}
