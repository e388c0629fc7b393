/** `osdeploy deployments …`: /api/v1/deployments (R-09…R-16), with the high-risk acknowledgement (R-10). */
import type { Command } from 'commander';
import { ApiError } from '../api-client.js';
import { formatFields, formatTable } from '../table.js';
import { CliError, defined, enc, int, noun, oneOf, show, verb, type Opts } from '../runtime.js';

interface ScheduleTime {
  readonly at: string;
  readonly utc: boolean;
}

interface Deployment {
  readonly id: string;
  readonly taskSequenceId: string;
  readonly collectionId: string;
  readonly comments: string;
  readonly purpose: string;
  readonly availability: string;
  readonly availableFrom: ScheduleTime | null;
  readonly expiresAt: ScheduleTime | null;
  readonly assignments: readonly ({ kind: string; start?: ScheduleTime } & Record<string, unknown>)[];
  readonly rerun: string;
  readonly content: { option: string; useRemoteDistributionPoint: boolean };
  /** Absent on deployments stored before the option existed: false. */
  readonly allowTechnicianMedia?: boolean;
  readonly createdAt: number;
  readonly highRisk: { verdict: string; reasons: readonly string[]; memberCount: number } | null;
}

const AVAILABILITIES = ['clients', 'clientsMediaPxe', 'mediaPxe', 'mediaPxeHidden'];
const RERUN = ['never', 'always', 'ifFailed', 'ifSucceeded'];
const CONTENT = ['downloadAsNeeded', 'downloadAllFirst', 'runFromDistributionPoint'];
const AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;

const time = (t: ScheduleTime | null | undefined): string | null => (t ? `${t.at}${t.utc ? ' UTC' : ' local'}` : null);
const assignment = (a: Deployment['assignments'][number]): string => (a.start ? `${a.kind} ${time(a.start)}` : a.kind);

const details = (d: Deployment): string =>
  formatFields([
    ['id', d.id],
    ['task sequence', d.taskSequenceId],
    ['collection', d.collectionId],
    ['purpose', d.purpose],
    ['availability', d.availability],
    ['available from', time(d.availableFrom)],
    ['expires', time(d.expiresAt)],
    ['assignments', d.assignments.map(assignment)],
    ['rerun', d.rerun],
    ['content', `${d.content.option}${d.content.useRemoteDistributionPoint ? ', remote DP fallback' : ''}`],
    ['technician media', d.allowTechnicianMedia === true ? 'allowed, secrets included (sealed by the media password)' : 'no secrets: administrators build media that carry them'],
    ['high risk', d.highRisk ? `${d.highRisk.verdict}${d.highRisk.reasons.length ? `: ${d.highRisk.reasons.join('; ')}` : ''}` : 'no'],
    ['created', new Date(d.createdAt).toISOString()],
    ['comments', d.comments],
  ]);

function scheduleTime(o: Opts, key: string, flagName: string): ScheduleTime | undefined {
  const at = o[key] as string | undefined;
  if (at === undefined) return undefined;
  if (!AT.test(at)) throw new CliError(`${flagName} must be YYYY-MM-DDTHH:mm`);
  return { at, utc: o.utc === true };
}

function createBody(o: Opts): Record<string, unknown> {
  const assignments: Record<string, unknown>[] = [];
  const once = scheduleTime(o, 'at', '--at');
  if (once) assignments.push({ kind: 'once', start: once });
  if (o.asap) assignments.push({ kind: 'asap' });
  const content = o.content !== undefined || o.remoteFallback ? defined({ option: o.content, useRemoteDistributionPoint: o.remoteFallback ? true : undefined }) : undefined;
  return defined({
    taskSequenceId: o.ts,
    collectionId: o.collection,
    purpose: o.purpose,
    availability: o.availability,
    comments: o.comments,
    assignments: assignments.length ? assignments : undefined,
    availableFrom: scheduleTime(o, 'availableFrom', '--available-from'),
    expiresAt: scheduleTime(o, 'expires', '--expires'),
    rerun: o.rerun,
    sendWakeUpPackets: o.wakeUp ? true : undefined,
    content,
    allowTechnicianMedia: o.allowTechnicianMedia ? true : undefined,
    acknowledgeHighRisk: o.acknowledgeHighRisk ? true : undefined,
  });
}

