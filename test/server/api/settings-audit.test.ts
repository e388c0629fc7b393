import t from 'tap';
import { apiHarness, CLOCK_START, type Json } from '../../fixtures/api-harness.js';

const DEFAULTS = {
  highRisk: { defaultSize: 100, maxSize: 1000, siteSystems: 'block', warnOnServers: true },
  pxe: { enabled: true, unknownComputerSupport: true, responseDelaySeconds: 0, passwordRequired: false, uefiX64BootFile: 'ipxe.efi', passwordSet: false },
};

t.test('R-10/R-18 settings: defaults, partial updates, validation errors named', async (t) => {
  const h = await apiHarness(t);
  const initial = await h.call('GET', '/settings');
  t.equal(initial.status, 200);
  t.same(initial.json, DEFAULTS);

  const patched = await h.call('PATCH', '/settings', { body: { pxe: { responseDelaySeconds: 3 } } });
  t.equal(patched.status, 200);
  t.same(patched.json, { ...DEFAULTS, pxe: { ...DEFAULTS.pxe, responseDelaySeconds: 3 } }, 'only the given key changes');
  const both = await h.call('PATCH', '/settings', { body: { highRisk: { maxSize: 500 }, pxe: { enabled: false } } });
  t.match(both.json, { highRisk: { defaultSize: 100, maxSize: 500 }, pxe: { enabled: false, responseDelaySeconds: 3 } });
  t.same((await h.call('GET', '/settings')).json, both.json, 'stored');

  const cases: [unknown, string][] = [
    [{ pxe: { responseDelaySeconds: 33 } }, 'pxe.responseDelaySeconds'],
    [{ pxe: { responseDelaySeconds: 1.5 } }, 'pxe.responseDelaySeconds'],
    [{ pxe: { enabled: 'yes' } }, 'pxe.enabled'],
    [{ pxe: { password: 'x' } }, 'pxe.password'],
    [{ pxe: { password: 'y'.repeat(64) } }, 'pxe.password'],
    [{ highRisk: { defaultSize: 600 } }, 'highRisk.defaultSize'],
    [{ highRisk: { maxSize: 'many' } }, 'highRisk.maxSize'],
    [{ highRisk: { warnOnServers: 1 } }, 'highRisk.warnOnServers'],
    [{ highRisk: [] }, 'body.highRisk'],
    [{ site: {} }, 'body.site'],
  ];
  for (const [body, field] of cases) {
    const res = await h.call('PATCH', '/settings', { body });
    t.equal(res.status, 400, `${JSON.stringify(body)} → 400`);
    t.equal(res.json.field, field, `names ${field}`);
  }
  t.equal((await h.call('PATCH', '/settings', { body: '{"pxe": ' })).status, 400, 'bad JSON');
  t.same((await h.call('GET', '/settings')).json, both.json, 'no refused PATCH changed anything');

  t.equal((await h.call('GET', '/settings', { token: h.tokens.technician })).status, 403, 'R-31: technicians build media only');
  t.equal((await h.call('PATCH', '/settings', { token: h.tokens.technician, body: { pxe: { enabled: true } } })).status, 403);
  t.equal((await h.call('GET', '/settings', { token: h.tokens.client })).status, 403);
});

t.test('R-30 the audit log lists administrative changes newest first, with paging', async (t) => {
  const h = await apiHarness(t);
  const start = (await h.call('GET', '/audit')).json.total;
  t.equal(start, 3, 'the harness created three tokens');

  h.clock.advance(1_000);
  const pc = (await h.call('POST', '/computers', { body: { name: 'PC', macAddresses: ['00:00:00:00:00:01'] } })).json.id;
  h.clock.advance(1_000);
  await h.call('PATCH', `/computers/${pc}`, { body: { name: 'PC-2' } });
  h.clock.advance(1_000);
  await h.call('PATCH', '/settings', { body: { pxe: { responseDelaySeconds: 2 } } });
  h.clock.advance(1_000);
  await h.call('DELETE', `/computers/${pc}`);
  // Refused or failed requests leave no audit record.
  await h.call('POST', '/computers', { body: { name: 'BAD', macAddresses: ['zz'] } });
  await h.call('PATCH', '/settings', { body: { pxe: { responseDelaySeconds: 99 } } });
  await h.call('DELETE', `/computers/${pc}`);
  await h.call('POST', '/computers', { token: h.tokens.technician, body: { name: 'T', macAddresses: ['00:00:00:00:00:02'] } });

  const all = await h.call('GET', '/audit');
  t.equal(all.status, 200);
  t.match(all.json, { total: start + 4, offset: 0, limit: 100 });
  const newest = all.json.items.slice(0, 4);
  t.same(newest.map((e: Json) => e.action), ['computer.deleted', 'settings.updated', 'computer.updated', 'computer.created']);
  t.same(newest.map((e: Json) => e.at), [4, 3, 2, 1].map((s) => CLOCK_START + s * 1_000), 'times come from the site clock');
  t.match(newest[0], { target: pc, actor: /^admin:test admin \(t\d+\)$/, message: /PC-2/ });
  t.match(newest[2], { details: { fields: ['name'] } });
  const seqs = all.json.items.map((e: Json) => e.seq);
  t.same(seqs, [...seqs].sort((a: number, b: number) => b - a), 'newest first');

  const page = await h.call('GET', '/audit?limit=2&offset=1');
  t.match(page.json, { total: start + 4, offset: 1, limit: 2 });
  t.same(page.json.items.map((e: Json) => e.action), ['settings.updated', 'computer.updated']);
  t.same((await h.call('GET', `/audit?target=${pc}`)).json.items.map((e: Json) => e.action), ['computer.deleted', 'computer.updated', 'computer.created']);
  t.equal((await h.call('GET', '/audit?action=settings.updated')).json.total, 1);
  t.equal((await h.call('GET', '/audit?action=no.such')).json.total, 0);

  for (const query of ['limit=0', 'limit=5000', 'offset=x', 'colour=red']) t.equal((await h.call('GET', `/audit?${query}`)).status, 400, `${query} → 400`);
  t.equal((await h.call('GET', '/audit', { token: h.tokens.technician })).status, 403, 'R-31: technicians build media only');
  t.equal((await h.call('GET', '/audit', { token: h.tokens.client })).status, 403);
});

t.test('R-30 status messages: an empty list has the paging shape', async (t) => {
  const h = await apiHarness(t);
  const res = await h.call('GET', '/status-messages');
  t.equal(res.status, 200);
  t.same(res.json, { total: 0, offset: 0, limit: 100, items: [] });
  const filtered = await h.call('GET', '/status-messages?computerId=16777220&deploymentId=PS120001&offset=5&limit=10');
  t.equal(filtered.status, 200);
  t.same(filtered.json, { total: 0, offset: 5, limit: 10, items: [] });
  t.equal((await h.call('GET', '/status-messages?limit=abc')).status, 400);
  t.equal((await h.call('GET', '/status-messages?colour=red')).status, 400);
});
