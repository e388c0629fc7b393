import t from 'tap';
import { apiHarness, collection, type ApiHarness } from '../../fixtures/api-harness.js';

const UUID = '4c4c4544-0031-3510-8052-b4c04f4d4d31';

async function count(h: ApiHarness, query = ''): Promise<number> {
  const res = await h.call('GET', `/computers${query}`);
  if (res.status !== 200) throw new Error(res.body);
  return res.json.total;
}

t.test('R-17 create normalises MAC addresses and the SMBIOS UUID', async (t) => {
  const h = await apiHarness(t);
  const res = await h.call('POST', '/computers', {
    body: { name: '  PC-001 ', macAddresses: ['AA-BB-CC-DD-EE-01', 'aabb.ccdd.ee02', 'AABBCCDDEE01'], smbiosUuid: '{4C4C4544-0031-3510-8052-B4C04F4D4D31}' },
  });
  t.equal(res.status, 201);
  t.match(res.json, { name: 'PC-001', macAddresses: ['aa:bb:cc:dd:ee:01', 'aa:bb:cc:dd:ee:02'], smbiosUuid: UUID, builtIn: false, variables: [] });
  t.equal(res.json.macAddresses.length, 2, 'the same MAC in two spellings is kept once');
  const got = await h.call('GET', `/computers/${res.json.id}`);
  t.equal(got.status, 200);
  t.same(got.json, res.json, 'GET returns what POST returned');
});

t.test('R-17 a duplicate MAC or UUID is a 409 naming the field', async (t) => {
  const h = await apiHarness(t);
  const first = await h.call('POST', '/computers', { body: { name: 'A', macAddresses: ['00:11:22:33:44:55'], smbiosUuid: UUID } });
  t.equal(first.status, 201);
  const mac = await h.call('POST', '/computers', { body: { name: 'B', macAddresses: ['00-11-22-33-44-55'] } });
  t.equal(mac.status, 409);
  t.equal(mac.json.field, 'macAddresses');
  t.match(mac.json.message, /00:11:22:33:44:55/);
  const uuid = await h.call('POST', '/computers', { body: { name: 'B', smbiosUuid: UUID.toUpperCase().replace(/-/g, '') } });
  t.equal(uuid.status, 409);
  t.equal(uuid.json.field, 'smbiosUuid');

  const other = await h.call('POST', '/computers', { body: { name: 'C', macAddresses: ['00:11:22:33:44:66'] } });
  const patch = await h.call('PATCH', `/computers/${other.json.id}`, { body: { macAddresses: ['00:11:22:33:44:55'] } });
  t.equal(patch.status, 409, 'PATCH onto a taken MAC is a conflict too');
  t.same((await h.call('GET', `/computers/${other.json.id}`)).json.macAddresses, ['00:11:22:33:44:66'], 'and changes nothing');
  t.equal(await count(h, '?name=B'), 0, 'the refused computers were not stored');
});

t.test('bad input is a 400 naming the field, never a 500', async (t) => {
  const h = await apiHarness(t);
  const badMac = await h.call('POST', '/computers', { body: { name: 'A', macAddresses: ['00:11:22:33:44'] } });
  t.equal(badMac.status, 400);
  t.match(badMac.json.field, /^macAddress/);
  t.match(badMac.json.message, /not a MAC address/);

  const badUuid = await h.call('POST', '/computers', { body: { name: 'A', smbiosUuid: 'not-a-uuid' } });
  t.equal(badUuid.status, 400);
  t.equal(badUuid.json.field, 'smbiosUuid');
  const placeholder = await h.call('POST', '/computers', { body: { name: 'A', smbiosUuid: '00000000-0000-0000-0000-000000000000' } });
  t.equal(placeholder.status, 400, 'an all-zero UUID identifies nothing');

  const noIdentity = await h.call('POST', '/computers', { body: { name: 'A' } });
  t.equal(noIdentity.status, 400);
  t.equal(noIdentity.json.field, 'macAddresses');

  const unknownKey = await h.call('POST', '/computers', { body: { name: 'A', macAddresses: ['00:11:22:33:44:55'], colour: 'red' } });
  t.equal(unknownKey.status, 400);
  t.equal(unknownKey.json.field, 'body.colour');

  const wrongType = await h.call('POST', '/computers', { body: { name: 5, macAddresses: ['00:11:22:33:44:55'] } });
  t.equal(wrongType.status, 400);
  t.equal(wrongType.json.field, 'body.name');

  for (const raw of ['{"name": ', '{name: "A"}', '[]', 'null', '']) {
    const res = await h.call('POST', '/computers', { body: raw });
    t.equal(res.status, 400, `body ${JSON.stringify(raw)} → 400`);
    t.type(res.json.message, 'string');
  }
  const badJson = await h.call('POST', '/computers', { body: '{"name": ' });
  t.match(badJson.json.message, /JSON/);
  t.equal(await count(h), 3, 'nothing but the three built-in Unknown Computer objects exists');
});

