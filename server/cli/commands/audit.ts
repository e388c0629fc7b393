/** `osdeploy audit`: the audit log, newest first. */
import type { Command } from 'commander';
import { formatTable } from '../table.js';
import { int, show, verb } from '../runtime.js';

interface AuditRecord {
  readonly seq: number;
  readonly at: number;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly message: string;
}

export function registerAudit(program: Command): void {
  verb(program, 'audit', 'show the audit log, newest first', async (run) => {
    const o = run.opts as Record<string, string | number | undefined>;
    const r = await run.api.get<{ total: number; items: AuditRecord[] }>('/audit', { limit: o.limit, offset: o.offset, action: o.action, target: o.target });
    show(run, r, (x) =>
      formatTable(x.items, [
        { header: 'SEQ', value: (a) => a.seq },
        { header: 'AT', value: (a) => new Date(a.at).toISOString() },
        { header: 'ACTOR', value: (a) => a.actor },
        { header: 'ACTION', value: (a) => a.action },
        { header: 'MESSAGE', value: (a) => a.message },
      ]),
    );
  })
    .option('--limit <n>', 'at most this many (1..1000, default 100)', int(1, 1000))
    .option('--offset <n>', 'skip this many', int(0))
    .option('--action <action>', 'only this action, e.g. deployment.created')
    .option('--target <id>', 'only records about this object');
}
