/** `osdeploy content …`: /api/v1/content, the content objects task sequences reference. */
import type { Command } from 'commander';
import { formatTable } from '../table.js';
import { defined, enc, ids, noun, oneOf, show, verb } from '../runtime.js';

const KINDS = ['bootImage', 'osImage', 'osUpgradePackage', 'driverPackage', 'package', 'application'];

interface ContentInfo {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly usable: boolean;
  readonly dependencies?: readonly string[];
  readonly allowRunFromDistributionPoint?: boolean;
  readonly architecture?: string;
}

const contentTable = (items: readonly ContentInfo[]): string =>
  formatTable(items, [
    { header: 'ID', value: (c) => c.id },
    { header: 'KIND', value: (c) => c.kind },
    { header: 'NAME', value: (c) => c.name },
    { header: 'USABLE', value: (c) => c.usable },
    { header: 'ARCH', value: (c) => c.architecture },
    { header: 'RUN FROM DP', value: (c) => c.allowRunFromDistributionPoint ?? false },
    { header: 'DEPENDS ON', value: (c) => c.dependencies },
  ]);

export function registerContent(program: Command): void {
  const content = noun(program, 'content', 'content objects: boot images, OS images, packages, applications');

  verb(content, 'list', 'list content objects', async (run) => {
    const r = await run.api.get<{ items: ContentInfo[] }>('/content');
    show(run, r, (x) => contentTable(x.items));
  });

  verb(content, 'create', 'register a content object', async (run) => {
    const o = run.opts;
    const body = defined({ kind: o.kind, name: o.name, dependencies: o.dep, allowRunFromDistributionPoint: o.allowRunFromDp, architecture: o.arch });
    const c = await run.api.post<ContentInfo>('/content', body);
    show(run, c, (x) => `created ${x.kind} ${x.id} (${x.name})`);
  })
    .requiredOption('--kind <kind>', KINDS.join(', '), oneOf(KINDS))
    .requiredOption('--name <name>', 'name')
    .option('--dep <id>', 'depends on this content object (repeat or comma-separate)', ids)
    .option('--allow-run-from-dp', 'content may run from the distribution point share (R-16)')
    .option('--arch <arch>', 'architecture: x86, x64 or arm64', oneOf(['x86', 'x64', 'arm64']));

  verb(content, 'delete <id>', 'delete a content object that nothing references', async (run) => {
    await run.api.delete(`/content/${enc(run.args[0])}`);
    show(run, null, () => `deleted content ${run.args[0]}`);
  });
}
