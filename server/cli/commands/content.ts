/** `osdeploy content …`: content objects, imports from source folders and versions. */
import path from 'node:path';
import type { Command } from 'commander';
import { bytes } from '../progress.js';
import { formatFields, formatTable } from '../table.js';
import { defined, enc, ids, int, noun, oneOf, show, verb, type Opts } from '../runtime.js';
import { registerContentDistribution } from './content-distribution.js';

const KINDS = ['bootImage', 'osImage', 'osUpgradePackage', 'driverPackage', 'package', 'application'];

interface VersionSummary {
  readonly version: number;
  readonly createdAt: string;
  readonly totalSize: number;
  readonly fileCount: number;
  readonly manifestSha256: string;
}

interface ContentView {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly usable: boolean;
  readonly unusableReason?: string;
  readonly sourcePath: string;
  readonly dependencies?: readonly string[];
  readonly allowRunFromDistributionPoint?: boolean;
  readonly architecture?: string;
  readonly currentVersion: VersionSummary | null;
  readonly imported?: { version: number; changed: boolean };
}

const contentTable = (items: readonly ContentView[]): string =>
  formatTable(items, [
    { header: 'ID', value: (c) => c.id },
    { header: 'KIND', value: (c) => c.kind },
    { header: 'NAME', value: (c) => c.name },
    { header: 'USABLE', value: (c) => c.usable },
    { header: 'VERSION', value: (c) => c.currentVersion?.version },
    { header: 'SIZE', value: (c) => (c.currentVersion ? bytes(c.currentVersion.totalSize) : undefined) },
    { header: 'ARCH', value: (c) => c.architecture },
    { header: 'RUN FROM DP', value: (c) => c.allowRunFromDistributionPoint ?? false },
    { header: 'DEPENDS ON', value: (c) => c.dependencies },
  ]);

const versionTable = (items: readonly VersionSummary[]): string =>
  formatTable(items, [
    { header: 'VERSION', value: (v) => v.version },
    { header: 'CREATED', value: (v) => v.createdAt },
    { header: 'FILES', value: (v) => v.fileCount },
    { header: 'SIZE', value: (v) => bytes(v.totalSize) },
    { header: 'MANIFEST SHA256', value: (v) => v.manifestSha256 },
  ]);

/** Fields shared by create and import: what kind of object, and its kind-specific settings. */
function contentBody(o: Opts) {
  return defined({ kind: o.kind, name: o.name, dependencies: o.dep, allowRunFromDistributionPoint: o.allowRunFromDp, architecture: o.arch });
}

const withContentOptions = (c: Command): Command =>
  c
    .option('--dep <id>', 'depends on this content object (applications; repeat or comma-separate)', ids)
    .option('--allow-run-from-dp', 'content may run from the distribution point share (R-16)')
    .option('--arch <arch>', 'architecture of a boot or OS image: x86, x64 or arm64', oneOf(['x86', 'x64', 'arm64']));

export function registerContent(program: Command): void {
  const content = noun(program, 'content', 'content objects, their versions, distribution and prestaged files');

  verb(content, 'list', 'list content objects', async (run) => {
    const r = await run.api.get<{ items: ContentView[] }>('/content');
    show(run, r, (x) => contentTable(x.items));
  });

  withContentOptions(
    verb(content, 'create', 'register a content object without source files', async (run) => {
      const c = await run.api.post<ContentView>('/content', contentBody(run.opts));
      show(run, c, (x) => `created ${x.kind} ${x.id} (${x.name})`);
    })
      .requiredOption('--kind <kind>', KINDS.join(', '), oneOf(KINDS))
      .requiredOption('--name <name>', 'name'),
  );

  withContentOptions(
    verb(content, 'import', 'import a source folder: a new content object (--name, --kind) or the next version of --id', async (run) => {
      const o = run.opts;
      // The service reads the folder: an absolute path means the same folder when both run on one host.
      const sourcePath = o.source === undefined ? undefined : path.resolve(String(o.source));
      if (o.id) {
        const r = await run.api.post<{ content: ContentView; changed: boolean; version: VersionSummary }>(`/content/${enc(String(o.id))}/import`, defined({ sourcePath }));
        show(run, r, (x) =>
          x.changed
            ? `imported ${x.content.id} version ${x.version.version}: ${x.version.fileCount} file(s), ${bytes(x.version.totalSize)}`
            : `${x.content.id} unchanged: still version ${x.version.version}`,
        );
        return;
      }
      if (!o.kind || !o.name || !sourcePath) throw new Error('a new content object needs --kind, --name and --source (or give --id to re-import)');
      const c = await run.api.post<ContentView>('/content', { ...contentBody(o), sourcePath });
      const v = c.currentVersion!;
      show(run, c, (x) => `imported ${x.kind} ${x.id} (${x.name}) version ${v.version}: ${v.fileCount} file(s), ${bytes(v.totalSize)}`);
    })
      .option('--id <id>', 're-import this content object (its recorded source unless --source is given)')
      .option('--kind <kind>', KINDS.join(', '), oneOf(KINDS))
      .option('--name <name>', 'name of a new content object')
      .option('--source <dir>', 'the source folder'),
  );

  verb(content, 'show <id>', 'show a content object and its current version', async (run) => {
    const c = await run.api.get<ContentView>(`/content/${enc(run.args[0])}`);
    show(run, c, (x) =>
      formatFields([
        ['id', x.id],
        ['kind', x.kind],
        ['name', x.name],
        ['usable', x.usable ? 'yes' : `no: ${x.unusableReason ?? ''}`],
        ['source', x.sourcePath],
        ['version', x.currentVersion ? `${x.currentVersion.version} (${x.currentVersion.fileCount} files, ${bytes(x.currentVersion.totalSize)})` : null],
        ['manifest', x.currentVersion?.manifestSha256],
      ]),
    );
  });

  verb(content, 'versions <id>', 'list the versions of a content object', async (run) => {
    const r = await run.api.get<{ items: VersionSummary[] }>(`/content/${enc(run.args[0])}/versions`);
    show(run, r, (x) => versionTable(x.items));
  });

  verb(content, 'files <id>', 'list the files of a version (default: current)', async (run) => {
    const id = enc(run.args[0]);
    const version = (run.opts.version as number | undefined) ?? (await run.api.get<ContentView>(`/content/${id}`)).currentVersion?.version;
    if (version === undefined) throw new Error(`${run.args[0]} has no version yet`);
    const v = await run.api.get<{ files: { path: string; size: number; sha256: string }[] }>(`/content/${id}/versions/${version}`);
    show(run, v, (x) => formatTable(x.files, [{ header: 'PATH', value: (f) => f.path }, { header: 'SIZE', value: (f) => f.size }, { header: 'SHA256', value: (f) => f.sha256 }]));
  }).option('--version <n>', 'version number', int(1));

  verb(content, 'delete <id>', 'delete a content object that nothing references', async (run) => {
    await run.api.delete(`/content/${enc(run.args[0])}`);
    show(run, null, () => `deleted content ${run.args[0]}`);
  });

  registerContentDistribution(content);
}
