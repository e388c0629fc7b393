/** `osdeploy points …`: distribution points, groups and collection associations. */
import type { Command } from 'commander';
import { formatTable } from '../table.js';
import { defined, enc, ids, noun, show, verb } from '../runtime.js';

interface Point {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly url: string | null;
  readonly collections: readonly string[];
  readonly hasToken: boolean;
  readonly holdings: { installed: number; inProgress: number; failed: number };
}

interface Group {
  readonly id: string;
  readonly name: string;
  readonly pointIds: readonly string[];
  readonly collections: readonly string[];
}

const pointTable = (items: readonly Point[]): string =>
  formatTable(items, [
    { header: 'ID', value: (p) => p.id },
    { header: 'NAME', value: (p) => p.name },
    { header: 'KIND', value: (p) => p.kind },
    { header: 'URL', value: (p) => p.url ?? '(this site)' },
    { header: 'INSTALLED', value: (p) => p.holdings.installed },
    { header: 'IN PROGRESS', value: (p) => p.holdings.inProgress },
    { header: 'FAILED', value: (p) => p.holdings.failed },
    { header: 'COLLECTIONS', value: (p) => p.collections },
  ]);

const groupTable = (items: readonly Group[]): string =>
  formatTable(items, [
    { header: 'ID', value: (g) => g.id },
    { header: 'NAME', value: (g) => g.name },
    { header: 'POINTS', value: (g) => g.pointIds },
    { header: 'COLLECTIONS', value: (g) => g.collections },
  ]);

export function registerPoints(program: Command): void {
  const points = noun(program, 'points', 'distribution points, point groups and collection associations');

  verb(points, 'list', 'list distribution points', async (run) => {
    const r = await run.api.get<{ items: Point[] }>('/distribution-points');
    show(run, r, (x) => pointTable(x.items));
  });

  verb(points, 'add', 'register a remote point: another osdeploy service, by URL and one of its admin tokens', async (run) => {
    const o = run.opts;
    const p = await run.api.post<Point>('/distribution-points', defined({ name: o.name, url: o.url, token: o.pointToken, description: o.description }));
    show(run, p, (x) => `registered distribution point ${x.id} (${x.name}) at ${x.url}`);
  })
    .requiredOption('--name <name>', 'name')
    .requiredOption('--url <url>', "the point service's URL")
    // --token is the CLI's own token for this site; the point's token is a separate option.
    .requiredOption('--point-token <token>', 'an admin token of the point service (stored write-only)')
    .option('--description <text>', 'description');

  verb(points, 'remove <id>', 'unregister a remote point', async (run) => {
    await run.api.delete(`/distribution-points/${enc(run.args[0])}`);
    show(run, null, () => `removed distribution point ${run.args[0]}`);
  });

  verb(points, 'associate', 'make a collection reach a point or group when content is distributed to it', async (run) => {
    const o = run.opts;
    const target = (o.point ?? o.group) as string | undefined;
    if (!target || (o.point && o.group)) throw new Error('give --point ID or --group ID');
    const path = `/collections/${enc(String(o.collection))}/distribution-points/${enc(target)}`;
    const r = o.remove ? await run.api.request('DELETE', path, {}) : await run.api.request('PUT', path, {});
    show(run, r, (x) => {
      const a = x as { collectionId: string; pointIds: string[]; groupIds: string[] };
      return `collection ${a.collectionId}: points ${a.pointIds.join(', ') || '-'}; groups ${a.groupIds.join(', ') || '-'}`;
    });
  })
    .requiredOption('--collection <id>', 'the collection')
    .option('--point <id>', 'a distribution point')
    .option('--group <id>', 'a distribution point group')
    .option('--remove', 'remove the association instead');

  const groups = points.command('groups').description('distribution point groups');
  verb(groups, 'list', 'list groups', async (run) => {
    const r = await run.api.get<{ items: Group[] }>('/distribution-point-groups');
    show(run, r, (x) => groupTable(x.items));
  });
  verb(groups, 'create', 'create a group', async (run) => {
    const o = run.opts;
    const g = await run.api.post<Group>('/distribution-point-groups', defined({ name: o.name, pointIds: o.point, description: o.description }));
    show(run, g, (x) => `created distribution point group ${x.id} (${x.name}) with ${x.pointIds.join(', ') || 'no points'}`);
  })
    .requiredOption('--name <name>', 'name')
    .option('--point <id>', 'member points (repeat or comma-separate)', ids)
    .option('--description <text>', 'description');
  verb(groups, 'set-points <id>', 'replace the member points of a group', async (run) => {
    const g = await run.api.patch<Group>(`/distribution-point-groups/${enc(run.args[0])}`, { pointIds: run.opts.point ?? [] });
    show(run, g, (x) => `${x.id} (${x.name}): ${x.pointIds.join(', ') || 'no points'}`);
  }).option('--point <id>', 'member points (repeat or comma-separate)', ids);
  verb(groups, 'delete <id>', 'delete a group', async (run) => {
    await run.api.delete(`/distribution-point-groups/${enc(run.args[0])}`);
    show(run, null, () => `deleted distribution point group ${run.args[0]}`);
  });
}