t.test('list pages with offset/limit/total and filters by name, mac and smbiosUuid', async (t) => {
  const h = await apiHarness(t);
  for (let i = 1; i <= 5; i++) {
    h.clock.advance(1000); // the list is in creation order
    const res = await h.call('POST', '/computers', {
      body: { name: `LAB-${i}`, macAddresses: [`00:00:00:00:00:0${i}`], ...(i === 3 ? { smbiosUuid: UUID } : {}) },
    });
    t.equal(res.status, 201);
  }
  const all = await h.call('GET', '/computers');
  t.match(all.json, { total: 8, offset: 0, limit: 100 }, 'five computers and three built-ins');
  t.equal(all.json.items.length, 8);

  const page = await h.call('GET', '/computers?offset=4&limit=2');
  t.equal(page.status, 200);
  t.match(page.json, { total: 8, offset: 4, limit: 2 });
  t.same(page.json.items.map((c: { name: string }) => c.name), ['LAB-2', 'LAB-3'], 'creation order, built-ins first');
  const past = await h.call('GET', '/computers?offset=100');
  t.match(past.json, { total: 8, items: [] });

  const byName = await h.call('GET', '/computers?name=lab-');
  t.equal(byName.json.total, 5, 'name filter is a case-insensitive substring');
  t.equal((await h.call('GET', '/computers?name=%25')).json.total, 0, 'LIKE wildcards match literally');
  const byMac = await h.call('GET', '/computers?mac=00-00-00-00-00-04');
  t.same(byMac.json.items.map((c: { name: string }) => c.name), ['LAB-4'], 'the mac filter normalises');
  const byUuid = await h.call('GET', `/computers?smbiosUuid=${UUID.toUpperCase()}`);
  t.same(byUuid.json.items.map((c: { name: string }) => c.name), ['LAB-3']);
  t.equal((await h.call('GET', '/computers?name=LAB&mac=00:00:00:00:00:01')).json.total, 1, 'filters combine');

  for (const [query, field] of [
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=abc', 'querystring.limit'],
    ['offset=-1', 'querystring.offset'],
    ['mac=zz', 'mac'],
    ['smbiosUuid=zz', 'smbiosUuid'],
    ['colour=red', 'querystring.colour'],
  ]) {
    const res = await h.call('GET', `/computers?${query}`);
    t.equal(res.status, 400, `${query} → 400`);
    t.equal(res.json.field, field, `${query} names ${field}`);
  }
});

t.test('get, patch and delete; a deleted computer leaves its collections', async (t) => {
  const h = await apiHarness(t);
  t.equal((await h.call('GET', '/computers/424242')).status, 404);
  const id = (await h.call('POST', '/computers', { body: { name: 'PC', macAddresses: ['00:00:00:00:00:01'] } })).json.id;
  const keep = (await h.call('POST', '/computers', { body: { name: 'KEEP', macAddresses: ['00:00:00:00:00:02'] } })).json.id;

  const patched = await h.call('PATCH', `/computers/${id}`, { body: { name: 'PC-RENAMED', smbiosUuid: UUID, architecture: 'arm64' } });
  t.equal(patched.status, 200);
  t.match(patched.json, { id, name: 'PC-RENAMED', macAddresses: ['00:00:00:00:00:01'], smbiosUuid: UUID, architecture: 'arm64' }, 'unpatched fields stay');
  t.equal((await h.call('PATCH', `/computers/${id}`, { body: { architecture: 'mips' } })).status, 400);
  t.equal((await h.call('PATCH', '/computers/424242', { body: { name: 'X' } })).status, 404);

  const col = await collection(h, 'Lab', { directMemberIds: [id, keep] });
  t.same((await h.call('GET', `/collections/${col}/members`)).json.computerIds.sort(), [id, keep].sort());

  t.equal((await h.call('DELETE', `/computers/${id}`)).status, 204);
  t.equal((await h.call('GET', `/computers/${id}`)).status, 404);
  t.equal((await h.call('DELETE', `/computers/${id}`)).status, 404, 'deleting twice is a 404');
  const after = await h.call('GET', `/collections/${col}`);
  t.same(after.json.directMemberIds, [keep], 'the direct membership rule went with the computer');
  t.same((await h.call('GET', `/collections/${col}/members`)).json, { total: 1, computerIds: [keep] });
  t.equal((await h.call('GET', '/computers?mac=00:00:00:00:00:01')).json.total, 0, 'its MAC is free again');
  t.equal((await h.call('POST', '/computers', { body: { name: 'NEW', macAddresses: ['00:00:00:00:00:01'] } })).status, 201);
});

