import t from 'tap';
import { apiHarness } from '../../fixtures/api-harness.js';

t.test('R-31 every API call needs a bearer token', async (t) => {
  const h = await apiHarness(t);
  const none = await h.call('GET', '/computers', { token: null });
  t.equal(none.status, 401);
  t.equal(none.json.error, 'unauthenticated');

  for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', `Bearer ${h.tokens.admin} extra`, h.tokens.admin]) {
    const res = await h.call('GET', '/computers', { token: null, headers: { authorization: header } });
    t.equal(res.status, 401, `malformed header ${JSON.stringify(header.slice(0, 20))} → 401`);
  }

  const unknown = await h.call('GET', '/computers', { token: 'osd_thisTokenWasNeverIssuedByTheSite0000000000' });
  t.equal(unknown.status, 401);
  t.match(unknown.json.message, /unknown or revoked/);
  const noPrefix = await h.call('GET', '/computers', { token: 'not-an-osdeploy-token' });
  t.equal(noPrefix.status, 401);

  const ok = await h.call('GET', '/computers');
  t.equal(ok.status, 200, 'the admin token is accepted');
});

t.test('R-31 a revoked token is refused', async (t) => {
  const h = await apiHarness(t);
  const created = await h.call('POST', '/tokens', { body: { name: 'ci', role: 'technician' } });
  t.equal(created.status, 201);
  t.equal((await h.call('GET', '/media', { token: created.json.token })).status, 200, 'works before revocation');
  const revoke = await h.call('DELETE', `/tokens/${created.json.id}`);
  t.equal(revoke.status, 204);
  const after = await h.call('GET', '/media', { token: created.json.token });
  t.equal(after.status, 401);
  t.equal((await h.call('DELETE', `/tokens/${created.json.id}`)).status, 404, 'revoking twice is a 404');
  const listed = await h.call('GET', '/tokens');
  t.not(listed.json.items.find((x: { id: string }) => x.id === created.json.id).revokedAt, null, 'the list shows it revoked');
});

t.test('R-31 technician: media and what building them needs, nothing else', async (t) => {
  const h = await apiHarness(t);
  const tech = h.tokens.technician;
  for (const url of ['/task-sequences', '/deployments', '/boot-images', '/media'])
    t.equal((await h.call('GET', url, { token: tech })).status, 200, `technician GET ${url}`);
  for (const url of ['/computers', '/collections', '/settings', '/audit', '/step-types', '/folders', '/content', '/status-messages', '/alerts', '/distribution-points', '/distribution-jobs', '/tokens', '/boot-images/builds']) {
    const res = await h.call('GET', url, { token: tech });
    t.equal(res.status, 403, `technician GET ${url}: 403`);
    t.match(res.json, { error: 'forbidden', message: `the technician role may not GET /api/v1${url}` });
  }

  const post = await h.call('POST', '/computers', { token: tech, body: { name: 'PC1', macAddresses: ['00:11:22:33:44:55'] } });
  t.equal(post.status, 403);
  t.equal(post.json.error, 'forbidden');
  t.match(post.json.message, /technician/);

  const id = (await h.call('POST', '/computers', { body: { name: 'PC1', macAddresses: ['00:11:22:33:44:55'] } })).json.id;
  t.equal((await h.call('PATCH', `/computers/${id}`, { token: tech, body: { name: 'PC2' } })).status, 403);
  t.equal((await h.call('DELETE', `/computers/${id}`, { token: tech })).status, 403);
  t.equal((await h.call('PATCH', '/settings', { token: tech, body: { highRisk: { defaultSize: 5 } } })).status, 403);
  t.equal((await h.call('POST', '/collections', { token: tech, body: { name: 'X' } })).status, 403);
  const still = await h.call('GET', `/computers/${id}`);
  t.equal(still.json.name, 'PC1', 'the refused PATCH changed nothing');
});

t.test('R-31 client role: boot policy yes, computers no', async (t) => {
  const h = await apiHarness(t);
  const client = h.tokens.client;
  const boot = await h.call('GET', '/boot-policy?mac=00:11:22:33:44:55', { token: client });
  t.equal(boot.status, 200);
  t.equal((await h.call('GET', '/computers', { token: client })).status, 403);
  t.equal((await h.call('GET', '/collections', { token: client })).status, 403);
  t.equal((await h.call('POST', '/computers', { token: client, body: { name: 'PC1', macAddresses: ['00:11:22:33:44:56'] } })).status, 403);
  t.equal((await h.call('GET', '/boot-policy?mac=00:11:22:33:44:55', { token: h.tokens.technician })).status, 403, 'technicians read no machine’s boot policy (R-31: media only)');
});

