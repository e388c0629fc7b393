/**
 * How the CLI fails: API errors print `osdeploy: <message> (field X, rule R-xx)` and exit 1;
 * a high-risk deployment prints its reasons and asks for --acknowledge-high-risk;
 * an unreachable server and a bad token say what to do. Also the token file fallback,
 * `ts edit --ops` and tokens shown once.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { capture, closedPort, startSite, writeWork } from './harness.js';

const site = await startSite(t);

// Fixtures that are not under test go through the API directly.
const boot = await site.api<{ id: string }>('POST', '/content', { kind: 'bootImage', name: 'Boot', architecture: 'x64' });
const os = await site.api<{ id: string }>('POST', '/content', { kind: 'osImage', name: 'Win11' });
const installTs = await site.api<{ id: string }>('POST', '/task-sequences', { type: 'installOs', name: 'Install', bootImageId: boot.id, osImageId: os.id });
const customTs = await site.api<{ id: string }>('POST', '/task-sequences', { type: 'custom', name: 'Custom' });
const pc = await site.api<{ id: string }>('POST', '/computers', { name: 'PC01', macAddresses: ['02:00:00:00:00:01'] });
const lab = await site.api<{ id: string }>('POST', '/collections', { name: 'Lab', directMemberIds: [pc.id] });

t.test('an API error names the field, exits 1 and prints nothing on stdout', async (t) => {
  const r = await site.cli(['computers', 'create', '--name', 'Bad', '--mac', 'zz']);
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  t.match(r.stderr, /^osdeploy: .*"zz".* \(field macAddress[^)]*\)\n$/);
});

t.test('an edit error names the field and the rule', async (t) => {
  const r = await site.cli(['ts', 'add-step', customTs.id, '--type', 'NoSuchStep']);
  t.equal(r.code, 1);
  t.match(r.stderr, /^osdeploy: operation 0 \(addStep\): unknown step type "NoSuchStep" \(field operations\[0\]\.type, rule R-03\)$/m);
});

t.test('high-risk deployment: reasons and the hint, then acknowledged and audited (R-10)', async (t) => {
  const set = await site.cli(['settings', 'set', '--default-size', '0', '--json']);
  t.equal(set.code, 0, set.stderr);
  t.equal((JSON.parse(set.stdout) as { highRisk: { defaultSize: number } }).highRisk.defaultSize, 0);

  const args = ['deployments', 'create', '--ts', installTs.id, '--collection', lab.id, '--purpose', 'required', '--asap', '--availability', 'mediaPxe'];
  const first = await site.cli(args);
  t.equal(first.code, 1);
  t.equal(first.stdout, '');
  t.match(first.stderr, /high-risk deployment and needs acknowledgement \(rule R-10\)/);
  t.match(first.stderr, /^ {2}- Lab has 1 members, more than the default size 0$/m, 'each reason on its own line');
  t.match(first.stderr, /--acknowledge-high-risk/);
  t.equal((await site.api<{ total: number }>('GET', '/deployments')).total, 0, 'nothing created');

  const second = await site.cli([...args, '--acknowledge-high-risk']);
  t.equal(second.code, 0, second.stderr);
  const id = capture(second.stdout, /created deployment (\S+)/);
  t.match(second.stdout, /high risk:\s+warned: Lab has 1 members/);
  t.match(second.stdout, /assignments:\s+asap/);
  const audit = await site.api<{ items: { action: string; target: string }[] }>('GET', '/audit?action=deployment.highRiskAcknowledged');
  t.same(audit.items.map((a) => a.target), [id]);
});

t.test('connection refused names the server', async (t) => {
  const server = `http://127.0.0.1:${await closedPort()}`;
  const r = await site.cli(['computers', 'list', '--server', server]);
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  t.match(r.stderr, `osdeploy: cannot connect to the osdeploy server at ${server} (connection refused)`);
});

t.test('tokens: a bad one is refused with a hint; ./data/admin.token is the fallback', async (t) => {
  const bad = await site.cli(['collections', 'list'], { env: { OSDEPLOY_TOKEN: 'osd_not-a-token' } });
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^osdeploy: the token is unknown or revoked; give a token with --token, OSDEPLOY_TOKEN or \.\/data\/admin\.token$/m);

  const dir = path.join(site.work, 'operator');
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  writeFileSync(path.join(dir, 'data', 'admin.token'), `${site.token}\n`);
  const viaFile = await site.cli(['collections', 'list'], { cwd: dir, env: { OSDEPLOY_TOKEN: undefined } });
  t.equal(viaFile.code, 0, viaFile.stderr);
  t.match(viaFile.stdout, /^ID\s+NAME\s+MEMBERS/);
  t.match(viaFile.stdout, /^SMS00001\s+All Systems\s+\d+\s/m);
});

t.test('a new token is printed once, and works', async (t) => {
  const created = await site.cli(['tokens', 'create', '--name', 'tech', '--role', 'technician']);
  t.equal(created.code, 0, created.stderr);
  const token = capture(created.stdout, /shown only this once:\n(\S+)/);
  t.match(token, /^\S{20,}$/);
  const tech = await fetch(`${site.url}/api/v1/deployments`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(tech.status, 200, 'the printed token works');
  t.equal((await fetch(`${site.url}/api/v1/collections`, { headers: { authorization: `Bearer ${token}` } })).status, 403, 'with its role: technicians read no collections');
  const images = await site.cli(['boot-images', 'list'], { env: { OSDEPLOY_TOKEN: token } });
  t.equal(images.code, 0, images.stderr);
  t.match(images.stdout, /^ID\s+NAME\s+ARCH\s+OS\s+VERSION\s+USABLE/, 'a technician lists the boot images for media');
  const content = await site.cli(['content', 'list'], { env: { OSDEPLOY_TOKEN: token } });
  t.equal(content.code, 1);
  t.match(content.stderr, /the technician role may not GET \/api\/v1\/content/);
});

t.test('ts edit applies a JSON list of operations atomically', async (t) => {
  const ops = writeWork(site, 'ops.json', JSON.stringify([
    { op: 'addGroup', name: 'Prepare' },
    { op: 'addStep', type: 'RunCommandLine', name: 'Hello', properties: { commandLine: 'echo hi' }, position: { parentId: 'i1' } },
  ]));
  const r = await site.cli(['ts', 'edit', customTs.id, '--ops', ops]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /applied 2 operation\(s\)/);
  t.match(r.stdout, /^ {2}i1 {2}Prepare {2}\[group\]\n {4}i2 {2}Hello {2}\(RunCommandLine\)$/m);

  const bad = writeWork(site, 'bad-ops.json', JSON.stringify([{ op: 'addGroup', name: 'Kept?' }, { op: 'remove', itemId: 'i99' }]));
  const failed = await site.cli(['ts', 'edit', customTs.id, '--ops', bad]);
  t.equal(failed.code, 1);
  t.match(failed.stderr, /operation 1 \(remove\).*\(field operations\[1\]/);
  const after = await site.api<{ items: { name: string }[] }>('GET', `/task-sequences/${customTs.id}`);
  t.same(after.items.map((i) => i.name), ['Prepare'], 'the first operation of the failed list was not kept');
});