t.test('import JSON is all or nothing and the error names the row', async (t) => {
  const h = await apiHarness(t);
  const bad = await h.call('POST', '/computers/import', {
    body: {
      computers: [
        { name: 'A', macAddresses: ['00:00:00:00:00:0a'] },
        { name: 'B', macAddresses: ['nope'] },
        { name: 'C', macAddresses: ['00:00:00:00:00:0c'] },
      ],
    },
  });
  t.equal(bad.status, 400);
  t.match(bad.json.message, /^row 2: /);
  t.match(bad.json.field, /^computers\[1\]/);
  t.equal(await count(h), 3, 'row 1 was rolled back with the rest');
  t.equal(await count(h, '?mac=00:00:00:00:00:0a'), 0);

  const dup = await h.call('POST', '/computers/import', {
    body: { computers: [{ name: 'A', macAddresses: ['00:00:00:00:00:0a'] }, { name: 'B', macAddresses: ['00:00:00:00:00:0A'] }] },
  });
  t.equal(dup.status, 409, 'a duplicate inside the file is a conflict');
  t.match(dup.json.message, /^row 2: /);
  t.equal(dup.json.field, 'computers[1].macAddresses');
  t.equal(await count(h), 3);

  const ok = await h.call('POST', '/computers/import', {
    body: { computers: [{ name: 'A', macAddresses: ['00:00:00:00:00:0a'] }, { name: 'B', smbiosUuid: UUID }] },
  });
  t.equal(ok.status, 201);
  t.equal(ok.json.imported, 2);
  t.same(ok.json.computers.map((c: { name: string }) => c.name), ['A', 'B']);
  t.equal(await count(h), 5);

  for (const body of [{}, { computers: 'A' }, { computers: null }]) {
    const res = await h.call('POST', '/computers/import', { body });
    t.equal(res.status, 400, `${JSON.stringify(body)} → 400`);
    t.equal(res.json.field, 'computers');
  }
});

t.test('import CSV with variable columns', async (t) => {
  const h = await apiHarness(t);
  const csv = [
    'Name,MAC,SMBIOSUUID,OSDComputerName,Role',
    `WS-1,00:00:00:00:01:01;00:00:00:00:01:02,${UUID},WS-1-NEW,"kiosk, lobby"`,
    'WS-2,00-00-00-00-01-03,,,',
    '',
  ].join('\r\n');
  const res = await h.call('POST', '/computers/import', { body: csv, headers: { 'content-type': 'text/csv' } });
  t.equal(res.status, 201, res.body);
  t.equal(res.json.imported, 2);
  const [ws1, ws2] = res.json.computers;
  t.match(ws1, { name: 'WS-1', macAddresses: ['00:00:00:00:01:01', '00:00:00:00:01:02'], smbiosUuid: UUID });
  t.same(ws1.variables, [
    { name: 'OSDComputerName', value: 'WS-1-NEW', hidden: false },
    { name: 'Role', value: 'kiosk, lobby', hidden: false },
  ]);
  t.match(ws2, { name: 'WS-2', macAddresses: ['00:00:00:00:01:03'], smbiosUuid: null, variables: [] }, 'empty cells set no variable');

  const ragged = await h.call('POST', '/computers/import', { body: 'name,mac\nX,00:00:00:00:02:01,extra\n', headers: { 'content-type': 'text/csv' } });
  t.equal(ragged.status, 400);
  t.match(ragged.json.message, /line 2/);
  const noName = await h.call('POST', '/computers/import', { body: 'mac\n00:00:00:00:02:01\n', headers: { 'content-type': 'text/csv' } });
  t.equal(noName.status, 400);
  t.match(noName.json.message, /name column/);
  const badRow = await h.call('POST', '/computers/import', { body: 'name,mac\nX,00:00:00:00:02:01\nY,bad\n', headers: { 'content-type': 'text/csv' } });
  t.equal(badRow.status, 400);
  t.match(badRow.json.message, /^row 2: /);
  t.equal(await count(h), 5, 'only the good file was imported');
});