t.test('R-31 tokens routes are admin only', async (t) => {
  const h = await apiHarness(t);
  for (const role of ['technician', 'client'] as const) {
    const token = h.tokens[role];
    t.equal((await h.call('GET', '/tokens', { token })).status, 403, `${role} cannot list tokens`);
    t.equal((await h.call('POST', '/tokens', { token, body: { name: 'x', role: 'admin' } })).status, 403, `${role} cannot create tokens`);
    t.equal((await h.call('DELETE', '/tokens/t1', { token })).status, 403, `${role} cannot revoke tokens`);
  }
  const bad = await h.call('POST', '/tokens', { body: { name: 'x', role: 'superuser' } });
  t.equal(bad.status, 400);
  t.match(bad.json.field, /role/);
});

t.test('R-31 a created token is returned once, with the osd_ prefix, and never listed', async (t) => {
  const h = await apiHarness(t);
  const created = await h.call('POST', '/tokens', { body: { name: 'pxe host', role: 'client' } });
  t.equal(created.status, 201);
  t.match(created.json, { name: 'pxe host', role: 'client', revokedAt: null });
  t.match(created.json.token, /^osd_[A-Za-z0-9_-]{20,}$/);

  const list = await h.call('GET', '/tokens');
  t.equal(list.status, 200);
  t.ok(list.json.items.some((x: { id: string }) => x.id === created.json.id), 'the token is listed by id');
  t.notOk(list.body.includes(created.json.token), 'the plain token is not in GET /tokens');
  for (const tok of Object.values(h.tokens)) t.notOk(list.body.includes(tok), 'no plain token is listed');
  t.notOk(list.json.items.some((x: Record<string, unknown>) => 'token' in x || 'hash' in x), 'no token or hash field');

  const audit = await h.call('GET', '/audit?action=token.created');
  t.notOk(audit.body.includes(created.json.token), 'the audit log does not hold the plain token');
  t.equal((await h.call('GET', '/boot-policy?mac=00:11:22:33:44:55', { token: created.json.token })).status, 200, 'the new token works');
});

t.test('healthz and openapi.json answer without a token', async (t) => {
  const h = await apiHarness(t);
  const health = await h.call('GET', '/healthz', { token: null });
  t.equal(health.status, 200);
  t.match(health.json, { status: 'ok', site: 'PS1' });
  // The policy state boots are answered from: built once at least, its version moves with a write.
  t.match(health.json.policy, { version: Number, deltas: Number, builds: Number, building: false, lastBuildMs: Number });
  const before = health.json.policy.version as number;
  t.equal((await h.call('POST', '/computers', { body: { name: 'HEALTH1', macAddresses: ['52:54:00:aa:bb:01'] } })).status, 201);
  const after = await h.call('GET', '/healthz', { token: null });
  t.ok(after.json.policy.version > before, 'a write moves the policy version');

  const doc = await h.call('GET', '/api/v1/openapi.json', { token: null });
  t.equal(doc.status, 200);
  t.match(doc.json.openapi, /^3\./);
  const paths = Object.keys(doc.json.paths);
  for (const p of [
    '/api/v1/computers',
    '/api/v1/computers/import',
    '/api/v1/computers/{id}',
    '/api/v1/collections',
    '/api/v1/collections/{id}/members',
    '/api/v1/task-sequences',
    '/api/v1/task-sequences/{id}/edits',
    '/api/v1/step-types',
    '/api/v1/deployments',
    '/api/v1/boot-policy',
    '/api/v1/settings',
    '/api/v1/audit',
    '/api/v1/status-messages',
    '/api/v1/tokens',
    '/api/v1/content',
    '/api/v1/folders',
  ])
    t.ok(paths.includes(p), `openapi lists ${p}`);
  t.notOk(paths.includes('/healthz'), 'hidden routes are not documented');
});

t.test('an unknown route is a JSON 404, after authentication', async (t) => {
  const h = await apiHarness(t);
  const res = await h.call('GET', '/no-such-thing');
  t.equal(res.status, 404);
  t.equal(res.json.error, 'not-found');
});
