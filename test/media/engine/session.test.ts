/**
 * A run session with a fake step executor and no site: every step is
 * reported to the outbox on disk, secrets (hidden variables, step passwords) are masked in
 * status and in the log and never stored in clear in the state, and the step built-ins
 * (`_SMSTSLastActionSucceeded`…) are there for conditions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { EngineLog } from '../../../media/engine/log.js';
import { Outbox } from '../../../media/engine/outbox.js';
import { newProgress } from '../../../media/engine/runner.js';
import { runSession } from '../../../media/engine/session.js';
import { SiteClient } from '../../../media/engine/site-client.js';
import { StateStore, type RunState } from '../../../media/engine/state.js';
import { Variables } from '../../../media/engine/variables.js';
import { freePort } from './engine-process.js';
import { step } from './items.js';
import { tempDir } from './step-env.js';

const HIDDEN = 'Hidden-Var-Value-9';
const PASSWORD = 'Step-P4ssword-3';
const TOKEN = 'client-token-for-the-vault';

t.test('R-30/R-31 a session reports every step to the outbox, with secrets masked everywhere', async (t) => {
  const dir = tempDir(t);
  const store = new StateStore(path.join(dir, 'state'), TOKEN);
  const lines: string[] = [];
  const log = new EngineLog(path.join(dir, 'state', 'engine.log'), Date.now, (l) => lines.push(l));
  // Nobody listens: every message stays in the outbox, where the test reads it.
  const outbox = new Outbox(path.join(dir, 'state', 'outbox'), new SiteClient(`http://127.0.0.1:${await freePort()}`, TOKEN), log.line);
  const items = [
    step('s1', 'Echo', { password: PASSWORD }, { name: 'Leaky' }),
    step('s2', 'JoinDomainOrWorkgroup', { mode: 'domain', domain: 'corp.example', password: PASSWORD }, { name: 'Join', continueOnError: true }),
    step('s3', 'Echo', {}, { name: 'After failure', condition: { kind: 'variable', name: '_SMSTSLastActionSucceeded', operator: 'equals', value: 'false' } }),
  ];
  const vars = Variables.merged({}, [{ name: 'AdminPass', value: HIDDEN, hidden: true }], { _SMSTSAdvertID: 'PS120001' });
  const state: RunState = { version: 1, runId: 'run-1', deploymentId: 'PS120001', computerId: '16777220', source: 'media', status: 'running', outcome: null, startedAt: 0, progress: newProgress() };
  const seen: string[] = [];
  const result = await runSession(
    {
      store, outbox, log, now: Date.now, root: path.join(dir, 'root'), disks: new Map(), searchPath: '', fetcherFor: () => null,
      execute: async (s) => {
        seen.push(s.id);
        if (s.id === 's2') return { ok: false, exitCode: 5, message: `could not join with ${PASSWORD}` };
        return { ok: true, exitCode: 0, output: `admin password is ${HIDDEN}, join password is ${PASSWORD}` };
      },
    },
    state,
    { taskSequence: { id: 'PS100001', name: 'TS', items }, variables: vars.entries(), content: null },
  );
  t.equal(result, 'success', 'the failure continued on error');
  t.same(seen, ['s1', 's2', 's3'], 'the condition on _SMSTSLastActionSucceeded saw the failure');

  const messages = outbox.pending().map((f) => JSON.parse(readFileSync(path.join(outbox.dir, f), 'utf8')) as Record<string, unknown>);
  t.same(messages.map((m) => m.kind), ['stepStarted', 'stepSucceeded', 'stepStarted', 'stepFailed', 'stepStarted', 'stepSucceeded', 'runFinished']);
  t.match(messages[1], { step: { itemId: 's1', name: 'Leaky', type: 'Echo' }, exitCode: 0, outputTail: 'admin password is ********, join password is ********', percent: 33.3 });
  t.match(messages[3], { exitCode: 5, continuedOnError: true, message: 'could not join with ********' });
  t.match(messages[6], { kind: 'runFinished', outcome: 'success', runId: 'run-1', computerId: '16777220', deploymentId: 'PS120001' });

  const files = readdirSync(store.dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => readFileSync(path.join(e.parentPath, e.name), 'utf8'));
  const everything = [...files, ...lines].join('\n');
  t.notOk(everything.includes(HIDDEN), 'the hidden value is in no state file, status message or log line');
  t.notOk(everything.includes(PASSWORD), 'nor is the step password');
  t.match(lines.join('\n'), /step s2 "Join" failed \(continue on error\): could not join with \*{8}/);
});

t.test('R-29 the saved state opens only with the token it was sealed with', async (t) => {
  const dir = tempDir(t);
  const state: RunState = { version: 1, runId: 'r', deploymentId: 'PS120001', computerId: '1', source: 'pxe', status: 'restarting', outcome: null, startedAt: 0, progress: newProgress() };
  const vault = { taskSequence: { id: 'PS100001', name: 'TS', items: [step('a', 'X', { password: PASSWORD })] }, variables: [], content: null };
  new StateStore(dir, TOKEN).save(state, vault);
  t.notOk(readFileSync(path.join(dir, 'run.json'), 'utf8').includes(PASSWORD));
  t.same(new StateStore(dir, TOKEN).load(), { state, vault });
  t.throws(() => new StateStore(dir, 'another-token').load(), /cannot be opened with this token/);
});

t.test('R-16 download all content before starting: every package is fetched before the first step; a failed download fails the run before any step', async (t) => {
  const events: string[] = [];
  const item = (id: string) => ({ id, kind: 'package', version: 1, manifestSha256: null, locations: [] });
  const fakeFetcher = (failOn: string | null) => ({
    manifest: async () => ({ files: [], programs: [] }),
    fetch: async (i: { id: string }) => {
      events.push(`fetch ${i.id}`);
      if (i.id === failOn) throw new Error('no distribution point answered');
      return { files: 1, bytes: 10, sources: ['dp'] };
    },
  });
  for (const [option, failOn] of [['downloadAllFirst', null], ['downloadAsNeeded', null], ['downloadAllFirst', 'PS100003']] as const) {
    events.length = 0;
    const dir = tempDir(t);
    const log = new EngineLog(path.join(dir, 'state', 'engine.log'), Date.now, () => {});
    const outbox = new Outbox(path.join(dir, 'state', 'outbox'), new SiteClient(`http://127.0.0.1:${await freePort()}`, TOKEN), log.line);
    const state: RunState = { version: 1, runId: 'r', deploymentId: 'PS120001', computerId: '1', source: 'media', status: 'running', outcome: null, startedAt: 0, progress: newProgress() };
    const result = await runSession(
      {
        store: new StateStore(path.join(dir, 'state'), TOKEN), outbox, log, now: Date.now, root: path.join(dir, 'root'), disks: new Map(), searchPath: '',
        fetcherFor: () => fakeFetcher(failOn) as never,
        execute: async (s) => {
          events.push(`step ${s.id}`);
          return { ok: true, exitCode: 0 };
        },
      },
      state,
      { taskSequence: { id: 'PS100001', name: 'TS', items: [step('s1', 'Echo', {})] }, variables: [], content: { option, items: [item('PS100002'), item('PS100003')] } as never },
    );
    if (option === 'downloadAsNeeded') t.same(events, ['step s1'], 'as needed: nothing is fetched up front');
    else if (failOn) {
      t.equal(result, 'failed');
      t.same(events, ['fetch PS100002', 'fetch PS100003'], 'no step ran after the failed download');
      const last = outbox.pending().map((f) => JSON.parse(readFileSync(path.join(outbox.dir, f), 'utf8')) as Record<string, unknown>).pop();
      t.match(last, { kind: 'runFinished', outcome: 'failed', message: /PS100003 could not be downloaded before starting/ });
    } else {
      t.equal(result, 'success');
      t.same(events, ['fetch PS100002', 'fetch PS100003', 'step s1'], 'all content first, then the steps');
    }
  }
});
