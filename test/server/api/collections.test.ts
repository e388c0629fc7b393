import t from 'tap';
import { recordRequiredPxeStart } from '../../../server/site/deployments.js';
import { apiHarness, collection, computer, customTaskSequence, type ApiHarness } from '../../fixtures/api-harness.js';

const members = async (h: ApiHarness, id: string): Promise<string[]> => {
  const res = await h.call('GET', `/collections/${id}/members`);
  if (res.status !== 200) throw new Error(res.body);
  return res.json.computerIds;
};

t.test('R-17 the built-in collections exist from the first start and cannot be changed', async (t) => {
  const h = await apiHarness(t);
  const list = await h.call('GET', '/collections');
  t.equal(list.status, 200);
  t.match(list.json.items, [
    { id: 'SMS00001', name: 'All Systems', builtIn: 'allSystems', limitingCollectionId: null },
    { id: 'SMS000US', name: 'All Unknown Computers', builtIn: 'allUnknownComputers', limitingCollectionId: 'SMS00001' },
  ]);
  t.equal(list.json.items.length, 2);
  t.same(await members(h, 'SMS000US'), ['unknown-arm64', 'unknown-x64', 'unknown-x86'], 'the Unknown Computer objects are its members');

  const pc = await computer(h, 'PC');
  t.ok((await members(h, 'SMS00001')).includes(pc), 'All Systems holds every computer');
  t.notOk((await members(h, 'SMS000US')).includes(pc), 'a known computer is not unknown');

  for (const id of ['SMS00001', 'SMS000US']) {
    const patch = await h.call('PATCH', `/collections/${id}`, { body: { variables: [{ name: 'X', value: '1' }] } });
    t.equal(patch.status, 409, `PATCH ${id}`);
    t.match(patch.json.message, /built in/);
    t.equal((await h.call('DELETE', `/collections/${id}`)).status, 409, `DELETE ${id}`);
  }
  t.match((await h.call('GET', '/collections/SMS00001')).json, { name: 'All Systems', variables: [] }, 'unchanged');
});

t.test('direct members, include, exclude and limiting rules', async (t) => {
  const h = await apiHarness(t);
  const [a, b, c, d] = [await computer(h, 'A'), await computer(h, 'B'), await computer(h, 'C'), await computer(h, 'D')];
  const ab = await collection(h, 'AB', { directMemberIds: [a, b] });
  const onlyB = await collection(h, 'OnlyB', { directMemberIds: [b] });
  const mixed = await collection(h, 'Mixed', { directMemberIds: [c], includeCollectionIds: [ab], excludeCollectionIds: [onlyB] });
  const limited = await collection(h, 'Limited', { limitingCollectionId: ab, directMemberIds: [a, d] });

  t.same(await members(h, ab), [a, b].sort());
  t.same(await members(h, mixed), [a, c].sort(), '(direct ∪ included) − excluded');
  t.same(await members(h, limited), [a], 'members outside the limiting collection are dropped');
  const view = await h.call('GET', `/collections/${mixed}`);
  t.match(view.json, { name: 'Mixed', limitingCollectionId: 'SMS00001', directMemberIds: [c], includeCollectionIds: [ab], excludeCollectionIds: [onlyB], memberCount: 2 });
  t.same((await h.call('GET', `/collections/${mixed}/members`)).json, { total: 2, computerIds: [a, c].sort() });

  const patched = await h.call('PATCH', `/collections/${mixed}`, { body: { excludeCollectionIds: [] } });
  t.equal(patched.status, 200);
  t.equal(patched.json.memberCount, 3, 'membership follows the rules at once');
  t.equal((await h.call('GET', '/collections/PS1FFFFF')).status, 404);
  t.equal((await h.call('GET', '/collections/PS1FFFFF/members')).status, 404);

  const dup = await h.call('POST', '/collections', { body: { name: 'AB' } });
  t.equal(dup.status, 409);
  t.equal(dup.json.field, 'name');
  const extra = await h.call('POST', '/collections', { body: { name: 'Z', query: 'select *' } });
  t.equal(extra.status, 400);
  t.equal(extra.json.field, 'body.query');
});

