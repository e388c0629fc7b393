/** `osdeploy collections …`: /api/v1/collections (rules, members, variables with precedence). */
import type { Command } from 'commander';
import { formatFields, formatTable } from '../table.js';
import { defined, enc, ids, int, many, noun, show, variableLines, variablesOf, verb, type Opts } from '../runtime.js';

interface CollectionView {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly builtIn: string | null;
  readonly limitingCollectionId: string | null;
  readonly directMemberIds: readonly string[];
  readonly includeCollectionIds: readonly string[];
  readonly excludeCollectionIds: readonly string[];
  readonly variables: readonly { name: string; value: string | null; hidden: boolean }[];
  readonly variablePrecedence: number;
  readonly memberCount: number;
}

const details = (c: CollectionView): string =>
  [
    formatFields([
      ['id', c.id],
      ['name', c.name],
      ['description', c.description],
      ['built-in', c.builtIn ?? false],
      ['limited to', c.limitingCollectionId],
      ['direct members', c.directMemberIds],
      ['include', c.includeCollectionIds],
      ['exclude', c.excludeCollectionIds],
      ['precedence', c.variablePrecedence],
      ['members', c.memberCount],
    ]),
    variableLines(c.variables),
  ].join('\n');

function body(opts: Opts): Record<string, unknown> {
  return defined({
    name: opts.name,
    description: opts.description,
    limitingCollectionId: opts.limitTo,
    directMemberIds: opts.member,
    includeCollectionIds: opts.include,
    excludeCollectionIds: opts.exclude,
    variables: variablesOf(opts),
    variablePrecedence: opts.precedence,
  });
}

const withFlags = (cmd: Command): Command =>
  cmd
    .option('--description <text>', 'description')
    .option('--limit-to <id>', 'limiting collection: members must also be in it')
    .option('--member <id>', 'direct member computer id (repeat or comma-separate; replaces the list on update)', ids)
    .option('--include <id>', 'include the members of this collection (repeat)', ids)
    .option('--exclude <id>', 'exclude the members of this collection (repeat)', ids)
    .option('--var <NAME=VALUE>', 'collection variable (repeat; replaces the list on update)', many)
    .option('--hidden-var <NAME=VALUE>', 'variable whose value is never displayed (repeat)', many)
    .option('--precedence <n>', 'variable precedence, 1 (lowest) to 9 (highest)', int(1, 9));

export function registerCollections(program: Command): void {
  const collections = noun(program, 'collections', 'device collections: members, rules, variables (R-17, R-23)');

  verb(collections, 'list', 'list collections', async (run) => {
    const r = await run.api.get<{ items: CollectionView[] }>('/collections');
    show(run, r, (x) =>
      formatTable(x.items, [
        { header: 'ID', value: (c) => c.id },
        { header: 'NAME', value: (c) => c.name },
        { header: 'MEMBERS', value: (c) => c.memberCount },
        { header: 'LIMITED TO', value: (c) => c.limitingCollectionId },
        { header: 'BUILT-IN', value: (c) => c.builtIn !== null },
        { header: 'PRECEDENCE', value: (c) => c.variablePrecedence },
      ]),
    );
  });

  verb(collections, 'get <id>', 'show one collection', async (run) => {
    show(run, await run.api.get<CollectionView>(`/collections/${enc(run.args[0])}`), details);
  });

  verb(collections, 'members <id>', 'list the computer ids that are members now', async (run) => {
    const r = await run.api.get<{ total: number; computerIds: string[] }>(`/collections/${enc(run.args[0])}/members`);
    show(run, r, (x) => [`${x.total} member(s)`, ...x.computerIds].join('\n'));
  });

  withFlags(
    verb(collections, 'create', 'create a collection', async (run) => {
      const c = await run.api.post<CollectionView>('/collections', body(run.opts));
      show(run, c, (x) => `created collection ${x.id}\n${details(x)}`);
    }).requiredOption('--name <name>', 'collection name'),
  );

  withFlags(
    verb(collections, 'update <id>', 'change a collection (only the flags given)', async (run) => {
      const c = await run.api.patch<CollectionView>(`/collections/${enc(run.args[0])}`, body(run.opts));
      show(run, c, (x) => `updated collection ${x.id}\n${details(x)}`);
    }).option('--name <name>', 'collection name'),
  );

  verb(collections, 'delete <id>', 'delete a collection', async (run) => {
    await run.api.delete(`/collections/${enc(run.args[0])}`);
    show(run, null, () => `deleted collection ${run.args[0]}`);
  });

  verb(collections, 'clear-required-pxe <id>', 'clear Required PXE deployments for every member (R-19)', async (run) => {
    const r = await run.api.post<{ cleared: number }>(`/collections/${enc(run.args[0])}/clear-required-pxe`);
    show(run, r, (x) => `cleared ${x.cleared} Required PXE deployment(s) for collection ${run.args[0]}`);
  });
}