/** R-10: a warned high-risk deployment needs the administrator's explicit agreement. */
function acknowledgementNeeded(e: ApiError): CliError {
  const reasons = e.body.reasons ?? [e.body.message];
  return new CliError(
    [
      `this is a high-risk deployment and needs acknowledgement (rule ${e.body.rule ?? 'R-10'}):`,
      ...reasons.map((r) => `  - ${r}`),
      'Run the command again with --acknowledge-high-risk to create it anyway; an audit message records that you agreed.',
    ].join('\n'),
  );
}

export function registerDeployments(program: Command): void {
  const deployments = noun(program, 'deployments', 'deployments of task sequences to collections (R-09…R-16)');

  verb(deployments, 'list', 'list deployments', async (run) => {
    const o = run.opts as Record<string, string | number | undefined>;
    const r = await run.api.get<{ items: Deployment[]; total: number }>('/deployments', { collectionId: o.collection, taskSequenceId: o.ts, offset: o.offset, limit: o.limit });
    show(run, r, (x) =>
      formatTable(x.items, [
        { header: 'ID', value: (d) => d.id },
        { header: 'TASK SEQUENCE', value: (d) => d.taskSequenceId },
        { header: 'COLLECTION', value: (d) => d.collectionId },
        { header: 'PURPOSE', value: (d) => d.purpose },
        { header: 'AVAILABLE TO', value: (d) => d.availability },
        { header: 'HIGH RISK', value: (d) => d.highRisk?.verdict ?? 'no' },
        { header: 'CREATED', value: (d) => new Date(d.createdAt).toISOString() },
      ]),
    );
  })
    .option('--collection <id>', 'only deployments to this collection')
    .option('--ts <id>', 'only deployments of this task sequence')
    .option('--offset <n>', 'skip this many', int(0))
    .option('--limit <n>', 'at most this many (1..1000)', int(1, 1000));

  verb(deployments, 'get <id>', 'show one deployment', async (run) => {
    show(run, await run.api.get<Deployment>(`/deployments/${enc(run.args[0])}`), details);
  });

  verb(deployments, 'create', 'deploy a task sequence to a collection', async (run) => {
    let d: Deployment;
    try {
      d = await run.api.post<Deployment>('/deployments', createBody(run.opts));
    } catch (e) {
      if (e instanceof ApiError && e.body.error === 'needs-acknowledgement') throw acknowledgementNeeded(e);
      throw e;
    }
    show(run, d, (x) => `created deployment ${x.id}\n${details(x)}`);
  })
    .requiredOption('--ts <id>', 'task sequence id')
    .requiredOption('--collection <id>', 'collection id')
    .option('--purpose <purpose>', 'available (default) or required', oneOf(['available', 'required']))
    .option('--availability <to>', `make available to: ${AVAILABILITIES.join(', ')}`, oneOf(AVAILABILITIES))
    .option('--asap', 'Required: assign as soon as possible')
    .option('--at <YYYY-MM-DDTHH:mm>', 'Required: assign once at this time')
    .option('--utc', 'times are UTC (default: the client local time)')
    .option('--available-from <YYYY-MM-DDTHH:mm>', 'available from this time')
    .option('--expires <YYYY-MM-DDTHH:mm>', 'expires at this time')
    .option('--rerun <behaviour>', RERUN.join(', '), oneOf(RERUN))
    .option('--content <option>', CONTENT.join(', '), oneOf(CONTENT))
    .option('--remote-fallback', 'use a remote distribution point when no local one is available')
    .option('--wake-up', 'Required: send wake-up packets')
    .option('--comments <text>', 'comments')
    .option('--allow-technician-media', 'technicians may build standalone and prestaged media that carry its secrets (R-31; default: administrators only)')
    .option('--acknowledge-high-risk', 'agree to a high-risk deployment (R-10)');

  verb(deployments, 'delete <id>', 'delete a deployment', async (run) => {
    await run.api.delete(`/deployments/${enc(run.args[0])}`);
    show(run, null, () => `deleted deployment ${run.args[0]}`);
  });
}
