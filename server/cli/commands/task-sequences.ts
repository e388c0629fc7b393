/**
 * `osdeploy ts …`: /api/v1/task-sequences — create by type (R-01), references (R-04), copy,
 * enable, disable, move, properties (R-05), and the step catalog (R-03). Editing is in ts-edit.ts,
 * export and import (R-27, R-28) in ts-export.ts.
 */
import type { Command } from 'commander';
import { formatFields, formatTable } from '../table.js';
import { countItems, formatTaskSequence, type TaskSequenceView } from '../ts-tree.js';
import { CliError, defined, enc, ids, int, noun, oneOf, show, verb, type Opts, type Run } from '../runtime.js';
import { templateHelp, templateOperations, TEMPLATE_NAMES } from '../ts-templates.js';
import { registerTsEdits } from './ts-edit.js';
import { registerTsExport } from './ts-export.js';

const TS_TYPES = ['installOs', 'upgradeOs', 'buildCaptureOs', 'userState', 'vhd', 'custom'];

interface PropertyDef {
  readonly name: string;
  readonly kind: string;
  readonly required?: boolean;
  readonly secret?: boolean;
  readonly values?: readonly string[];
  readonly refKind?: string;
  readonly default?: unknown;
}

export interface StepTypeDef {
  readonly type: string;
  readonly displayName: string;
  readonly category: string;
  readonly description: string;
  readonly runsIn?: string;
  readonly properties: readonly PropertyDef[];
}

export interface StepTypes {
  readonly categories: readonly { category: string; steps: readonly StepTypeDef[] }[];
}

interface ReferenceReport {
  readonly ok: boolean;
  readonly content: readonly { id: string; kind: string; name: string; usable: boolean }[];
  readonly problems: readonly { via: string; kind: string | null; id: string | null; reason: string }[];
}

/** `root` means the top level, as the API's `folderId` filter takes it. */
const folderArg = (v: string): string | null => (v === 'root' ? null : v);

export const tsTable = (items: readonly TaskSequenceView[]): string =>
  formatTable(items, [
    { header: 'ID', value: (t) => t.id },
    { header: 'NAME', value: (t) => t.name },
    { header: 'TYPE', value: (t) => t.type },
    { header: 'ENABLED', value: (t) => t.enabled },
    { header: 'FOLDER', value: (t) => t.folderPath },
    { header: 'STEPS', value: (t) => countItems(t.items) },
    { header: 'DEPLOYS OS', value: (t) => t.deploysOs },
  ]);

/** The Create Task Sequence wizard's answers from flags. */
function createBody(o: Opts): Record<string, unknown> {
  if (o.domain !== undefined && o.workgroup !== undefined) throw new CliError('give --domain or --workgroup, not both');
  let join: Record<string, unknown> | undefined;
  if (o.domain !== undefined) {
    if (o.domainAccount === undefined || o.domainPassword === undefined) throw new CliError('--domain needs --domain-account and --domain-password');
    join = defined({ mode: 'domain', domain: o.domain, ou: o.domainOu, account: o.domainAccount, password: o.domainPassword });
  } else if (o.workgroup !== undefined) join = { mode: 'workgroup', workgroup: o.workgroup };
  const captureGiven = [o.captureDestination, o.captureAccount, o.capturePassword].some((v) => v !== undefined);
  return defined({
    type: o.type,
    name: o.name,
    description: o.description,
    folderId: o.folder === undefined ? undefined : folderArg(o.folder as string),
    bootImageId: o.bootImage,
    osImageId: o.osImage,
    imageIndex: o.imageIndex,
    osUpgradePackageId: o.upgradePackage,
    productKey: o.productKey,
    join,
    clientPackageId: o.clientPackage,
    driverPackageIds: o.driverPackage,
    applicationIds: o.app,
    updates: o.updates,
    userState: o.usmtPackage === undefined ? undefined : defined({ usmtPackageId: o.usmtPackage, storePath: o.stateStore }),
    capture: captureGiven ? defined({ destination: o.captureDestination, account: o.captureAccount, password: o.capturePassword }) : undefined,
  });
}

function stepTypeDetails(def: StepTypeDef): string {
  const head = formatFields([
    ['type', def.type],
    ['name', def.displayName],
    ['category', def.category],
    ['runs in', def.runsIn],
    ['description', def.description],
  ]);
  const props = formatTable(def.properties, [
    { header: 'PROPERTY', value: (p) => p.name },
    { header: 'KIND', value: (p) => (p.refKind ? `${p.kind}:${p.refKind}` : p.kind) },
    { header: 'REQUIRED', value: (p) => p.required === true },
    { header: 'SECRET', value: (p) => p.secret === true },
    { header: 'DEFAULT', value: (p) => p.default },
    { header: 'VALUES', value: (p) => p.values },
  ]);
  return `${head}\n${props}`;
}

