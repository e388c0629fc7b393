/**
 * A real site for engine tests: the service started in-process on port 0 (UDP roles off, data in
 * a temp dir, test/server/cli/harness.ts) with a client token, and helpers to build a custom
 * task sequence from plain step descriptions and deploy it.
 */
import { startSite, type Site } from '../../server/cli/harness.js';
import type { Teardowns } from './step-env.js';

export interface StepSpec {
  readonly name: string;
  readonly type?: string;
  readonly properties?: Record<string, unknown>;
  readonly continueOnError?: boolean;
  readonly enabled?: boolean;
  readonly condition?: unknown;
  /** A group: its children. */
  readonly children?: readonly StepSpec[];
}

export interface EngineSite {
  readonly site: Site;
  readonly url: string;
  readonly clientToken: string;
  api<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown): Promise<T>;
  /** Creates a custom task sequence with these steps; returns its id and item ids by name. */
  taskSequence(name: string, steps: readonly StepSpec[]): Promise<{ id: string; items: Record<string, string> }>;
  deploy(body: Record<string, unknown>): Promise<string>;
}

export async function engineSite(t: Teardowns): Promise<EngineSite> {
  const site = await startSite(t);
  const api = site.api.bind(site) as EngineSite['api'];
  // A relay token (scope site): these tests are about the engine; what enrollment, media and
  // per-boot tokens may do is tested in test/server/security/tokens.test.ts and the qemu e2e runs.
  const { token: clientToken } = await api<{ token: string }>('POST', '/tokens', { name: 'engine', role: 'client', scope: 'site' });

  async function add(tsId: string, specs: readonly StepSpec[], parentId: string | null, ids: Record<string, string>): Promise<void> {
    for (const s of specs) {
      const common = { name: s.name, position: { parentId }, continueOnError: s.continueOnError ?? false, enabled: s.enabled ?? true, ...(s.condition ? { condition: s.condition } : {}) };
      const op = s.children ? { op: 'addGroup', ...common } : { op: 'addStep', type: s.type, properties: s.properties ?? {}, ...common };
      const ts = await api<{ items: unknown[] }>('POST', `/task-sequences/${tsId}/edits`, { operations: [op] });
      const byName = new Map<string, string>();
      const walk = (items: readonly { id: string; name: string; children?: unknown[] }[]) => {
        for (const i of items) {
          byName.set(i.name, i.id);
          if (i.children) walk(i.children as never);
        }
      };
      walk(ts.items as never);
      ids[s.name] = byName.get(s.name)!;
      if (s.children) await add(tsId, s.children, ids[s.name]!, ids);
    }
  }

  return {
    site,
    url: site.url,
    clientToken,
    api,
    async taskSequence(name, steps) {
      const boot = await api<{ id: string }>('POST', '/content', { kind: 'bootImage', name: `Boot image for ${name}`, architecture: 'x64' });
      const ts = await api<{ id: string }>('POST', '/task-sequences', { type: 'custom', name, bootImageId: boot.id });
      const items: Record<string, string> = {};
      await add(ts.id, steps, null, items);
      return { id: ts.id, items };
    },
    async deploy(body) {
      return (await api<{ id: string }>('POST', '/deployments', body)).id;
    },
  };
}
