/** `osdeploy tokens …`: /api/v1/tokens (admin only, R-31); the plain token is shown once. */
import type { Command } from 'commander';
import { formatTable } from '../table.js';
import { enc, noun, oneOf, show, verb } from '../runtime.js';

interface TokenInfo {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
  readonly scope?: string | null;
  readonly computerId?: string | null;
}

const when = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function registerTokens(program: Command): void {
  const tokens = noun(program, 'tokens', 'API tokens and their roles (R-31)');

  verb(tokens, 'list', 'list tokens (never their secrets)', async (run) => {
    const r = await run.api.get<{ items: TokenInfo[] }>('/tokens');
    show(run, r, (x) =>
      formatTable(x.items, [
        { header: 'ID', value: (t) => t.id },
        { header: 'NAME', value: (t) => t.name },
        { header: 'ROLE', value: (t) => t.role },
        { header: 'SCOPE', value: (t) => (t.scope ? `${t.scope}${t.computerId ? ` ${t.computerId}` : ''}` : null) },
        { header: 'CREATED', value: (t) => when(t.createdAt) },
        { header: 'REVOKED', value: (t) => when(t.revokedAt) },
      ]),
    );
  });

  verb(tokens, 'create', 'create a token; it is printed once and stored only as a hash', async (run) => {
    const body = { name: run.opts.name, role: run.opts.role, ...(run.opts.scope ? { scope: run.opts.scope } : {}), ...(run.opts.computer ? { computerId: run.opts.computer } : {}) };
    const t = await run.api.post<TokenInfo & { token: string }>('/tokens', body);
    show(run, t, (x) => `created token ${x.id} (${x.name}, ${x.role}${x.scope ? `, ${x.scope}` : ''}); it is shown only this once:\n${x.token}`);
  })
    .requiredOption('--name <name>', 'who or what uses it')
    .requiredOption('--role <role>', 'admin, technician or client', oneOf(['admin', 'technician', 'client']))
    .option('--computer <id>', 'client tokens: the one computer it acts for (scope computer)')
    .option('--scope <scope>', 'client tokens: computer, enroll (default without --computer: boots and registers, no secrets) or site (a trusted relay for every computer)', oneOf(['computer', 'enroll', 'site']));

  verb(tokens, 'revoke <id>', 'revoke a token', async (run) => {
    await run.api.delete(`/tokens/${enc(run.args[0])}`);
    show(run, null, () => `revoked token ${run.args[0]}`);
  });
}
