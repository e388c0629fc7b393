/**
 * /api/v1/media against a real site: roles, media variables and R-20 through the
 * boot-policy API with the media's own client token, the password (nothing in the clear on the
 * media), expiry enforced by the service (401 "media expired"), and delete revoking the token.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import t, { type Test } from 'tap';
import { unpackTar } from '../../../media/boot-media/archive.js';
import { openJson, headerAad, type SealedFile } from '../../../media/boot-media/crypto.js';
import { inspectMedia } from '../../../media/boot-media/inspect.js';
import { LAYOUT } from '../../../media/boot-media/model.js';
import { mediaBuilt, mediaDir } from '../../../server/site/media.js';
import { apiHarness, type ApiHarness, type Json } from '../../fixtures/api-harness.js';
import { missingFor, tempDir } from './fixture.js';
import { HIDDEN_VALUE, mediaSite, QEMU_MAC, STEP_SECRET } from './site-fixture.js';

async function site(t: Test) {
  const h = await apiHarness(t);
  const s = await mediaSite(async (method, url, body) => h.call(method, url, body === undefined ? {} : { body }), t);
  return { h, s };
}

async function build(h: ApiHarness, body: Record<string, unknown>): Promise<Json> {
  const res = await h.call('POST', '/media', { body, token: h.tokens.technician });
  if (res.status !== 202 || res.json.state !== 'building') throw new Error(`${res.status} ${res.body}`);
  const done = await mediaBuilt(h.ctx, res.json.id);
  if (done.state !== 'ready') throw new Error(`media ${done.id}: ${done.state} ${done.error}`);
  const stored = await h.ctx.store.media.get(done.id);
  if (stored?.node !== h.ctx.node || typeof stored.aliveAt !== 'number') throw new Error(`media ${done.id} does not name the node that built it`);
  return done;
}

async function download(h: ApiHarness, id: string): Promise<Buffer> {
  const res = await h.app.inject({ method: 'GET', url: `/api/v1/media/${id}/file`, headers: { authorization: `Bearer ${h.tokens.technician}` } });
  if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`);
  return res.rawPayload;
}

async function unpack(t: Test, bytes: Buffer): Promise<string> {
  const dir = tempDir(t);
  await unpackTar(Readable.from([bytes]), dir);
  return dir;
}

const readJson = (dir: string, rel: string): Json => JSON.parse(readFileSync(path.join(dir, ...rel.split('/')), 'utf8'));

t.test('R-31 media are for technicians and admins; clients cannot build them', async (t) => {
  const { h, s } = await site(t);
  const body = { type: 'bootable', deploymentId: s.hidden, format: 'tar' };
  t.equal((await h.call('POST', '/media', { body, token: h.tokens.client })).status, 403);
  t.equal((await h.call('GET', '/media', { token: h.tokens.client })).status, 403);
  t.equal((await h.call('POST', '/media', { body, token: null })).status, 401);
  const m = await build(h, body);
  t.equal(m.createdBy.startsWith('technician:'), true);
  const list = await h.call('GET', '/media', { token: h.tokens.admin });
  t.same(list.json.items.map((x: Json) => x.id), [m.id]);
  const audit = await h.call('GET', '/audit');
  t.match(JSON.stringify(audit.json), /media\.created/);
});

t.test('R-31 media that would carry secrets: administrators, or technicians for deployments that allow it', async (t) => {
  const { h, s } = await site(t);
  const password = 'Tr0ub4dor&3-media';
  for (const type of ['standalone', 'prestaged'] as const) {
    const format = type === 'prestaged' ? 'raw' : 'tar';
    const res = await h.call('POST', '/media', { token: h.tokens.technician, body: { type, format, deploymentId: s.secretive, password } });
    t.equal(res.status, 403, `${type}: a technician is refused`);
    t.match(res.json, { error: 'forbidden', field: 'deploymentId' });
    t.match(res.json.message, new RegExp(`^${type} media for deployment ${s.secretive} would carry secrets \\(step "Join" password, hidden variable JoinKey\\), and deployment ${s.secretive} does not allow technician media \\(allowTechnicianMedia is false\\)`));
    t.notOk(res.body.includes(STEP_SECRET) || res.body.includes(HIDDEN_VALUE), 'names, never values');
  }
  t.equal((await h.call('GET', '/media')).json.items.length, 0, 'a refused request records nothing and mints no token');
  t.equal((await h.call('GET', '/audit?action=media.created')).json.total, 0);

  // The administrator builds them; a technician builds them for the deployment an administrator marked.
  const admin = await h.call('POST', '/media', { token: h.tokens.admin, body: { type: 'standalone', format: 'tar', deploymentId: s.secretive, password } });
  t.equal(admin.status, 202, admin.body);
  t.equal((await mediaBuilt(h.ctx, admin.json.id)).state, 'ready');
  const marked = await build(h, { type: 'standalone', format: 'tar', deploymentId: s.forTechnicians, password });
  t.match(marked, { type: 'standalone', deploymentId: s.forTechnicians, protected: true, createdBy: /^technician:/ });

  // No secrets on them: a technician's, whatever the deployment says.
  const bootable = await build(h, { type: 'bootable', format: 'tar', deploymentId: s.secretive });
  t.match(bootable, { type: 'bootable', preferred: s.secretive });
  const plain = await build(h, { type: 'standalone', format: 'tar', deploymentId: s.hidden });
  t.match(plain, { type: 'standalone', deploymentId: s.hidden, protected: false });
});

t.test('bad requests name the field; rules refuse with 422', async (t) => {
  const { h, s } = await site(t);
  const post = (body: unknown) => h.call('POST', '/media', { body, token: h.tokens.technician });
  t.match((await post({ type: 'standalone', format: 'tar' })).json, { field: 'deploymentId' });
  t.match((await post({ type: 'prestaged', deploymentId: s.hidden, format: 'iso' })).json, { field: 'format' });
  t.match((await post({ type: 'bootable', bootImageId: s.osImageId })).json, { field: 'bootImageId', message: /not a boot image/ });
  t.match((await post({ type: 'bootable', deploymentId: s.clientsOnly })).json, { rule: 'R-20', field: 'deploymentId' });
  t.match((await post({ type: 'bootable', bootImageId: s.bootImageId, variables: { SMSTSPreferredAdvertID: 'PS129999' } })).json, { error: 'not-found' });
  t.match((await post({ type: 'bootable', deploymentId: s.hidden, variables: { _SMSTSMediaType: 'x' } })).json, { field: 'variables._SMSTSMediaType' });
  t.match((await post({ type: 'bootable', deploymentId: s.hidden, expiresAt: '2020-01-01' })).json, { field: 'expiresAt', message: /not in the future/ });
  t.match((await post({ type: 'bootable', deploymentId: s.hidden, password: 'short' })).json, { field: 'password' });
  t.match((await post({ type: 'bootable', deploymentId: s.hidden, siteUrl: 'http://x/y' })).json, { field: 'siteUrl' });
  const secrets = await post({ type: 'standalone', deploymentId: s.forTechnicians, format: 'tar' });
  t.equal(secrets.status, 422);
  t.match(secrets.json, { rule: 'R-25', field: 'password', message: /secrets in the clear \(step "Join" password, hidden variable JoinKey\)/ });
  t.notOk(secrets.body.includes(STEP_SECRET) || secrets.body.includes(HIDDEN_VALUE), 'the refusal names secrets, never their values');
});

t.test('R-20 bootable media with a hidden deployment runs it unattended; without SMSTSPreferredAdvertID it is never offered', async (t) => {
  const { h, s } = await site(t);
  const m = await build(h, { type: 'bootable', deploymentId: s.hidden, allowUnattended: true, format: 'tar', variables: { OSDComputerName: 'LAB-01' } });
  t.match(m, { type: 'bootable', format: 'tar', preferred: s.hidden, allowUnattended: true, protected: false, variableNames: ['OSDComputerName', 'SMSTSPreferredAdvertID'] });
  const dir = await unpack(t, await download(h, m.id));

  const vars = readJson(dir, LAYOUT.variables);
  t.match(vars, { protected: false, allowUnattended: true, site: 'http://192.0.2.10:8080', mediaForm: 'usb', variables: { SMSTSPreferredAdvertID: s.hidden, OSDComputerName: 'LAB-01' } });
  const script = readFileSync(path.join(dir, LAYOUT.biosScript), 'utf8');
  t.match(script, `/api/v1/media/${m.id}/boot.ipxe?mac=\${netX/mac}&uuid=\${osd-uuid}&arch=x64&mediaForm=usb`, 'the loader names its media, nothing a URL could widen');
  t.notOk(script.includes('unattended='), 'no unattended flag in the URL');

  // The media's token is a client token named for the media; the engine asks with it, and the
  // site answers from the media's own record, whatever the query says.
  const tokens = await h.call('GET', '/tokens');
  t.match(tokens.json.items.find((x: Json) => x.id === m.tokenId), { name: `media ${m.id}`, role: 'client', mediaId: m.id, expiresAt: null, scope: 'media' });
  const ask = (q: string, token = vars.token) => h.call('GET', `/boot-policy?${q}`, { token });
  const run = await ask(`mac=${QEMU_MAC}&source=media&preferred=${s.hidden}&unattended=true`);
  t.match(run.json, { kind: 'run', why: 'preferred', deploymentId: s.hidden, builtIns: { _SMSTSMediaType: 'BootMedia', _SMSTSAdvertID: s.hidden } });
  t.match((await ask(`mac=${QEMU_MAC}&source=pxe`)).json, { kind: 'run', deploymentId: s.hidden, builtIns: { _SMSTSMediaType: 'BootMedia' } }, 'the media’s own settings, not the query');
  // Without SMSTSPreferredAdvertID (an administrator asking as any machine) the hidden one is never offered.
  const without = await ask(`mac=${QEMU_MAC}&source=media&unattended=true`, h.tokens.admin);
  t.equal(without.json.kind, 'offer');
  t.same(without.json.offers.map((o: Json) => o.deploymentId), [s.visible], 'only the visible deployment is offered');
  t.notOk(without.body.includes(s.hidden), 'the hidden deployment never appears without SMSTSPreferredAdvertID');
  const attended = await ask(`mac=${QEMU_MAC}&source=media&preferred=${s.hidden}`, h.tokens.admin);
  t.match(attended.json, { kind: 'offer', note: /unattended deployment is not allowed/ });

  // What the boot loader on the media asks: the site answers with the hidden deployment's boot image.
  const boot = await h.app.inject({ method: 'GET', url: `/api/v1/media/${m.id}/boot.ipxe?mac=${QEMU_MAC}&uuid=&arch=x64&mediaForm=usb` });
  t.match(boot.body, `osdeploy.deployment=${s.hidden}`);
  const plain = await h.app.inject({ method: 'GET', url: `/boot.ipxe?mac=${QEMU_MAC}&uuid=&arch=x64&mediaForm=usb&source=media&preferred=${s.hidden}&unattended=true` });
  t.notOk(plain.body.includes(s.hidden), 'the public /boot.ipxe honours no preferred or unattended (L-7)');
  t.match(boot.body, `osdeploy.deployment=${s.hidden}`);
});

t.test('a media password: wrong password is a clear error and no plain value is anywhere on the ISO', { skip: missingFor('iso') }, async (t) => {
  const { h, s } = await site(t);
  const password = 'Tr0ub4dor&3-media';
  const m = await build(h, { type: 'standalone', deploymentId: s.forTechnicians, allowUnattended: true, password, variables: { OSDComputerName: 'Plain-Name-Zq' } });
  t.match(m, { format: 'iso', protected: true });
  const iso = await download(h, m.id);
  const file = path.join(tempDir(t), 'media.iso');
  (await import('node:fs')).writeFileSync(file, iso);

  const unlocked = await inspectMedia(file, { password, now: h.clock.now() });
  t.same(unlocked.variables, { OSDComputerName: 'Plain-Name-Zq', SMSTSPreferredAdvertID: s.forTechnicians });
  t.ok(unlocked.check.ok, 'the manifest matches');
  await t.rejects(inspectMedia(file, { password: 'Tr0ub4dor&3-wrong', now: h.clock.now() }), { code: 'wrong-password', message: 'wrong media password' });
  const locked = await inspectMedia(file, { now: h.clock.now() });
  t.equal(locked.variables, null);
  t.equal(locked.header.deploymentId, undefined, 'the header does not name the deployment either');

  // Every plain value, the media token included, is absent from every byte of the ISO.
  const dir = tempDir(t);
  await (await import('../../../media/boot-media/iso.js')).extractIso(file, dir);
  const sealed = readJson(dir, LAYOUT.variables) as SealedFile;
  const secrets = openJson(sealed, password, headerAad(readJson(dir, LAYOUT.header))) as Json;
  t.equal(secrets.policy.variables[0].value, HIDDEN_VALUE, 'the hidden variable is in the sealed policy');
  // The content list is sealed with it, as staged: what content.json lists, object for object.
  const listed = (readJson(dir, LAYOUT.content) as Json).content as Json[];
  t.ok(listed.length >= 2, 'the boot image and the task sequence’s content');
  t.same(secrets.policy.content, listed.map((c) => ({ id: c.id, kind: c.kind, version: c.version, root: c.root, filesSha256: c.manifestSha256 })), 'each object’s id, kind, version, place and file-list hash');
  for (const plain of ['Plain-Name-Zq', s.forTechnicians, secrets.token, STEP_SECRET, HIDDEN_VALUE, password]) {
    t.equal(iso.indexOf(Buffer.from(plain)), -1, `${plain.slice(0, 12)}… appears nowhere on the ISO`);
  }
  const script = readFileSync(path.join(dir, LAYOUT.biosScript), 'utf8');
  t.match(script, `/api/v1/media/${m.id}/boot.ipxe?mac=`, 'the loader names only the media');

  // The site answers that loader with the media's SMSTSPreferredAdvertID and unattended setting.
  const boot = await h.app.inject({ method: 'GET', url: `/api/v1/media/${m.id}/boot.ipxe?mac=${QEMU_MAC}&arch=x64&preferred=PS129999&unattended=false` });
  t.equal(boot.statusCode, 200);
  t.match(boot.body, `osdeploy.deployment=${s.forTechnicians}`, 'query parameters cannot override the media record');
});

t.test('R-25 expiry: the media token and the media loader are refused after it with "media expired"', async (t) => {
  const { h, s } = await site(t);
  const expiresAt = new Date(h.clock.now() + 3600_000).toISOString();
  const m = await build(h, { type: 'bootable', deploymentId: s.hidden, allowUnattended: true, format: 'tar', expiresAt, password: 'expiring-media-pw' });
  t.equal(m.expiresAt, expiresAt);
  const dir = await unpack(t, await download(h, m.id));
  const secrets = openJson(readJson(dir, LAYOUT.variables), 'expiring-media-pw', headerAad(readJson(dir, LAYOUT.header))) as Json;
  t.equal(secrets.expiresAt, expiresAt);
  const ask = () => h.call('GET', `/boot-policy?mac=${QEMU_MAC}&source=media&preferred=${s.hidden}&unattended=true`, { token: secrets.token });
  t.equal((await ask()).status, 200, 'before the expiry the token works');
  const loader = () => h.app.inject({ method: 'GET', url: `/api/v1/media/${m.id}/boot.ipxe?mac=${QEMU_MAC}` });
  t.equal((await loader()).statusCode, 200);

  h.clock.advance(3600_000);
  const late = await ask();
  t.equal(late.status, 401);
  t.match(late.json, { error: 'media-expired', message: new RegExp(`^media expired: media ${m.id} expired at ${expiresAt}`) });
  const lateLoader = await loader();
  t.equal(lateLoader.statusCode, 401);
  t.match(lateLoader.body, /echo osdeploy: media expired/);
  t.match(lateLoader.body, /\nexit\n/);
  t.equal((await h.call('GET', `/media/${m.id}`, { token: h.tokens.technician })).json.expired, true);
});

t.test('deleting media revokes its token and removes its files', async (t) => {
  const { h, s } = await site(t);
  const m = await build(h, { type: 'bootable', deploymentId: s.hidden, format: 'folder' });
  const dir = await unpack(t, await download(h, m.id));
  t.ok(readJson(dir, LAYOUT.manifest).files.length > 5, 'the folder arrives as a tar of the tree');
  const token = readJson(dir, LAYOUT.variables).token;
  t.equal((await h.call('DELETE', `/media/${m.id}`, { token: h.tokens.technician })).status, 204);
  t.match((await h.call('GET', `/boot-policy?mac=${QEMU_MAC}`, { token })).json, { error: 'unauthenticated', message: /unknown or revoked/ });
  t.equal((await h.call('GET', `/media/${m.id}`)).status, 404);
  t.notOk((await import('node:fs')).existsSync(mediaDir(h.ctx, m.id)));
  t.match((await h.app.inject({ method: 'GET', url: `/api/v1/media/${m.id}/boot.ipxe?mac=${QEMU_MAC}` })).body, /no media/);
});

t.test('R-31 a technician deletes only media they built; an administrator any', async (t) => {
  const { h, s } = await site(t);
  const body = { type: 'bootable', deploymentId: s.hidden, format: 'tar' };
  const mine = await build(h, body);
  const other = await h.call('POST', '/tokens', { body: { name: 'second technician', role: 'technician' } });
  t.equal(other.status, 201);
  const theirs = String(other.json.token);
  const refused = await h.call('DELETE', `/media/${mine.id}`, { token: theirs });
  t.equal(refused.status, 403, 'another technician cannot delete it');
  t.match(refused.json.message ?? refused.body, /built by technician:/);
  t.equal((await h.call('GET', `/media/${mine.id}`, { token: h.tokens.admin })).status, 200, 'still there');
  t.equal((await h.call('DELETE', `/media/${mine.id}`, { token: h.tokens.technician })).status, 204, 'its builder can');
  const second = await build(h, body);
  t.equal((await h.call('DELETE', `/media/${second.id}`, { token: h.tokens.admin })).status, 204, 'an administrator can delete any');
});

/** A media record left `building` by a node (its owner fields), as another node reads it. */
function insertBuilding(h: ApiHarness, id: string, owner: { node?: string; aliveAt?: number }): Promise<void> {
  return h.ctx.store.media.insert({
    id, type: 'bootable', format: 'tar', state: 'building', protected: false, siteUrl: 'http://192.0.2.10:8080', architecture: 'x64', mediaForm: 'usb',
    bootImageId: 'PS100001', deploymentId: null, preferred: null, allowUnattended: false, variableNames: [], tokenId: null,
    createdAt: h.ctx.now(), expiresAt: null, createdBy: 'technician:test', error: null, output: null, ...owner,
  });
}

