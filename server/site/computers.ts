/** Computers: create, import, update, delete, list. */
import { newComputer, unknownComputers, type Computer, type ComputerInput } from '../../policy/computers.js';
import { conflict, invalid, notFound } from '../../policy/errors.js';
import { tryNormalizeMac, tryNormalizeUuid } from '../../policy/normalize.js';
import { maskVariables, type VariableView } from '../../policy/variables.js';
import { audit, transact, type SiteContext } from './context.js';
import type { Page, SiteRepos } from './repositories.js';
import { ComputerIdentityTaken } from './repos/computers.js';

export interface ComputerView extends Omit<Computer, 'variables'> {
  readonly variables: readonly VariableView[];
  readonly builtIn: boolean;
}

export const computerView = (c: Computer): ComputerView => ({ ...c, variables: maskVariables(c.variables), builtIn: c.unknownArchitecture !== null });

/** Resource ids count up from 16777220, as Configuration Manager's do. */
const nextComputerId = (tx: SiteRepos): Promise<string> => tx.ids.claim('computer', (n) => String(16777219 + n));

/** Stores the computer; a MAC or UUID another computer holds is a 409 naming the API's field. */
async function store(tx: SiteRepos, c: Computer, createdAt: number): Promise<void> {
  try {
    await tx.computers.put(c, createdAt);
  } catch (e) {
    if (!(e instanceof ComputerIdentityTaken)) throw e;
    throw e.field === 'smbiosUuid'
      ? conflict(`another computer already has SMBIOS UUID ${c.smbiosUuid}`, 'smbiosUuid')
      : conflict(`another computer already has one of the MAC addresses ${c.macAddresses.join(', ')}`, 'macAddresses');
  }
}

export async function ensureBuiltInComputers(ctx: SiteContext): Promise<void> {
  await transact(ctx, async (tx) => {
    for (const c of unknownComputers()) {
      await tx.ids.hold(c.id, 'computer');
      if (!(await tx.computers.get(c.id))) await store(tx, c, ctx.now());
    }
  });
}

async function found(repos: Pick<SiteRepos, 'computers'>, id: string): Promise<Computer> {
  const c = await repos.computers.get(id);
  if (!c) throw notFound(`no computer ${id}`, 'id');
  return c;
}

export const getComputer = (ctx: SiteContext, id: string): Promise<Computer> => found(ctx.store, id);

export function createComputer(ctx: SiteContext, actor: string, input: ComputerInput): Promise<Computer> {
  return transact(ctx, async (tx) => {
    const c = newComputer(await nextComputerId(tx), input);
    await store(tx, c, ctx.now());
    await audit(tx, ctx, actor, { action: 'computer.created', target: c.id, message: `Computer ${c.name} (${c.id}) created`, details: { macAddresses: c.macAddresses, smbiosUuid: c.smbiosUuid } });
    return c;
  });
}

/** Import many in one transaction: all or nothing, the error names the row. */
export async function importComputers(ctx: SiteContext, actor: string, rows: readonly ComputerInput[]): Promise<Computer[]> {
  if (rows.length > 100_000) throw invalid('at most 100,000 computers per import', 'computers');
  return transact(ctx, async (tx) => {
    const out: Computer[] = [];
    for (const [i, row] of rows.entries()) {
      try {
        const c = newComputer(await nextComputerId(tx), row);
        await store(tx, c, ctx.now());
        out.push(c);
      } catch (e) {
        const err = e as Error & { field?: string };
        throw Object.assign(e as object, { message: `row ${i + 1}: ${err.message}`, field: `computers[${i}]${err.field ? '.' + err.field : ''}` });
      }
    }
    await audit(tx, ctx, actor, { action: 'computer.imported', target: String(out.length), message: `${out.length} computers imported`, details: { ids: out.slice(0, 100).map((c) => c.id) } });
    return out;
  });
}

export function updateComputer(ctx: SiteContext, actor: string, id: string, patch: Partial<ComputerInput>): Promise<Computer> {
  return transact(ctx, async (tx) => {
    const current = await found(tx, id);
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
    // A replaced computer keeps its creation time (ComputerRepo.put).
    await store(tx, updated, ctx.now());
    await audit(tx, ctx, actor, { action: 'computer.updated', target: id, message: `Computer ${updated.name} (${id}) updated`, details: { fields: Object.keys(patch) } });
    return updated;
  });
}

export async function deleteComputer(ctx: SiteContext, actor: string, id: string): Promise<void> {
  await transact(ctx, async (tx) => {
    const c = await found(tx, id);
    if (c.unknownArchitecture !== null) throw conflict('the built-in Unknown Computer objects cannot be deleted', 'id');
    await tx.deployments.deletePxeStarts(id);
    // Direct membership rules naming the computer go with it.
    for (const col of await tx.collections.list())
      if (col.directMemberIds.includes(id)) await tx.collections.put({ ...col, directMemberIds: col.directMemberIds.filter((m) => m !== id) });
    await tx.computers.delete(id);
    await audit(tx, ctx, actor, { action: 'computer.deleted', target: id, message: `Computer ${c.name} (${id}) deleted`, details: {} });
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

export async function listComputers(ctx: SiteContext, f: ComputerFilter): Promise<Page<Computer>> {
  let mac: string | undefined;
  let smbiosUuid: string | undefined;
  if (f.mac !== undefined) {
    mac = tryNormalizeMac(f.mac) ?? undefined;
    if (!mac) throw invalid(`not a MAC address: ${f.mac}`, 'mac');
  }
  if (f.smbiosUuid !== undefined) {
    smbiosUuid = tryNormalizeUuid(f.smbiosUuid) ?? undefined;
    if (!smbiosUuid) throw invalid(`not an SMBIOS UUID: ${f.smbiosUuid}`, 'smbiosUuid');
  }
  return ctx.store.computers.page(
    { ...(f.name ? { name: f.name } : {}), ...(mac ? { mac } : {}), ...(smbiosUuid ? { smbiosUuid } : {}) },
    { offset: f.offset ?? 0, limit: f.limit ?? 100 },
  );
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
