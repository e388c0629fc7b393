/**
 * Issue 13 rows H-1, H-1b, M-5, L-7 and the PXE password (R-18): a token reads secrets only of
 * the machine it was issued for, and only when that boot proved itself; status is bound to the
 * token's machine and the deployments that target it. Each attack below succeeded before.
 */
import t from 'tap';
import { createToken } from '../../../server/site/tokens.js';
import type { MediaRecord } from '../../../server/site/repositories.js';
import { apiHarness, collection, computer, customTaskSequence, type ApiHarness, type Json } from '../../fixtures/api-harness.js';

const VICTIM_MAC = '00:15:5d:77:00:01';
const VICTIM_UUID = '4c4c4544-0031-3510-8052-b4c04f4d4d99';
const OTHER_MAC = '00:15:5d:77:00:02';
const JOIN = 'Join-Secret-123!';
const HIDDEN = 'hidden-value-xyz';
const ASAP = [{ kind: 'asap' }];

interface Lab {
  readonly h: ApiHarness;
  readonly victim: string;
  readonly other: string;
  readonly deployment: string;
  readonly tsId: string;
  readonly hiddenDeployment: string;
}

/** A victim computer in a collection with a hidden variable, deployed a task sequence with a Join Domain password. */
const LINUX_BOOT = { os: 'linux', kernel: 'linux/vmlinuz', initrds: ['linux/initrd.img'], cmdline: 'console=ttyS0' };

async function lab(t: { teardown(fn: () => unknown): void }): Promise<Lab> {
  const h = await apiHarness(t);
  const victim = await computer(h, 'VICTIM', { macAddresses: [VICTIM_MAC], smbiosUuid: VICTIM_UUID });
  const other = await computer(h, 'OTHER', { macAddresses: [OTHER_MAC] });
  const col = await collection(h, 'Finance', { directMemberIds: [victim, other], variables: [{ name: 'Secret', value: HIDDEN, hidden: true }] });
  const boot = await h.call('POST', '/content', { body: { kind: 'bootImage', name: 'Boot', architecture: 'x64', os: 'linux', boot: LINUX_BOOT } });
  if (boot.status !== 201) throw new Error(boot.body);
  const os = await h.call('POST', '/content', { body: { kind: 'osImage', name: 'OS', architecture: 'x64' } });
  const ts = await h.call('POST', '/task-sequences', {
    body: { type: 'installOs', name: 'Join', bootImageId: boot.json.id, osImageId: os.json.id, join: { mode: 'domain', domain: 'contoso.com', account: 'CONTOSO\\join', password: JOIN } },
  });
  if (ts.status !== 201) throw new Error(ts.body);
  const dep = await h.call('POST', '/deployments', { body: { taskSequenceId: ts.json.id, collectionId: col, purpose: 'available', assignments: [], availability: 'mediaPxe' } });
  if (dep.status !== 201) throw new Error(dep.body);
  const hidden = await customTaskSequence(h, 'Hidden one');
  const hd = await h.call('POST', '/deployments', { body: { taskSequenceId: hidden.tsId, collectionId: col, purpose: 'available', assignments: [], availability: 'mediaPxeHidden' } });
  if (hd.status !== 201) throw new Error(hd.body);
  return { h, victim, other, deployment: dep.json.id, tsId: ts.json.id, hiddenDeployment: hd.json.id };
}

const leaks = (body: string): boolean => body.includes(JOIN) || body.includes(HIDDEN);

/** Unprotected bootable media with its token, as `POST /media` records them. */
async function unprotectedMedia(h: ApiHarness, o: { preferred: string | null; allowUnattended: boolean; protected?: boolean }): Promise<string> {
  const id = `PS1M9${Math.floor(Math.random() * 1e4)}`;
  const token = await createToken(h.ctx, 'test', { name: `media ${id}`, role: 'client', mediaId: id });
  const r: MediaRecord = {
    id,
    type: 'bootable',
    format: 'iso',
    state: 'ready',
    protected: o.protected ?? false,
    siteUrl: 'http://192.0.2.10:8080',
    architecture: 'x64',
    mediaForm: 'usb',
    bootImageId: 'none',
    deploymentId: null,
    preferred: o.preferred,
    allowUnattended: o.allowUnattended,
    variableNames: [],
    tokenId: token.info.id,
    createdAt: h.clock.now(),
    expiresAt: null,
    createdBy: 'test',
    error: null,
    output: null,
  };
  await h.ctx.store.media.insert(r);
  return token.token;
}

