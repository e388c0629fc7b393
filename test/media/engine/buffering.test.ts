/**
 * R-30 status buffering: the engine is started while its site does not answer and waits for
 * it; later the site goes away in the middle of a run, the engine keeps going (it resumes from
 * its saved state after a restart, which needs no site), keeps every status message on disk,
 * and sends them when the site is back: none lost, none stored twice. Synchronised on the
 * engine's own output, never on time.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import t from 'tap';
import { Outbox } from '../../../media/engine/outbox.js';
import { SiteClient } from '../../../media/engine/site-client.js';
import { freePort, spawnEngine, TcpProxy } from './engine-process.js';
import { engineSite } from './site.js';
import { tempDir } from './step-env.js';

type Messages = { total: number; items: { id: string; kind: string; step?: { name: string } }[] };

t.test('R-30 the engine waits for a site that is down, buffers status while it is gone and resends it once', async (t) => {
  const s = await engineSite(t);
  const ts = await s.taskSequence('Buffered', [
    { name: 'Before', type: 'RunCommandLine', properties: { commandLine: 'echo before' } },
    { name: 'Reboot', type: 'RestartComputer' },
    { name: 'After', type: 'RunCommandLine', properties: { commandLine: 'echo after' } },
  ]);
  const dep = await s.deploy({ taskSequenceId: ts.id, collectionId: 'SMS000US', purpose: 'required', availability: 'mediaPxe', assignments: [{ kind: 'asap' }] });
  const proxy = new TcpProxy(await freePort(), { host: '127.0.0.1', port: Number(new URL(s.url).port) });
  t.teardown(() => proxy.close());
  const args = ['--site', proxy.url, '--token', s.clientToken, '--mac', '02:aa:bb:00:00:02', '--arch', 'x64', '--root', tempDir(t), '--state', tempDir(t), '--source', 'media', '--wait-site', '120', '--flush-timeout', '120'];

  // Started against a closed port: it waits; the site comes up; it runs up to the restart.
  const first = spawnEngine(t, args);
  await first.waitFor(/boot policy: cannot reach the site .* waiting up to 120 s/);
  await proxy.open();
  t.equal((await first.exited).code, 3, 'ran once the site answered, up to the restart');

  // The site goes away; the resumed run needs no policy and finishes, its status kept on disk.
  await proxy.close();
  const second = spawnEngine(t, args);
  await second.waitFor(/status message\(s\) kept in .*outbox/);
  await second.waitFor(/run .* finished: success/);
  const before = await s.api<Messages>('GET', `/status-messages?deploymentId=${dep}&limit=1000`);
  t.notOk(before.items.some((m) => m.kind === 'runFinished'), 'the site has not heard the end yet');

  await proxy.open();
  const done = await second.exited;
  t.equal(done.code, 0, 'the engine exits once its buffer is sent');
  t.match(done.stderr, /the site answers again; buffered status messages sent/);
  const after = await s.api<Messages>('GET', `/status-messages?deploymentId=${dep}&limit=1000`);
  const kinds = after.items.map((m) => `${m.kind}${m.step ? ` ${m.step.name}` : ''}`).reverse().filter((k) => k !== 'progress');
  t.same(kinds, ['runStarted', 'stepStarted Before', 'stepSucceeded Before', 'stepStarted Reboot', 'stepSucceeded Reboot', 'stepStarted After', 'stepSucceeded After', 'runFinished']);
  t.equal(new Set(after.items.map((m) => m.id)).size, after.total, 'no message stored twice');
  t.match(await s.api('GET', `/deployments/${dep}/status`), { counts: { success: 1 } });
});

t.test('R-30 the outbox keeps messages on disk while the site is unreachable; a resend is stored once', async (t) => {
  const s = await engineSite(t);
  const pc = await s.api<{ computer: { id: string } }>('POST', '/register', { macAddresses: ['02:aa:bb:00:00:03'], architecture: 'x64' });
  const proxy = new TcpProxy(await freePort(), { host: '127.0.0.1', port: Number(new URL(s.url).port) });
  t.teardown(() => proxy.close());
  const dir = path.join(tempDir(t), 'outbox');
  const log: string[] = [];
  // The outbox as such, with a relay token (scope site): token binding is tested in test/server/security.
  const { token: relay } = await s.api<{ token: string }>('POST', '/tokens', { name: 'relay', role: 'client', scope: 'site' });
  const outbox = new Outbox(dir, new SiteClient(proxy.url, relay), (l) => log.push(l));
  const runId = randomUUID();
  const messages = ['runStarted', 'progress', 'runFinished'].map((kind) => ({ id: randomUUID(), at: Date.now(), computerId: pc.computer.id, deploymentId: 'PS129999', runId, kind, ...(kind === 'runFinished' ? { outcome: 'success' } : {}) }));
  for (const m of messages) outbox.add(m);
  t.equal(await outbox.flush(true), 3, 'nothing sent, all kept');
  t.equal(outbox.pending().length, 3);
  t.match(log[0], /cannot reach the site .* 3 status message\(s\) kept/);

  await proxy.open();
  t.equal(await outbox.flush(true), 0);
  t.same(outbox.pending(), [], 'the files go once the site has them');
  // The answer to a batch can be lost after the site stored it: the same ids again are harmless.
  const resend = await new SiteClient(proxy.url, relay).postStatus(messages);
  t.same(resend, { accepted: 0, duplicates: 3, rejected: [] });
  const stored = await s.api<Messages>('GET', `/status-messages?computerId=${pc.computer.id}`);
  t.equal(stored.total, 3);
  t.same(stored.items.map((m) => m.kind).reverse(), ['runStarted', 'progress', 'runFinished'], 'in the order they were made');
});