/** Options of the site's Windows types that a template has no use for. */
const NOT_FOR_TEMPLATES: readonly [string, string][] = [
  ['upgradePackage', '--upgrade-package'], ['productKey', '--product-key'], ['domain', '--domain'], ['domainOu', '--domain-ou'],
  ['domainAccount', '--domain-account'], ['domainPassword', '--domain-password'], ['workgroup', '--workgroup'],
  ['clientPackage', '--client-package'], ['driverPackage', '--driver-package'], ['app', '--app'], ['updates', '--updates'],
  ['usmtPackage', '--usmt-package'], ['stateStore', '--state-store'], ['captureDestination', '--capture-destination'],
  ['captureAccount', '--capture-account'], ['capturePassword', '--capture-password'],
];

/** `--template`: a custom task sequence, then the template's steps in one edit; no half-made sequence stays. */
async function createFromTemplate(run: Run): Promise<TaskSequenceView> {
  const o = run.opts;
  const name = String(o.template);
  const unused = NOT_FOR_TEMPLATES.filter(([key]) => o[key] !== undefined).map(([, flag]) => flag);
  if (unused.length) throw new CliError(`--template ${name} does not take ${unused.join(', ')}`);
  const ops = templateOperations(name, defined({ bootImageId: o.bootImage as string | undefined, osImageId: o.osImage as string | undefined, imageIndex: o.imageIndex as number | undefined }));
  if (typeof ops === 'string') throw new CliError(ops);
  const body = defined({ type: 'custom', name: o.name, description: o.description, folderId: o.folder === undefined ? undefined : folderArg(o.folder as string), bootImageId: o.bootImage });
  const made = await run.api.post<TaskSequenceView>('/task-sequences', body);
  try {
    return await run.api.post<TaskSequenceView>(`/task-sequences/${enc(made.id)}/edits`, { operations: ops });
  } catch (e) {
    await run.api.delete(`/task-sequences/${enc(made.id)}`).catch(() => undefined);
    throw e;
  }
}

function registerCreate(ts: Command): void {
  verb(ts, 'create', 'create a task sequence by type (R-01: non-custom types get their standard steps) or from a template', async (run) => {
    const o = run.opts;
    if ((o.type === undefined) === (o.template === undefined)) throw new CliError('give --type or --template (one of them)');
    const t = o.template !== undefined ? await createFromTemplate(run) : await run.api.post<TaskSequenceView>('/task-sequences', createBody(o));
    show(run, t, (x) => `created task sequence ${x.id}${o.template !== undefined ? ` from template ${String(o.template)}` : ''}\n${formatTaskSequence(x)}`);
  })
    .option('--type <type>', TS_TYPES.join(', '), oneOf(TS_TYPES))
    .option('--template <name>', `a template instead of a type: ${templateHelp()}`, oneOf(TEMPLATE_NAMES))
    .requiredOption('--name <name>', 'task sequence name')
    .option('--description <text>', 'description')
    .option('--folder <id>', 'folder id, or root')
    .option('--boot-image <id>', 'boot image (needed by installOs, buildCaptureOs, vhd and the templates)')
    .option('--os-image <id>', 'operating system image to apply')
    .option('--image-index <n>', 'image index in the OS image', int(1))
    .option('--upgrade-package <id>', 'OS upgrade package (upgradeOs)')
    .option('--product-key <key>', 'product key')
    .option('--domain <domain>', 'join this domain')
    .option('--domain-ou <ou>', 'organizational unit for the domain join')
    .option('--domain-account <account>', 'account that joins the domain')
    .option('--domain-password <password>', 'its password (write-only)')
    .option('--workgroup <name>', 'join this workgroup')
    .option('--client-package <id>', 'Configuration Manager client package')
    .option('--driver-package <id>', 'driver package to apply (repeat; none means Auto Apply Drivers)', ids)
    .option('--app <id>', 'application to install (repeat)', ids)
    .option('--updates <which>', 'software updates: none, required or all', oneOf(['none', 'required', 'all']))
    .option('--usmt-package <id>', 'USMT package: capture and restore user state')
    .option('--state-store <path>', 'user state store path')
    .option('--capture-destination <path>', 'buildCaptureOs: where the captured image goes')
    .option('--capture-account <account>', 'buildCaptureOs: account that writes it')
    .option('--capture-password <password>', 'buildCaptureOs: its password (write-only)');
}