t.test('a rule cycle is a 409 and a missing member or collection a 404; nothing is stored', async (t) => {
  const h = await apiHarness(t);
  const one = await collection(h, 'One');
  const two = await collection(h, 'Two', { includeCollectionIds: [one] });
  const before = (await h.call('GET', '/collections')).json.items.length;

  const cycle = await h.call('PATCH', `/collections/${one}`, { body: { includeCollectionIds: [two] } });
  t.equal(cycle.status, 409);
  t.match(cycle.json.message, /cycle/);
  t.same((await h.call('GET', `/collections/${one}`)).json.includeCollectionIds, [], 'the cycle was not stored');
  const viaLimit = await h.call('PATCH', `/collections/${one}`, { body: { limitingCollectionId: two } });
  t.equal(viaLimit.status, 409, 'a cycle through the limiting collection too');
  const self = await h.call('PATCH', `/collections/${one}`, { body: { excludeCollectionIds: [one] } });
  t.equal(self.status, 409, 'a collection cannot exclude itself');

  const missingMember = await h.call('POST', '/collections', { body: { name: 'M', directMemberIds: ['424242'] } });
  t.equal(missingMember.status, 404);
  t.equal(missingMember.json.field, 'directMemberIds');
  t.match(missingMember.json.message, /424242/);
  const missingCollection = await h.call('POST', '/collections', { body: { name: 'M', includeCollectionIds: ['PS1FFFFF'] } });
  t.equal(missingCollection.status, 404);
  t.match(missingCollection.json.message, /PS1FFFFF/);
  const missingLimit = await h.call('POST', '/collections', { body: { name: 'M', limitingCollectionId: 'PS1FFFFF' } });
  t.equal(missingLimit.status, 404);
  t.equal((await h.call('GET', '/collections')).json.items.length, before, 'no refused collection was stored');
});

t.test('R-23 collection variables: precedence, computer wins, hidden masked', async (t) => {
  const h = await apiHarness(t);
  const SECRET = 'JoinPw-col-5d21a9';
  const mac = '00:00:00:00:aa:01';
  const pc = await computer(h, 'PC', { macAddresses: [mac] });
  const other = await computer(h, 'OTHER', { macAddresses: ['00:00:00:00:aa:02'], variables: [{ name: 'Greeting', value: 'computer' }] });
  const low = await collection(h, 'Low', { directMemberIds: [pc, other], variablePrecedence: 1, variables: [{ name: 'Greeting', value: 'low' }, { name: 'OnlyLow', value: 'l' }] });
  const high = await collection(h, 'High', {
    directMemberIds: [pc, other],
    variablePrecedence: 9,
    variables: [{ name: 'GREETING', value: 'high' }, { name: 'JoinPassword', value: SECRET, hidden: true }],
  });
  const view = await h.call('GET', `/collections/${high}`);
  t.same(view.json.variables, [
    { name: 'GREETING', value: 'high', hidden: false },
    { name: 'JoinPassword', value: null, hidden: true },
  ]);
  t.equal(view.json.variablePrecedence, 9);
  for (const res of [view, await h.call('GET', '/collections'), await h.call('GET', `/collections/${low}`), await h.call('GET', '/audit')])
    t.notOk(res.body.includes(SECRET), 'the hidden value is in no response');

  const { tsId } = await customTaskSequence(h);
  const dep = await h.call('POST', '/deployments', { body: { taskSequenceId: tsId, collectionId: low, availability: 'mediaPxe' } });
  t.equal(dep.status, 201);
  const policy = await h.call('GET', `/boot-policy?mac=${mac}&preferred=${dep.json.id}&unattended=true`, { token: h.tokens.client });
  t.equal(policy.json.kind, 'run');
  const vars = Object.fromEntries(policy.json.variables.map((v: { name: string; value: string }) => [v.name.toLowerCase(), v.value]));
  t.equal(vars.greeting, 'high', 'precedence 9 beats precedence 1');
  t.equal(vars.onlylow, 'l');
  t.equal(vars.joinpassword, SECRET, 'the task sequence gets the hidden value');

  const swapped = await h.call('PATCH', `/collections/${low}`, { body: { variablePrecedence: 9 } });
  t.equal(swapped.status, 200);
  await h.call('PATCH', `/collections/${high}`, { body: { variablePrecedence: 2 } });
  const again = await h.call('GET', `/boot-policy?mac=${mac}&preferred=${dep.json.id}&unattended=true`, { token: h.tokens.client });
  t.equal(again.json.variables.find((v: { name: string }) => v.name.toLowerCase() === 'greeting').value, 'low', 'the order follows precedence');
  const otherPolicy = await h.call('GET', `/boot-policy?mac=00:00:00:00:aa:02&preferred=${dep.json.id}&unattended=true`, { token: h.tokens.client });
  t.equal(otherPolicy.json.variables.find((v: { name: string }) => v.name.toLowerCase() === 'greeting').value, 'computer', "a computer's value wins");

  for (const p of [0, 10, 1.5]) {
    const bad = await h.call('PATCH', `/collections/${low}`, { body: { variablePrecedence: p } });
    t.equal(bad.status, 400, `precedence ${p} → 400`);
    t.match(bad.json.field, /variablePrecedence/);
  }
});