t.test('several nodes: a build another live node runs stays building; once its heartbeat is stale it reads failed, with the reason', async (t) => {
  const h = await apiHarness(t);
  const id = `${h.ctx.siteCode}M09999`;
  await insertBuilding(h, id, { node: 'node-A', aliveAt: h.ctx.now() });
  h.clock.advance(90_000);
  t.match((await h.call('GET', `/media/${id}`)).json, { state: 'building', error: null }, 'heartbeat 90 s old: node A still builds it');
  const busy = await h.call('DELETE', `/media/${id}`);
  t.equal(busy.status, 409);
  t.match(busy.json.message, /still building on another node \(node-A\)/);

  h.clock.advance(31_000);
  t.match((await h.call('GET', `/media/${id}`)).json, { state: 'failed', error: 'the build was interrupted: node node-A that ran it stopped (last heartbeat 2026-03-02T09:00:00.000Z); build the media again' });
  t.equal((await h.call('DELETE', `/media/${id}`)).status, 204, 'a build no node runs can be deleted');
});

t.test('a build record an older version left building (no owner) reads failed', async (t) => {
  const h = await apiHarness(t);
  const id = `${h.ctx.siteCode}M09998`;
  await insertBuilding(h, id, {});
  t.match((await h.call('GET', `/media/${id}`)).json, { state: 'failed', error: 'the build was interrupted: the service that ran it stopped; build the media again' });
});