function registerActions(ts: Command): void {
  const path = (run: { args: readonly string[] }, tail = '') => `/task-sequences/${enc(run.args[0])}${tail}`;

  verb(ts, 'references <id>', 'check every content reference, dependencies included (R-04)', async (run) => {
    const r = await run.api.get<ReferenceReport>(path(run, '/references'));
    show(run, r, (x) => {
      const content = formatTable(x.content, [
        { header: 'ID', value: (c) => c.id },
        { header: 'KIND', value: (c) => c.kind },
        { header: 'NAME', value: (c) => c.name },
        { header: 'USABLE', value: (c) => c.usable },
      ]);
      const status = x.ok ? 'references: ok' : `references: ${x.problems.length} problem(s)`;
      const problems = x.problems.length
        ? `\n${formatTable(x.problems, [
            { header: 'WHERE', value: (p) => p.via },
            { header: 'KIND', value: (p) => p.kind },
            { header: 'ID', value: (p) => p.id },
            { header: 'PROBLEM', value: (p) => p.reason },
          ])}`
        : '';
      return `${status}\n${content}${problems}`;
    });
  });

  verb(ts, 'copy <id>', 'copy a task sequence (into the root folder)', async (run) => {
    const t = await run.api.post<TaskSequenceView>(path(run, '/copy'), defined({ name: run.opts.name }));
    show(run, t, (x) => `copied ${run.args[0]} to ${x.id} (${x.name})`);
  }).option('--name <name>', 'name of the copy (default: "<name> - Copy")');

  for (const [name, verbText] of [['enable', 'enabled'], ['disable', 'disabled']] as const) {
    verb(ts, `${name} <id>`, `${name} a task sequence; deployments stay (R-05)`, async (run) => {
      const t = await run.api.post<TaskSequenceView>(path(run, `/${name}`));
      show(run, t, (x) => `${verbText} task sequence ${x.id} (${x.name})`);
    });
  }

  verb(ts, 'move <id>', 'move a task sequence to a folder', async (run) => {
    const t = await run.api.post<TaskSequenceView>(path(run, '/move'), { folderId: folderArg(run.opts.folder as string) });
    show(run, t, (x) => `moved task sequence ${x.id} to ${x.folderPath}`);
  }).requiredOption('--folder <id>', 'folder id, or root');

  verb(ts, 'set <id>', 'change properties: name, description, boot image (R-05)', async (run) => {
    const o = run.opts;
    const body = defined({ name: o.name, description: o.description, bootImageId: o.bootImage === 'none' ? null : o.bootImage });
    if (Object.keys(body).length === 0) throw new CliError('give at least one of --name, --description, --boot-image');
    const t = await run.api.patch<TaskSequenceView>(path(run), body);
    show(run, t, (x) => `updated task sequence ${x.id}\n${formatTaskSequence(x)}`);
  })
    .option('--name <name>', 'new name')
    .option('--description <text>', 'new description')
    .option('--boot-image <id>', 'boot image id, or none');

  verb(ts, 'delete <id>', 'delete a task sequence (it must have no deployments)', async (run) => {
    await run.api.delete(path(run));
    show(run, null, () => `deleted task sequence ${run.args[0]}`);
  });
}

export function registerTaskSequences(program: Command): void {
  const ts = noun(program, 'ts', 'task sequences: create, edit, reference check, copy, enable, move, export, import (R-01…R-05, R-27, R-28)');

  verb(ts, 'list', 'list task sequences', async (run) => {
    const r = await run.api.get<{ items: TaskSequenceView[] }>('/task-sequences', { folderId: run.opts.folder as string | undefined });
    show(run, r, (x) => tsTable(x.items));
  }).option('--folder <id>', 'only this folder (root: the top level)');

  verb(ts, 'get <id>', 'show a task sequence and its step tree', async (run) => {
    show(run, await run.api.get<TaskSequenceView>(`/task-sequences/${enc(run.args[0])}`), formatTaskSequence);
  });

  registerCreate(ts);
  registerTsEdits(ts);
  registerActions(ts);
  registerTsExport(ts);

  verb(ts, 'step-types [type]', 'the step catalog by category, or one type with its properties (R-03)', async (run) => {
    const r = await run.api.get<StepTypes>('/step-types');
    const wanted = run.args[0];
    if (wanted) {
      const def = r.categories.flatMap((c) => c.steps).find((s) => s.type.toLowerCase() === wanted.toLowerCase());
      if (!def) throw new CliError(`no step type ${wanted}; see osdeploy ts step-types`);
      return show(run, def, stepTypeDetails);
    }
    show(run, r, (x) =>
      x.categories
        .map((c) => `${c.category}:\n${formatTable(c.steps, [
          { header: '  TYPE', value: (s) => `  ${s.type}` },
          { header: 'NAME', value: (s) => s.displayName },
          { header: 'RUNS IN', value: (s) => s.runsIn },
        ])}`)
        .join('\n\n'),
    );
  });
}
