/**
 * R-31 route × role: the table in docs/security.md ("Roles") is the one statement of which role
 * may call which route. This test reads it, checks that it lists exactly the operations of the
 * OpenAPI document the service serves (plus the public routes the document hides), and calls
 * every operation with no token and with an admin, a technician and a client token:
 * - no token: 401, except `public` routes;
 * - a role the table refuses: 403 from the role gate ("the <role> role may not …");
 * - a role the table admits: anything but 401 and the gate's 403 (the dummy ids and bodies make
 *   most of them 400 or 404; a handler's own 403, e.g. a client token bound to another machine,
 *   is not the gate's) and never a 5xx.
 * Requests carry dummy path parameters and a body no schema accepts, so nothing is changed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Role } from '../../../server/site/tokens.js';
import { apiHarness, type ApiHarness } from '../../fixtures/api-harness.js';

const ROLES: readonly Role[] = ['admin', 'technician', 'client'];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const DOC = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/security.md');
const API = '/api/v1';
/** The role gate's refusal (server/http/auth.ts); a handler's own 403 says something else. */
const GATE = /^the (admin|technician|client) role may not /;

interface Row {
  readonly method: string;
  /** Under /api/v1, OpenAPI style: `/media/{id}`. */
  readonly path: string;
  /** `public`, or the roles admitted. */
  readonly allowed: 'public' | ReadonlySet<Role>;
}

const key = (method: string, p: string): string => `${method} ${p}`;

