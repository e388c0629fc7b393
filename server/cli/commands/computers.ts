/** `osdeploy computers …`: /api/v1/computers (list, get, create, import, update, delete, clear-required-pxe). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { formatFields, formatTable } from '../table.js';
import { CliError, defined, enc, ids, int, many, noun, oneOf, show, variableLines, variablesOf, verb, type Opts, type Run } from '../runtime.js';

export interface ComputerView {
  readonly id: string;
  readonly name: string;
  readonly macAddresses: readonly string[];
  readonly smbiosUuid: string | null;
  readonly architecture: string | null;
  readonly isSiteSystem: boolean;
  readonly isServer: boolean;
  readonly builtIn: boolean;
  readonly variables: readonly { name: string; value: string | null; hidden: boolean }[];
}

interface Page<T> {
  readonly items: readonly T[];
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
}

const ARCHES = ['x86', 'x64', 'arm64'];

export const computerTable = (items: readonly ComputerView[]): string =>
  formatTable(items, [
    { header: 'ID', value: (c) => c.id },
    { header: 'NAME', value: (c) => c.name },
    { header: 'MAC ADDRESSES', value: (c) => c.macAddresses },
    { header: 'SMBIOS UUID', value: (c) => c.smbiosUuid },
    { header: 'ARCH', value: (c) => c.architecture },
    { header: 'VARIABLES', value: (c) => c.variables.length },
  ]);

const computerDetails = (c: ComputerView): string =>
  [
    formatFields([
      ['id', c.id],
      ['name', c.name],
      ['mac addresses', c.macAddresses],
      ['smbios uuid', c.smbiosUuid],
      ['architecture', c.architecture],
      ['site system', c.isSiteSystem],
      ['server', c.isServer],
      ['built-in', c.builtIn],
    ]),
    variableLines(c.variables),
  ].join('\n');

/** The body fields shared by create and update. */
function computerBody(opts: Opts): Record<string, unknown> {
  return defined({
    name: opts.name,
    macAddresses: opts.mac,
    smbiosUuid: opts.uuid,
    architecture: opts.arch,
    isSiteSystem: opts.siteSystem,
    isServer: opts.serverOs,
    variables: variablesOf(opts),
  });
}

function withComputerFlags(cmd: Command): Command {
  return cmd
    .option('--mac <mac>', 'MAC address (repeat for more; replaces the list on update)', ids)
    .option('--uuid <uuid>', 'SMBIOS UUID')
    .option('--arch <arch>', 'architecture: x86, x64 or arm64', oneOf(ARCHES))
    .option('--site-system', 'the computer holds a site system role (R-10)')
    .option('--no-site-system', 'the computer holds no site system role')
    .option('--server-os', 'the computer runs a server OS (R-10)')
    .option('--no-server-os', 'the computer runs no server OS')
    .option('--var <NAME=VALUE>', 'task sequence variable (repeat; replaces the list on update)', many)
    .option('--hidden-var <NAME=VALUE>', 'variable whose value is never displayed (repeat)', many);
}

async function importFile(run: Run, file: string): Promise<void> {
  const ext = path.extname(file).toLowerCase();
  if (ext !== '.csv' && ext !== '.json') throw new CliError(`${file}: give a .csv or .json file`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let result: { imported: number; computers: ComputerView[] };
  if (ext === '.csv') result = await run.api.post('/computers/import', text, 'text/csv');
  else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new CliError(`${file} is not valid JSON: ${(e as Error).message}`);
    }
    result = await run.api.post('/computers/import', Array.isArray(parsed) ? { computers: parsed } : parsed);
  }
  show(run, result, (r) => `imported ${r.imported} computer(s)\n${computerTable(r.computers)}`);
}

export function registerComputers(program: Command): void {
  const computers = noun(program, 'computers', 'computer records: MAC addresses, SMBIOS UUID, variables (R-17, R-23)');

  verb(computers, 'list', 'list computers', async (run) => {
    const { name, mac, uuid, offset, limit } = run.opts as Record<string, string | number | undefined>;
    const page = await run.api.get<Page<ComputerView>>('/computers', { name, mac, smbiosUuid: uuid, offset, limit });
    show(run, page, (p) => `${computerTable(p.items)}\n${p.items.length} of ${p.total} (offset ${p.offset})`);
  })
    .option('--name <text>', 'name contains')
    .option('--mac <mac>', 'has this MAC address')
    .option('--uuid <uuid>', 'has this SMBIOS UUID')
    .option('--offset <n>', 'skip this many', int(0))
    .option('--limit <n>', 'at most this many (1..1000)', int(1, 1000));

  verb(computers, 'get <id>', 'show one computer', async (run) => {
    show(run, await run.api.get<ComputerView>(`/computers/${enc(run.args[0])}`), computerDetails);
  });

  withComputerFlags(
    verb(computers, 'create', 'create a computer', async (run) => {
      const c = await run.api.post<ComputerView>('/computers', computerBody(run.opts));
      show(run, c, (x) => `created computer ${x.id}\n${computerDetails(x)}`);
    }).requiredOption('--name <name>', 'computer name'),
  );

  verb(computers, 'import <file>', 'import computers from a .csv (name,mac,smbiosUuid[,VAR…]) or .json file; all or nothing', (run) => importFile(run, run.args[0]!));

  withComputerFlags(
    verb(computers, 'update <id>', 'change a computer (only the flags given)', async (run) => {
      const c = await run.api.patch<ComputerView>(`/computers/${enc(run.args[0])}`, computerBody(run.opts));
      show(run, c, (x) => `updated computer ${x.id}\n${computerDetails(x)}`);
    }).option('--name <name>', 'computer name'),
  );

  verb(computers, 'delete <id>', 'delete a computer', async (run) => {
    await run.api.delete(`/computers/${enc(run.args[0])}`);
    show(run, null, () => `deleted computer ${run.args[0]}`);
  });

  verb(computers, 'clear-required-pxe <id>', 'clear Required PXE deployments of one computer so it can PXE boot them again (R-19)', async (run) => {
    const r = await run.api.post<{ cleared: number }>(`/computers/${enc(run.args[0])}/clear-required-pxe`);
    show(run, r, (x) => `cleared ${x.cleared} Required PXE deployment(s) for computer ${run.args[0]}`);
  });
}
