/** `osdeploy folders …`: /api/v1/folders, the nesting folders task sequences live in. */
import type { Command } from 'commander';
import { formatTable } from '../table.js';
import { defined, enc, noun, show, verb } from '../runtime.js';

interface Folder {
  readonly id: string;
  readonly name: string;
  readonly parentId: string | null;
  readonly path?: string;
}

export function registerFolders(program: Command): void {
  const folders = noun(program, 'folders', 'task sequence folders');

  verb(folders, 'list', 'list folders by path', async (run) => {
    const r = await run.api.get<{ items: Folder[] }>('/folders');
    show(run, r, (x) =>
      formatTable(x.items, [
        { header: 'ID', value: (f) => f.id },
        { header: 'PATH', value: (f) => f.path },
        { header: 'PARENT', value: (f) => f.parentId },
      ]),
    );
  });

  verb(folders, 'create', 'create a folder', async (run) => {
    const parent = run.opts.parent as string | undefined;
    const f = await run.api.post<Folder>('/folders', defined({ name: run.opts.name, parentId: parent === 'root' ? null : parent }));
    show(run, f, (x) => `created folder ${x.id} (${x.name})`);
  })
    .requiredOption('--name <name>', 'folder name')
    .option('--parent <id>', 'parent folder id (default: the top level)');

  verb(folders, 'delete <id>', 'delete an empty folder', async (run) => {
    await run.api.delete(`/folders/${enc(run.args[0])}`);
    show(run, null, () => `deleted folder ${run.args[0]}`);
  });
}