t.test('R-23 deleting a collection deletes its variables; it is refused while used', async (t) => {
  const h = await apiHarness(t);
  const pc = await computer(h, 'PC');
  const temp = await collection(h, 'Temp', { directMemberIds: [pc], variables: [{ name: 'OSDTimeZone', value: 'UTC' }, { name: 'Pw', value: 'x', hidden: true }] });
  const user = await collection(h, 'User', { includeCollectionIds: [temp] });
  const { tsId } = await customTaskSequence(h);
  const dep = await h.call('POST', '/deployments', { body: { taskSequenceId: tsId, collectionId: temp } });
  t.equal(dep.status, 201);

  const byRule = await h.call('DELETE', `/collections/${temp}`);
  t.equal(byRule.status, 409);
  t.match(byRule.json.message, new RegExp(user));
  t.equal((await h.call('DELETE', `/collections/${user}`)).status, 204);
  const byDeployment = await h.call('DELETE', `/collections/${temp}`);
  t.equal(byDeployment.status, 409);
  t.match(byDeployment.json.message, new RegExp(dep.json.id));
  t.equal((await h.call('GET', `/collections/${temp}`)).json.variables.length, 2, 'still there with its variables');

  t.equal((await h.call('DELETE', `/deployments/${dep.json.id}`)).status, 204);
  t.equal((await h.call('DELETE', `/collections/${temp}`)).status, 204);
  t.equal((await h.call('GET', `/collections/${temp}`)).status, 404);
  t.equal((await h.call('DELETE', `/collections/${temp}`)).status, 404);

  const recreated = await h.call('POST', '/collections', { body: { name: 'Temp', directMemberIds: [pc] } });
  t.equal(recreated.status, 201);
  t.not(recreated.json.id, temp, 'a new id');
  t.same(recreated.json.variables, [], 'the same name brings back no variables');
  const audit = await h.call('GET', `/audit?action=collection.deleted&target=${temp}`);
  t.match(audit.json.items[0].message, /with its 2 variables/);
});

t.test('R-19 clear required PXE deployments for a collection', async (t) => {
  const h = await apiHarness(t);
  const a = await computer(h, 'A');
  const b = await computer(h, 'B');
  const outsider = await computer(h, 'C');
  const col = await collection(h, 'Lab', { directMemberIds: [a, b] });
  await recordRequiredPxeStart(h.ctx, a, 'PS120001');
  await recordRequiredPxeStart(h.ctx, b, 'PS120001');
  await recordRequiredPxeStart(h.ctx, b, 'PS120002');
  await recordRequiredPxeStart(h.ctx, outsider, 'PS120001');

  const tech = await h.call('POST', `/collections/${col}/clear-required-pxe`, { token: h.tokens.technician });
  t.equal(tech.status, 403, 'an administrative action');
  const cleared = await h.call('POST', `/collections/${col}/clear-required-pxe`);
  t.equal(cleared.status, 200);
  t.same(cleared.json, { cleared: 3 });
  const left = h.db.prepare('SELECT computer_id AS id FROM required_pxe_starts').all() as { id: string }[];
  t.same(left.map((r) => r.id), [outsider], 'only the members were cleared');
  t.same((await h.call('POST', `/collections/${col}/clear-required-pxe`)).json, { cleared: 0 });
  t.equal((await h.call('POST', '/collections/PS1FFFFF/clear-required-pxe')).status, 404);
  const audit = await h.call('GET', '/audit?action=deployment.requiredPxeCleared');
  t.equal(audit.json.total, 2);
});