/** The rows of the table in the "## Roles" section (other sections of the file are not ours). */
function rolesTable(markdown: string): Row[] {
  const start = markdown.search(/^## Roles$/m);
  if (start < 0) throw new Error('docs/security.md has no "## Roles" section');
  const rest = markdown.slice(start + 1);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    const m = /^\|\s*(GET|POST|PUT|PATCH|DELETE)\s*\|\s*`([^`]+)`\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*$/.exec(line);
    if (!m) continue;
    const cells = [m[3]!, m[4]!, m[5]!];
    let allowed: Row['allowed'];
    if (cells.every((c) => c === 'public')) allowed = 'public';
    else {
      if (!cells.every((c) => c === '✓' || c === '—')) throw new Error(`docs/security.md: a cell of "${line}" is not ✓, — or public (for all three)`);
      allowed = new Set(ROLES.filter((_, i) => cells[i] === '✓'));
    }
    rows.push({ method: m[1]!, path: m[2]!, allowed });
  }
  return rows;
}

const DUMMY: Record<string, string> = { planId: 'f'.repeat(24), version: '1', target: 'DP999' };
const concrete = (p: string): string => API + p.replace(/\{(\w+)\}/g, (_, name: string) => DUMMY[name] ?? 'ROLEPROBE1');
/** No route's schema takes it (unknown property, or not the shape it wants). */
const PROBE_BODY = { roleProbe: true };

async function probe(h: ApiHarness, method: string, url: string, token: string | null) {
  const res = await h.call(method, url, { token, ...(method === 'GET' || method === 'DELETE' ? {} : { body: PROBE_BODY }) });
  const message = typeof res.json?.message === 'string' ? (res.json.message as string) : '';
  return { status: res.status, gate: res.status === 403 && GATE.test(message), body: res.body.slice(0, 300) };
}

const table = rolesTable(readFileSync(DOC, 'utf8'));

t.test('docs/security.md "Roles" lists every route the service serves, once', async (t) => {
  const h = await apiHarness(t);
  const doc = (await h.call('GET', `${API}/openapi.json`, { token: null })).json as { paths: Record<string, Record<string, { security?: unknown[] }>> };
  const served = new Map<string, boolean>();
  for (const [p, ops] of Object.entries(doc.paths)) {
    t.ok(p.startsWith(`${API}/`), `${p} is under ${API}`);
    for (const [method, op] of Object.entries(ops)) {
      if (!(METHODS as readonly string[]).includes(method.toUpperCase())) continue;
      // An operation the document marks `security: []` needs no token.
      served.set(key(method.toUpperCase(), p.slice(API.length)), Array.isArray(op.security) && op.security.length === 0);
    }
  }
  t.ok(served.size > 90, `the document lists the API (${served.size} operations)`);

  const listed = new Map<string, Row>();
  for (const row of table) {
    t.notOk(listed.has(key(row.method, row.path)), `${key(row.method, row.path)} is listed once`);
    listed.set(key(row.method, row.path), row);
  }
  const missing = [...served.keys()].filter((k) => !listed.has(k));
  t.same(missing, [], 'every served operation has a row (add it to docs/security.md "Roles")');
  for (const [k, isPublic] of served) {
    const row = listed.get(k);
    if (row) t.equal(row.allowed === 'public', isPublic, `${k}: public in the table exactly when the document says so`);
  }
  // Rows the document does not list are the public routes it hides; each must exist (checked below).
  const hidden = table.filter((r) => !served.has(key(r.method, r.path)));
  t.same(hidden.filter((r) => r.allowed !== 'public').map((r) => key(r.method, r.path)), [], 'every row of a role-gated route is a served operation');
  for (const r of hidden) {
    const res = await probe(h, r.method, concrete(r.path), null);
    t.not(res.status, 401, `${key(r.method, r.path)} is public`);
    t.notMatch(res.body, /no route /, `${key(r.method, r.path)} exists`);
  }
});

t.test('every route admits exactly the roles of the table', async (t) => {
  const h = await apiHarness(t);
  for (const row of table) {
    const url = concrete(row.path);
    const what = key(row.method, row.path);
    const none = await probe(h, row.method, url, null);
    if (row.allowed === 'public') {
      t.not(none.status, 401, `${what} without a token: public`);
      continue;
    }
    t.equal(none.status, 401, `${what} without a token: 401`);
    for (const role of ROLES) {
      const res = await probe(h, row.method, url, h.tokens[role]);
      if (row.allowed.has(role)) {
        t.ok(res.status !== 401 && !res.gate && res.status < 500, `${what} as ${role}: admitted (${res.status})`, { body: res.body });
      } else {
        t.ok(res.gate, `${what} as ${role}: 403 by the role gate (${res.status})`, { body: res.body });
      }
      // fastify answers HEAD for every GET route with the GET route's config: the same gate.
      if (row.method === 'GET' && !row.allowed.has(role)) t.equal((await h.call('HEAD', url, { token: h.tokens[role] })).status, 403, `HEAD ${row.path} as ${role}: 403`);
    }
    if (row.method === 'GET') t.equal((await h.call('HEAD', url, { token: null })).status, 401, `HEAD ${row.path} without a token: 401`);
  }
});

t.test('a technician reads what building media needs, with real objects', async (t) => {
  const h = await apiHarness(t);
  const tech = h.tokens.technician;
  const boot = await h.call('POST', '/content', { body: { kind: 'bootImage', name: 'Boot', architecture: 'x64' } });
  const os = await h.call('POST', '/content', { body: { kind: 'osImage', name: 'OS', architecture: 'x64' } });
  const ts = await h.call('POST', '/task-sequences', { body: { type: 'installOs', name: 'Install', bootImageId: boot.json.id, osImageId: os.json.id } });
  const col = await h.call('POST', '/collections', { body: { name: 'Lab', variables: [{ name: 'Key', value: 'collection-value', hidden: false }] } });
  const dep = await h.call('POST', '/deployments', { body: { taskSequenceId: ts.json.id, collectionId: col.json.id, availability: 'mediaPxeHidden' } });
  t.equal(dep.status, 201, dep.body);

  const images = await h.call('GET', '/boot-images', { token: tech });
  t.equal(images.status, 200);
  t.same(images.json.items.map((c: { id: string; kind: string }) => [c.id, c.kind]), [[boot.json.id, 'bootImage']], 'boot images only, no other content');
  t.equal((await h.call('GET', `/task-sequences/${ts.json.id}`, { token: tech })).status, 200);
  t.equal((await h.call('GET', `/deployments/${dep.json.id}`, { token: tech })).json.allowTechnicianMedia, false);
  for (const url of ['/computers', `/collections/${col.json.id}`, `/content/${os.json.id}`, '/audit', '/settings', '/distribution-points', '/tokens', `/deployments/${dep.json.id}/status`, '/status-messages']) {
    const res = await h.call('GET', url, { token: tech });
    t.equal(res.status, 403, `technician GET ${url}: 403`);
    t.notOk(res.body.includes('collection-value'), 'no variable value in the refusal');
  }
});