const policyOf = async (h: ApiHarness, query: string, token: string): Promise<{ status: number; json: Json; body: string }> => {
  const res = await h.call('GET', `/boot-policy?${query}`, { token });
  return { status: res.status, json: res.json, body: res.body };
};

const tokenInScript = (script: string): string | null => /osdeploy\.token=(osdb_[A-Za-z0-9_.-]+)/.exec(script)?.[1] ?? null;

t.test('H-1: a token from unprotected media reads no other machine’s secrets (by MAC or UUID), nor its client policy', async (t) => {
  const { h, victim, deployment } = await lab(t);
  const stick = await unprotectedMedia(h, { preferred: null, allowUnattended: false });
  for (const q of [`mac=${VICTIM_MAC}&source=pxe&preferred=${deployment}&unattended=true`, `uuid=${VICTIM_UUID}&preferred=${deployment}&unattended=true`]) {
    const p = await policyOf(h, q, stick);
    t.equal(p.status, 200, q);
    t.notOk(leaks(p.body), `no Join Domain password or hidden value: ${q}`);
    t.equal(p.json.kind, 'run', 'the technician’s pick among offers still runs');
    t.match(p.json.variables.find((v: Json) => v.name === 'Secret'), { value: null, hidden: true });
    t.match(p.json.secretsWithheld, { secrets: [/domainJoinPassword/, /hidden variable Secret/], reason: /did not prove itself/ });
    t.match(p.json.builtIns, { _SMSTSMediaType: 'BootMedia' }, 'a media token boots as media, whatever the query says');
  }
  const cp = await h.call('GET', `/client-policy?computerId=${victim}`, { token: stick });
  t.equal(cp.status, 403, 'client policy of any computer: refused');
  t.notOk(leaks(cp.body));

  // A client token an administrator makes without a computer enrolls, nothing more.
  const made = await h.call('POST', '/tokens', { body: { name: 'enroll', role: 'client' } });
  t.equal(made.status, 201);
  t.equal(made.json.scope, 'enroll');
  const p = await policyOf(h, `mac=${VICTIM_MAC}&preferred=${deployment}&unattended=true`, made.json.token);
  t.notOk(leaks(p.body), 'an enrollment token reads no secret');
  t.equal((await h.call('GET', `/client-policy?computerId=${victim}`, { token: made.json.token })).status, 403);
});

t.test('H-1b: a media token’s boot follows the media’s own settings; the query cannot widen it', async (t) => {
  const { h, deployment, hiddenDeployment } = await lab(t);
  const stick = await unprotectedMedia(h, { preferred: deployment, allowUnattended: false });
  const p = await policyOf(h, `mac=${VICTIM_MAC}&source=media&preferred=${hiddenDeployment}&unattended=true`, stick);
  t.equal(p.status, 200);
  t.not(p.json.deploymentId, hiddenDeployment, 'the hidden deployment does not run');
  t.equal(p.json.kind, 'offer', 'the media do not allow unattended: the visible deployment is offered');
  t.notOk(p.json.offers.some((o: Json) => o.deploymentId === hiddenDeployment), 'and the hidden one is not offered');
  t.match(p.json.note, /unattended deployment is not allowed/);
});

