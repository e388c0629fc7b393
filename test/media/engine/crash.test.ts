/**
 * R-29 a crash: the engine is killed (SIGKILL, like a power cut) while a step runs. The next
 * start resumes the run from its saved state, runs the interrupted step again (it may not have
 * finished) and goes on; it does not start over and does not ask the site for a new policy.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { runEngine, spawnEngine } from './engine-process.js';
import { engineSite } from './site.js';
import { tempDir } from './step-env.js';

t.test('R-29 a step interrupted by a crash runs again on the next start, then the run goes on', async (t) => {
  const s = await engineSite(t);
  // The long step marks its first attempt and then waits to be killed; its second attempt is quick.
  const long = 'if [ -f attempt ]; then echo again >> log.txt; else echo $$ > pgid; echo first >> log.txt; touch attempt; sleep 60; fi';
  const ts = await s.taskSequence('Crashy', [
    { name: 'A', type: 'RunCommandLine', properties: { commandLine: 'echo a >> log.txt' } },
    { name: 'Long', type: 'RunCommandLine', properties: { commandLine: long } },
    { name: 'C', type: 'RunCommandLine', properties: { commandLine: 'echo c >> log.txt' } },
  ]);
  const dep = await s.deploy({ taskSequenceId: ts.id, collectionId: 'SMS000US', purpose: 'required', availability: 'mediaPxe', assignments: [{ kind: 'asap' }] });
  const root = tempDir(t);
  const args = ['--site', s.url, '--token', s.clientToken, '--mac', '02:aa:bb:00:00:30', '--arch', 'x64', '--root', root, '--state', tempDir(t), '--source', 'media'];

  const first = spawnEngine(t, args);
  await first.waitFor(/"Long" \(RunCommandLine\) started/);
  for (let i = 0; i < 1200 && !existsSync(path.join(root, 'attempt')); i++) await new Promise((r) => setTimeout(r, 25));
  first.kill();
  await first.exited;
  // The step's shell leads its own process group: end it too, as a power cut would have.
  process.kill(-Number(readFileSync(path.join(root, 'pgid'), 'utf8')), 'SIGKILL');
  t.equal(readFileSync(path.join(root, 'log.txt'), 'utf8'), 'a\nfirst\n', 'killed inside the long step');

  const second = await runEngine(t, args);
  if (second.code !== 0) t.comment(second.stderr);
  t.equal(second.code, 0, 'the run finished');
  t.match(second.stderr, /resuming run .* after an interruption \(step i\d+ runs again\)/);
  t.equal(readFileSync(path.join(root, 'log.txt'), 'utf8'), 'a\nfirst\nagain\nc\n', 'A is not run again; Long is; then C');

  const msgs = await s.api<{ items: { kind: string; resumed?: boolean; step?: { name: string } }[] }>('GET', `/status-messages?deploymentId=${dep}&limit=1000`);
  const longStarts = msgs.items.filter((m) => m.kind === 'stepStarted' && m.step?.name === 'Long').reverse();
  t.same(longStarts.map((m) => m.resumed === true), [false, true], 'the second start of Long says it is a re-run');
  t.equal(msgs.items.filter((m) => m.kind === 'runStarted').length, 1, 'one run, not a new one');
  t.match(await s.api('GET', `/deployments/${dep}/status`), { counts: { success: 1 } });
});