t.test('R-23 hidden variable values never appear in any response', async (t) => {
  const h = await apiHarness(t);
  const SECRET = 'Pa55-hidden-7f3e9c';
  const SECRET2 = 'Pa55-imported-b81d';
  const created = await h.call('POST', '/computers', {
    body: { name: 'PC', macAddresses: ['00:00:00:00:00:01'], variables: [{ name: 'AdminPw', value: SECRET, hidden: true }, { name: 'Site', value: 'HQ' }] },
  });
  t.equal(created.status, 201);
  t.same(created.json.variables, [
    { name: 'AdminPw', value: null, hidden: true },
    { name: 'Site', value: 'HQ', hidden: false },
  ]);
  const id = created.json.id;
  const imported = await h.call('POST', '/computers/import', {
    body: { computers: [{ name: 'PC2', macAddresses: ['00:00:00:00:00:02'], variables: [{ name: 'Pw', value: SECRET2, hidden: true }] }] },
  });
  t.equal(imported.status, 201);
  const patched = await h.call('PATCH', `/computers/${id}`, { body: { name: 'PC-1' } });
  t.same(patched.json.variables[0], { name: 'AdminPw', value: null, hidden: true }, 'a PATCH that does not touch variables keeps them');
  await collection(h, 'With PC', { directMemberIds: [id] });

  const responses = [
    created,
    imported,
    patched,
    await h.call('GET', `/computers/${id}`),
    await h.call('GET', '/computers'),
    await h.call('GET', `/computers?mac=00:00:00:00:00:02`),
    await h.call('GET', '/collections'),
    await h.call('GET', '/audit'),
    await h.call('GET', '/boot-policy?mac=00:00:00:00:00:01'),
  ];
  t.equal((await h.call('GET', '/boot-policy?mac=00:00:00:00:00:01', { token: h.tokens.technician })).status, 403, 'R-31: technicians read no machine’s boot policy');
  t.equal((await h.call('GET', '/computers', { token: h.tokens.technician })).status, 403, 'R-31: technicians read no computers');
  for (const [i, res] of responses.entries()) {
    t.equal(res.status < 300, true, `response ${i} succeeded`);
    t.notOk(res.body.includes(SECRET) || res.body.includes(SECRET2), `response ${i} does not hold a hidden value`);
  }
});

t.test('the built-in Unknown Computer objects cannot be edited or deleted', async (t) => {
  const h = await apiHarness(t);
  const list = await h.call('GET', '/computers');
  const builtIns = list.json.items.filter((c: { builtIn: boolean }) => c.builtIn);
  t.same(builtIns.map((c: { id: string }) => c.id).sort(), ['unknown-arm64', 'unknown-x64', 'unknown-x86']);
  for (const id of ['unknown-x86', 'unknown-x64', 'unknown-arm64']) {
    const patch = await h.call('PATCH', `/computers/${id}`, { body: { name: 'mine now' } });
    t.equal(patch.status, 409, `PATCH ${id}`);
    t.match(patch.json.message, /built-in/);
    t.equal((await h.call('DELETE', `/computers/${id}`)).status, 409, `DELETE ${id}`);
  }
  const after = await h.call('GET', '/computers/unknown-x64');
  t.match(after.json, { name: 'x64 Unknown Computer (x64 Unknown Computer)', builtIn: true, unknownArchitecture: 'x64' });
});

t.test('R-23 a computer holds at most 1,000 variables', async (t) => {
  const h = await apiHarness(t);
  const vars = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `Var${i}`, value: String(i) }));
  const full = await h.call('POST', '/computers', { body: { name: 'FULL', macAddresses: ['00:00:00:00:00:01'], variables: vars(1000) } });
  t.equal(full.status, 201);
  t.equal(full.json.variables.length, 1000);

  const over = await h.call('POST', '/computers', { body: { name: 'OVER', macAddresses: ['00:00:00:00:00:02'], variables: vars(1001) } });
  t.equal(over.status, 400);
  t.match(over.json.field, /variables/);
  const overPatch = await h.call('PATCH', `/computers/${full.json.id}`, { body: { variables: vars(1001) } });
  t.equal(overPatch.status, 400);
  t.equal((await h.call('GET', `/computers/${full.json.id}`)).json.variables.length, 1000, 'the refused PATCH changed nothing');

  const overImport = await h.call('POST', '/computers/import', { body: { computers: [{ name: 'OVER', macAddresses: ['00:00:00:00:00:02'], variables: vars(1001) }] } });
  t.equal(overImport.status, 422);
  t.equal(overImport.json.rule, 'R-23');
  t.equal(overImport.json.field, 'computers[0].variables');

  const dupName = await h.call('POST', '/computers', {
    body: { name: 'DUP', macAddresses: ['00:00:00:00:00:03'], variables: [{ name: 'A', value: '1' }, { name: 'a', value: '2' }] },
  });
  t.equal(dupName.status, 400, 'variable names are case-insensitive');
  t.equal(dupName.json.field, 'variables[1].name');
  const builtInName = await h.call('POST', '/computers', { body: { name: 'BI', macAddresses: ['00:00:00:00:00:04'], variables: [{ name: '_SMSTSAdvertID', value: 'x' }] } });
  t.equal(builtInName.status, 400, 'names starting with _ are the engine’s built-ins (R-24)');
});