t.test('a per-boot token: bound to its machine, proven only by the PXE password, forged ones refused', async (t) => {
  const { h, victim, deployment } = await lab(t);
  // No PXE password: the script carries a token, and that boot gets no secrets.
  const script = await h.app.inject({ method: 'GET', url: `/boot.ipxe?mac=${VICTIM_MAC}` });
  const token = tokenInScript(script.body);
  t.ok(token, 'the boot script hands the boot image a per-boot token');
  const p = await policyOf(h, `mac=${VICTIM_MAC}&preferred=${deployment}&unattended=true`, token!);
  t.equal(p.json.identity.computerId, victim);
  t.notOk(leaks(p.body), 'no PXE password: the boot proved nothing, no secrets');
  t.ok(p.json.bootToken, 'the answer carries the boot’s token for later calls');

  const theirs = await policyOf(h, `mac=${OTHER_MAC}`, token!);
  t.equal(theirs.json.identity.computerId, victim, 'asking about another MAC still answers for the token’s own machine');

  const [body, sig] = token!.slice('osdb_'.length).split('.');
  const payload = JSON.parse(Buffer.from(body!, 'base64url').toString());
  const forged = `osdb_${Buffer.from(JSON.stringify({ ...payload, p: true })).toString('base64url')}.${sig}`;
  t.equal((await h.call('GET', `/boot-policy?mac=${VICTIM_MAC}`, { token: forged })).status, 401, 'a payload changed under its signature: 401');
  t.equal((await h.call('GET', `/boot-policy?mac=${VICTIM_MAC}`, { token: `${token}x` })).status, 401);

  // R-18: with a PXE password the script asks for it; only the right one gets a proven token.
  const set = await h.call('PATCH', '/settings', { body: { pxe: { password: 'letmein-42' } } });
  t.equal(set.status, 200, set.body);
  t.match(set.json.pxe, { passwordRequired: true, passwordSet: true });
  t.notOk(set.body.includes('letmein-42'));
  const settings = await h.call('GET', '/settings');
  t.notOk(settings.body.includes('letmein-42') || settings.body.includes('scrypt'), 'the password is never shown, nor its hash');

  const ask = await h.app.inject({ method: 'GET', url: `/boot.ipxe?mac=${VICTIM_MAC}` });
  t.match(ask.body, /login/, 'the script asks for the password');
  t.match(ask.body, /^chain .*http:\/\/\$\{username:uristring\}:\$\{password:uristring\}@.*\/boot\.ipxe\?.*&login=true /m, 'and sends it with HTTP Basic authentication, never in the request line');
  const challenge = await h.app.inject({ method: 'GET', url: `/boot.ipxe?mac=${VICTIM_MAC}&login=true` });
  t.equal(challenge.statusCode, 401, 'the answer URL without credentials is challenged');
  t.match(challenge.headers['www-authenticate'], /^Basic realm="osdeploy PXE password"/);
  t.equal(tokenInScript(challenge.body), null);
  const notBasic = await h.app.inject({ method: 'GET', url: `/boot.ipxe?mac=${VICTIM_MAC}&login=true`, headers: { authorization: 'Bearer letmein-42' } });
  t.equal(notBasic.statusCode, 401, 'only Basic credentials answer it');
  t.equal(tokenInScript(ask.body), null, 'nothing boots before the password');
  t.notOk(ask.body.includes('letmein-42'));
  t.notOk(/kernel|initrd/.test(ask.body), 'no kernel before the password');

  // What iPXE sends after the challenge: the form's username (ignored) and password, Basic-encoded.
  const post = (password: string, mac = VICTIM_MAC) =>
    h.app.inject({ method: 'GET', url: `/boot.ipxe?mac=${mac}&login=true`, headers: { authorization: `Basic ${Buffer.from(`pxe:${password}`).toString('base64')}` } });
  // A newer iPXE script may send it as a form (`params`): the same check.
  const form = (password: string, mac = VICTIM_MAC) =>
    h.app.inject({ method: 'POST', url: `/boot.ipxe?mac=${mac}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `password=${encodeURIComponent(password)}` });
  t.match((await form('guess')).body, /wrong PXE password/, 'a wrong form answer is refused');
  t.ok(tokenInScript((await form('letmein-42')).body), 'the right form answer boots');
  const wrong = await post('guess');
  t.match(wrong.body, /wrong PXE password/);
  t.equal(tokenInScript(wrong.body), null, 'a wrong password boots nothing');
  const right = await post('letmein-42');
  const proven = tokenInScript(right.body);
  t.ok(proven, 'the right password boots, with a token');
  const secrets = await policyOf(h, `mac=${VICTIM_MAC}&preferred=${deployment}&unattended=true`, proven!);
  t.ok(secrets.body.includes(HIDDEN), 'a proven boot reads its own hidden variables');
  t.match(JSON.stringify(secrets.json.taskSequence), new RegExp(JOIN), 'and its step secrets');
  t.notOk(secrets.json.secretsWithheld);

  for (let i = 0; i < 5; i++) await post('nope', OTHER_MAC);
  const locked = await post('letmein-42', OTHER_MAC);
  t.match(locked.body, /too many wrong PXE passwords/, 'a burst of wrong passwords locks that machine out for a while');
  t.equal(tokenInScript(locked.body), null);
});

t.test('M-5: status is bound to the token’s machine and to deployments that target it', async (t) => {
  const { h, victim, other, deployment, tsId: _ts } = await lab(t);
  const elsewhere = await computer(h, 'ELSEWHERE', { macAddresses: ['00:15:5d:77:00:03'] });
  const msg = (computerId: string, deploymentId: string, kind: string, extra: Record<string, unknown> = {}) => ({
    id: `m-${computerId}-${deploymentId}-${kind}-${Math.random()}`,
    at: h.clock.now(),
    computerId,
    deploymentId,
    runId: 'r1',
    kind,
    ...extra,
  });
  const post = (token: string, messages: unknown[]) => h.call('POST', '/status', { token, body: { messages } });

  const enroll = (await h.call('POST', '/tokens', { body: { name: 'e', role: 'client' } })).json.token;
  const r1 = await post(enroll, [msg(victim, deployment, 'runStarted', { source: 'pxe' }), msg(victim, deployment, 'runFinished', { outcome: 'success' })]);
  t.equal(r1.status, 200);
  t.match(r1.json, { accepted: 0, rejected: [{ reason: /enrollment token/ }, { reason: /enrollment token/ }] });

  const script = await h.app.inject({ method: 'GET', url: `/boot.ipxe?mac=${OTHER_MAC}` });
  const otherBoot = tokenInScript(script.body)!;
  const r2 = await post(otherBoot, [msg(victim, deployment, 'runStarted', { source: 'pxe' })]);
  t.match(r2.json, { accepted: 0, rejected: [{ reason: /another machine/ }] }, 'another machine’s boot token cannot speak for the victim');
  const r3 = await post(otherBoot, [msg(other, 'PS100099', 'runStarted', { source: 'pxe' })]);
  t.match(r3.json, { accepted: 0, rejected: [{ reason: /does not target/ }] }, 'nor for a deployment that does not target it');
  const r4 = await post(otherBoot, [msg(other, deployment, 'runStarted', { source: 'pxe' })]);
  t.match(r4.json, { accepted: 1, rejected: [] }, 'its own machine and deployment: accepted');

  const own = await h.call('POST', '/tokens', { body: { name: 'agent', role: 'client', computerId: elsewhere } });
  t.equal(own.status, 201, own.body);
  t.equal(own.json.scope, 'computer');
  const r5 = await post(own.json.token, [msg(victim, deployment, 'runFinished', { outcome: 'success' })]);
  t.match(r5.json, { accepted: 0, rejected: [{ reason: /another machine/ }] });
  t.equal((await h.call('GET', `/client-policy?computerId=${victim}`, { token: own.json.token })).status, 403);
  t.equal((await h.call('GET', `/client-policy?computerId=${elsewhere}`, { token: own.json.token })).status, 200, 'its own client policy');

  const status = await h.call('GET', `/deployments/${deployment}/status`);
  t.notOk(JSON.stringify(status.json).includes(`"${victim}"`) && status.json.success > 0, 'the victim shows no forged success');
  t.equal((await h.call('GET', `/boot-policy?mac=${VICTIM_MAC}&source=pxe`)).json.kind, 'offer', 'and nothing blocks its reimaging');
});

t.test('registration: a boot registers only its own machine and gets its token bound to the new computer', async (t) => {
  const { h } = await lab(t);
  const bi = await h.call('POST', '/content', { body: { kind: 'bootImage', name: 'Boot U', architecture: 'x64', os: 'linux', boot: LINUX_BOOT } });
  const ts = await h.call('POST', '/task-sequences', { body: { type: 'custom', name: 'Unknown deploy', bootImageId: bi.json.id } });
  const tsId = ts.json.id;
  await h.call('POST', '/deployments', { body: { taskSequenceId: tsId, collectionId: 'SMS000US', purpose: 'required', assignments: ASAP, availability: 'mediaPxe' } });
  const mac = '00:15:5d:77:00:99';
  const script = await h.app.inject({ method: 'GET', url: `/boot.ipxe?mac=${mac}` });
  const boot = tokenInScript(script.body)!;
  t.ok(boot);
  const dep = (await h.call('GET', `/boot-policy?mac=${mac}`, { token: boot })).json.deploymentId;
  t.ok(dep, 'the unknown machine runs the deployment to All Unknown Computers');
  const elsewhere = await h.call('POST', '/register', { token: boot, body: { macAddresses: ['00:15:5d:77:00:98'], architecture: 'x64' } });
  t.equal(elsewhere.status, 403, 'another MAC: refused');
  const reg = await h.call('POST', '/register', { token: boot, body: { macAddresses: [mac], architecture: 'x64' } });
  t.equal(reg.status, 201, reg.body);
  t.match(reg.json.bootToken, /^osdb_/);
  const r = await h.call('POST', '/status', { token: reg.json.bootToken, body: { messages: [{ id: 'x1', at: 1, computerId: reg.json.computer.id, deploymentId: dep, runId: 'r', kind: 'runStarted', source: 'pxe' }] } });
  t.match(r.json, { accepted: 1 }, 'the registered machine reports its unknown-computer deployment');
});

t.test('L-7: the public /boot.ipxe honours no caller-supplied preferred or unattended', async (t) => {
  const { h, hiddenDeployment } = await lab(t);
  const s = await h.app.inject({ method: 'GET', url: `/boot.ipxe?mac=${VICTIM_MAC}&preferred=${hiddenDeployment}&unattended=true&source=media` });
  t.notOk(s.body.includes(hiddenDeployment), 'the hidden deployment is not in the script');
});

t.test('with no PXE password, secrets deployed to Unknown Computers are warned about (API answer and /healthz)', async (t) => {
  const h = await apiHarness(t);
  const boot = await h.call('POST', '/content', { body: { kind: 'bootImage', name: 'Boot', architecture: 'x64' } });
  const os = await h.call('POST', '/content', { body: { kind: 'osImage', name: 'OS', architecture: 'x64' } });
  const ts = await h.call('POST', '/task-sequences', {
    body: { type: 'installOs', name: 'Join', bootImageId: boot.json.id, osImageId: os.json.id, join: { mode: 'domain', domain: 'contoso.com', account: 'CONTOSO\\join', password: JOIN } },
  });
  const dep = await h.call('POST', '/deployments', { body: { taskSequenceId: ts.json.id, collectionId: 'SMS000US', purpose: 'available', assignments: [], availability: 'mediaPxe' } });
  t.equal(dep.status, 201);
  t.match(dep.json.warnings, [/Unknown Computers.*no PXE password/]);
  t.notOk(dep.body.includes(JOIN));
  const health = await h.app.inject({ method: 'GET', url: '/healthz' });
  t.match(JSON.parse(health.body).warnings, [/no PXE password/]);
  t.notOk(health.body.includes(dep.json.id), '/healthz is public: it counts, it does not name');
  t.match((await h.call('GET', '/settings')).json.warnings, [new RegExp(dep.json.id)]);
  await h.call('PATCH', '/settings', { body: { pxe: { password: 'letmein-42' } } });
  t.notOk(JSON.parse((await h.app.inject({ method: 'GET', url: '/healthz' })).body).warnings, 'a PXE password set: no warning');
});
