/**
 * The real service as a child process: a whole scenario made over HTTP survives a graceful
 * stop and a second start on the same data directory; start-up errors exit non-zero with a
 * clear message.
 */
import { readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import t from 'tap';
import { openDatabase } from '../../../server/store/db.js';
import { MIGRATIONS } from '../../../server/store/migrations.js';
import { api, logLines, spawnService, startService, tempDataDir } from './harness.js';

type Obj = Record<string, unknown>;

const MAC = '00-1A-2B-3C-4D-5E';
const MAC_NORMAL = '00:1a:2b:3c:4d:5e';
const UUID = '4C4C4544-0042-3510-8052-B4C04F4E3432';

t.test('a full scenario survives SIGTERM and a second start', async (t) => {
  const dataDir = tempDataDir(t);
  const first = await startService(t, { dataDir, lifetimeMs: 40_000 });
  const admin = first.adminToken;
  t.match(admin, /^osd_/, 'the first start wrote an admin token');
  const tokenFile = path.join(dataDir, 'admin.token');
  const tokenStat = statSync(tokenFile);
  t.equal(tokenStat.mode & 0o777, 0o600, 'admin.token is owner-only');
  t.ok(logLines(first.stdout()).some((l) => String(l.msg).includes('first start: an admin token was written')), 'the first start says where the token is');

  const call = <T = Obj>(method: string, url: string, body?: unknown, token = admin) => api<T>(first.url, token, method, url, body);
  const created = async <T = Obj>(url: string, body: unknown): Promise<T> => {
    const r = await call<T>('POST', url, body);
    t.equal(r.status, 201, `POST ${url} → 201`, { body: r.body });
    return r.body;
  };

  const bootImage = await created('/content', { kind: 'bootImage', name: 'Boot image (x64)', architecture: 'x64' });
  const osImage = await created('/content', { kind: 'osImage', name: 'Windows 11 Enterprise' });
  const folder = await created('/folders', { name: 'Deployment' });
  const ts = await created('/task-sequences', {
    type: 'installOs',
    name: 'Install Windows 11',
    folderId: folder.id,
    bootImageId: bootImage.id,
    osImageId: osImage.id,
    join: { mode: 'workgroup', workgroup: 'LAB' },
  });
  t.equal(ts.type, 'installOs');
  const pc = await created('/computers', {
    name: 'LAB-PC-01',
    macAddresses: [MAC],
    smbiosUuid: UUID,
    architecture: 'x64',
    variables: [
      { name: 'OSDSecret', value: 'hunter2', hidden: true },
      { name: 'OSDRole', value: 'kiosk' },
    ],
  });
  const collection = await created('/collections', { name: 'Lab machines', description: 'restart test', directMemberIds: [pc.id] });
  const deployment = await created('/deployments', {
    taskSequenceId: ts.id,
    collectionId: collection.id,
    purpose: 'available',
    availability: 'mediaPxe',
    comments: 'survives restarts',
    rerun: 'ifFailed',
  });
  const clientToken = await created<{ id: string; token: string; role: string }>('/tokens', { name: 'pxe responder', role: 'client', scope: 'site' });
  t.equal(clientToken.role, 'client');

  // Everything as the first process sees it, to compare after the restart.
  const paths = [
    `/content/${bootImage.id}`,
    `/content/${osImage.id}`,
    '/folders',
    `/task-sequences/${ts.id}`,
    `/computers/${pc.id}`,
    `/collections/${collection.id}`,
    `/collections/${collection.id}/members`,
    `/deployments/${deployment.id}`,
    '/deployments',
    '/tokens',
    '/settings',
  ];
  const before = new Map<string, unknown>();
  for (const p of paths) {
    const r = await call('GET', p);
    t.equal(r.status, 200, `GET ${p} before the restart`);
    before.set(p, r.body);
  }
  const bootBefore = await call('GET', `/boot-policy?mac=${MAC_NORMAL}&arch=x64`, undefined, clientToken.token);

  // Graceful stop.
  const exit = await first.stop('SIGTERM');
  t.same(exit, { code: 0, signal: null }, 'SIGTERM: exit code 0');
  const lines = logLines(first.stdout());
  t.ok(lines.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM'), 'logs "shutting down" with the signal');
  t.ok(lines.some((l) => l.msg === 'osdeploy stopped'), 'logs "osdeploy stopped"');
  t.notMatch(first.stdout() + first.stderr(), /hunter2/, 'the hidden value never reached a log');

  // Second start on the same data directory.
  const second = await startService(t, { dataDir, lifetimeMs: 40_000 });
  t.equal(second.adminToken, admin, 'the admin token is unchanged');
  t.equal(readFileSync(tokenFile, 'utf8'), `${admin}\n`, 'admin.token was not rewritten');
  t.equal(statSync(tokenFile).mtimeMs, tokenStat.mtimeMs, 'admin.token keeps its modification time');
  t.notOk(logLines(second.stdout()).some((l) => String(l.msg).includes('first start')), 'the second start writes no token');

  const again = <T = Obj>(method: string, url: string, token = admin) => api<T>(second.url, token, method, url);
  for (const p of paths) {
    const r = await again('GET', p);
    t.equal(r.status, 200, `GET ${p} after the restart`);
    t.same(r.body, before.get(p), `GET ${p} reads back the same`);
  }

  // Spot checks on what matters, in case both reads were wrong the same way.
  const d = (await again<Obj>('GET', `/deployments/${deployment.id}`)).body;
  t.match(d, { id: deployment.id, taskSequenceId: ts.id, collectionId: collection.id, purpose: 'available', availability: 'mediaPxe', comments: 'survives restarts', rerun: 'ifFailed' });
  const c = (await again<Obj>('GET', `/computers/${pc.id}`)).body;
  t.match(c, { id: pc.id, name: 'LAB-PC-01', macAddresses: [MAC_NORMAL], smbiosUuid: UUID.toLowerCase() });
  t.same(c.variables, [
    { name: 'OSDSecret', value: null, hidden: true },
    { name: 'OSDRole', value: 'kiosk', hidden: false },
  ], 'the hidden variable is still there and still masked');
  t.same((await again<Obj>('GET', `/collections/${collection.id}/members`)).body, { total: 1, computerIds: [pc.id] });
  const tsAfter = (await again<Obj>('GET', `/task-sequences/${ts.id}`)).body;
  t.match(tsAfter, { id: ts.id, name: 'Install Windows 11', type: 'installOs', folderId: folder.id, bootImageId: bootImage.id, folderPath: 'Deployment' });
  t.match((await again<{ items: Obj[] }>('GET', '/folders')).body.items, [{ id: folder.id, name: 'Deployment' }]);

  // The client token still works, and boot policy finds the deployment by MAC.
  const boot = await again<Obj>('GET', `/boot-policy?mac=${encodeURIComponent(MAC)}&arch=x64`, clientToken.token);
  t.equal(boot.status, 200);
  const { bootToken: _a, bootTokenExpiresAt: _b, ...answer } = boot.body as Obj & { bootToken?: string; bootTokenExpiresAt?: number };
  const { bootToken: _c, bootTokenExpiresAt: _d, ...answerBefore } = bootBefore.body as Obj & { bootToken?: string; bootTokenExpiresAt?: number };
  t.same(answer, answerBefore, 'the same boot answer as before the restart (each answer mints its own boot token)');
  t.match(boot.body, {
    kind: 'offer',
    identity: { computerId: pc.id, known: true, matchedBy: 'macAddress' },
    offers: [{ deploymentId: deployment.id, taskSequenceId: ts.id, bootImageId: bootImage.id }],
  });
  // From media with the preferred deployment, unattended: the machine runs it and the client
  // role receives the hidden value, which therefore survived the restart.
  const run = await again<Obj>('GET', `/boot-policy?mac=${MAC_NORMAL}&arch=x64&source=media&preferred=${deployment.id}&unattended=true`, clientToken.token);
  t.match(run.body, { kind: 'run', deploymentId: deployment.id, taskSequenceId: ts.id });
  t.match(run.body.variables, [{ name: 'OSDSecret', value: 'hunter2', hidden: true }], 'the client gets the hidden value');

  // The counters carried over: new ids follow the old ones.
  const pc2 = await api<Obj>(second.url, admin, 'POST', '/computers', { name: 'LAB-PC-02', macAddresses: ['00:1a:2b:3c:4d:5f'] });
  t.equal(pc2.status, 201);
  t.equal(Number(pc2.body.id), Number(pc.id) + 1, 'computer ids continue after the restart');

  const exit2 = await second.stop('SIGINT');
  t.same(exit2, { code: 0, signal: null }, 'SIGINT: exit code 0 too');
});

t.test('an unknown OSDEPLOY_ variable stops the start with exit 2', async (t) => {
  const dataDir = tempDataDir(t);
  const child = await spawnService(t, { dataDir, env: { OSDEPLOY_BOGUS: '1' }, lifetimeMs: 20_000 });
  const exit = await child.exited;
  t.same(exit, { code: 2, signal: null });
  t.match(child.stderr(), /configuration error: unknown environment variable OSDEPLOY_BOGUS/);
});

t.test('a port already in use exits non-zero with "cannot listen"', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const address = blocker.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const child = await spawnService(t, { dataDir: tempDataDir(t), port, lifetimeMs: 20_000 });
  const exit = await child.exited;
  t.not(exit.code, 0, 'a non-zero exit');
  t.equal(exit.code, 2);
  t.match(child.stderr(), /cannot listen: .*EADDRINUSE/);
});

t.test('a data directory from a newer osdeploy is refused at start', async (t) => {
  const dataDir = tempDataDir(t);
  const db = openDatabase(path.join(dataDir, 'site.db'));
  const future = Math.max(...MIGRATIONS.map((m) => m.version)) + 1;
  db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(future, 'from a newer release', Date.now());
  db.close();
  const child = await spawnService(t, { dataDir, lifetimeMs: 20_000 });
  const exit = await child.exited;
  t.equal(exit.code, 2);
  t.match(child.stderr(), new RegExp(`schema version ${future}, newer than this program knows .*; upgrade osdeploy`));
});
