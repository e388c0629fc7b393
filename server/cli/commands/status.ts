/**
 * Status on the CLI (R-30): `osdeploy deployments watch ID` (a live view: redrawn every 2 s on
 * a terminal, plain lines when something changed otherwise, `--once` for one look),
 * `osdeploy computers status ID` (run history) and `osdeploy alerts list`.
 */
import type { Command } from 'commander';
import { formatTable } from '../table.js';
import { enc, int, noun, show, verb, type Run } from '../runtime.js';

interface LastMessage {
  readonly kind: string;
  readonly at: number;
  readonly step?: { readonly name: string; readonly type: string };
  readonly outcome?: string;
  readonly exitCode?: number;
  readonly message?: string;
}

interface DeploymentStatus {
  readonly deploymentId: string;
  readonly collectionId: string;
  readonly counts: { success: number; inProgress: number; error: number; unknown: number; total: number };
  readonly computers: readonly { computerId: string; name: string | null; state: string; last: LastMessage | null }[];
}

const lastOf = (m: LastMessage | null): string => {
  if (!m) return '-';
  const what = m.step ? `${m.kind} ${m.step.name}` : m.kind;
  const detail = [m.outcome, m.exitCode !== undefined ? `exit ${m.exitCode}` : '', m.message].filter(Boolean).join(', ');
  return `${what}${detail ? ` (${detail})` : ''}`;
};

export function renderDeploymentStatus(s: DeploymentStatus): string {
  const c = s.counts;
  const head = `deployment ${s.deploymentId} to ${s.collectionId}: success ${c.success}, in progress ${c.inProgress}, error ${c.error}, unknown ${c.unknown} (of ${c.total})`;
  const table = formatTable(s.computers, [
    { header: 'COMPUTER', value: (x) => x.computerId },
    { header: 'NAME', value: (x) => x.name },
    { header: 'STATE', value: (x) => x.state },
    { header: 'AT', value: (x) => (x.last ? new Date(x.last.at).toISOString() : null) },
    { header: 'LAST', value: (x) => lastOf(x.last) },
  ]);
  return `${head}\n${table}`;
}

async function watch(run: Run): Promise<void> {
  const id = enc(run.args[0]);
  const once = run.opts.once === true;
  const intervalMs = ((run.opts.interval as number | undefined) ?? 2) * 1000;
  const tty = process.stdout.isTTY === true && !run.json;
  let previous = '';
  for (;;) {
    const status = await run.api.get<DeploymentStatus>(`/deployments/${id}/status`);
    if (run.json) console.log(JSON.stringify(status));
    else if (tty) process.stdout.write(`\x1b[H\x1b[2J${renderDeploymentStatus(status)}\n(every ${intervalMs / 1000} s; Ctrl-C to stop)\n`);
    else {
      // Not a terminal (a pipe, a log): print a snapshot only when it changed.
      const text = renderDeploymentStatus(status);
      if (text !== previous) console.log(`${new Date().toISOString()}\n${text}`);
      previous = text;
    }
    if (once) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function registerStatus(program: Command): void {
  const deployments = program.commands.find((c) => c.name() === 'deployments') ?? noun(program, 'deployments', 'deployments');
  verb(deployments, 'watch <id>', 'live status of a deployment: counts by state and each computer’s last step (R-30)', watch)
    .option('--once', 'show the status once and exit')
    .option('--interval <seconds>', 'seconds between polls (default 2)', int(1, 3600));
  verb(deployments, 'status <id>', 'status of a deployment: counts by state and each computer’s last step (R-30)', async (run) => {
    show(run, await run.api.get<DeploymentStatus>(`/deployments/${enc(run.args[0])}/status`), renderDeploymentStatus);
  });

  const computers = program.commands.find((c) => c.name() === 'computers') ?? noun(program, 'computers', 'computers');
  verb(computers, 'status <id>', 'a computer’s task sequence runs and Required PXE records (R-19, R-30)', async (run) => {
    type Runs = { runId: string; deploymentId: string; state: string; source: string | null; startedAt: number; stepsSucceeded: number; stepsFailed: number };
    const s = await run.api.get<{ computerId: string; name: string; runs: Runs[]; requiredPxeStarts: { deploymentId: string; startedAt: number }[] }>(`/computers/${enc(run.args[0])}/status`);
    show(run, s, (x) =>
      [
        `computer ${x.computerId} (${x.name})`,
        formatTable(x.runs, [
          { header: 'RUN', value: (r) => r.runId },
          { header: 'DEPLOYMENT', value: (r) => r.deploymentId },
          { header: 'SOURCE', value: (r) => r.source },
          { header: 'STATE', value: (r) => r.state },
          { header: 'STARTED', value: (r) => new Date(r.startedAt).toISOString() },
          { header: 'STEPS OK', value: (r) => r.stepsSucceeded },
          { header: 'FAILED', value: (r) => r.stepsFailed },
        ]),
        `required PXE deployments started (R-19): ${x.requiredPxeStarts.map((p) => p.deploymentId).join(', ') || 'none'}`,
      ].join('\n'),
    );
  });

  const alerts = noun(program, 'alerts', 'deployment alerts (R-16, R-30)');
  verb(alerts, 'list', 'alerts that fire now', async (run) => {
    const r = await run.api.get<{ items: { deploymentId: string; kind: string; percent: number; threshold: number; message: string }[] }>('/alerts');
    show(run, r, (x) => formatTable(x.items, [
      { header: 'DEPLOYMENT', value: (a) => a.deploymentId },
      { header: 'ALERT', value: (a) => a.kind },
      { header: 'MESSAGE', value: (a) => a.message },
    ]));
  });
}
