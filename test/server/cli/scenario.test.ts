/**
 * The administrator CLI end to end against the real service: register content, create a task
 * sequence, add a step, create a computer with a hidden variable, a collection, deploy, list.
 * Secrets (hidden variable values, step passwords) are never printed, in tables or in --json.
 */
import t from 'tap';
import { capture, startSite, writeWork } from './harness.js';

const HIDDEN_VALUE = 'Hidden-Value-42';
const JOIN_PASSWORD = 'Join-P@ss-1';
const RUN_AS_PASSWORD = 'Run-P@ss-2';
const SECRETS = [HIDDEN_VALUE, JOIN_PASSWORD, RUN_AS_PASSWORD];

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

const site = await startSite(t);
const outputs: string[] = [];

/** Runs the CLI, expects exit 0, keeps the output for the secrets check at the end. */
async function ok(t: Tap, args: readonly string[]): Promise<string> {
  const r = await site.cli(args);
  outputs.push(r.stdout, r.stderr);
  if (r.code !== 0) throw new Error(`osdeploy ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  t.equal(r.stderr, '', `no stderr from osdeploy ${args.slice(0, 2).join(' ')}`);
  return r.stdout;
}

const ids: Record<string, string> = {};

t.test('content, task sequence with a domain join, an added step and a disabled one', async (t) => {
  ids.boot = capture(await ok(t, ['content', 'create', '--kind', 'bootImage', '--name', 'Boot x64', '--arch', 'x64']), /created bootImage (\S+)/);
  ids.os = capture(await ok(t, ['content', 'create', '--kind', 'osImage', '--name', 'Windows 11']), /created osImage (\S+)/);

  const created = await ok(t, [
    'ts', 'create', '--type', 'installOs', '--name', 'Win11 Install', '--boot-image', ids.boot, '--os-image', ids.os,
    '--domain', 'corp.example', '--domain-account', 'CORP\\join', '--domain-password', JOIN_PASSWORD, '--updates', 'required',
  ]);
  ids.ts = capture(created, /created task sequence (\S+)/);
  t.match(created, /Apply Network Settings\s+\(ApplyNetworkSettings\)\s+secrets set: domainJoinPassword/);
  const setupGroup = capture(created, /(i\d+)\s+Setup Operating System\s+\[group\]/);

  const added = await ok(t, [
    'ts', 'add-step', ids.ts, '--type', 'RunCommandLine', '--name', 'Say hello', '--parent', setupGroup, '--continue-on-error',
    '--prop', 'commandLine=echo hello', '--prop', 'timeoutMinutes=5', '--prop', 'runAsUser=true',
    '--prop', 'runAsAccount=CORP\\svc', '--prop', `runAsPassword=${RUN_AS_PASSWORD}`,
  ]);
  ids.step = capture(added, /added step (i\d+)/);

  const bios = capture(created, /(i\d+)\s+Partition Disk 0 - BIOS/);
  t.match(await ok(t, ['ts', 'disable-step', ids.ts, bios]), `disabled ${bios}`);

  const tree = await ok(t, ['ts', 'get', ids.ts]);
  t.match(tree, /type:\s+installOs/);
  t.match(tree, /^steps:$/m);
  t.match(tree, /^ {2}i\d+ {2}Install Operating System {2}\[group\]$/m, 'groups at the first level');
  t.match(tree, /^ {4}i\d+ {2}Restart in Windows PE {2}\(RestartComputer\) {2}if _SMSTSInWinPE equals "false"$/m, 'conditions shown');
  t.match(tree, new RegExp(`^ {4}${bios} {2}Partition Disk 0 - BIOS {2}\\(FormatAndPartitionDisk\\) {2}\\[disabled\\] {2}if not \\(_SMSTSBootUEFI equals "true"\\)$`, 'm'));
  t.match(tree, new RegExp(`^ {4}${ids.step} {2}Say hello {2}\\(RunCommandLine\\) {2}\\[continue on error\\] {2}secrets set: runAsPassword$`, 'm'), 'the step sits inside the group');
});

t.test('a computer with a hidden variable, a collection, a deployment', async (t) => {
  const computer = await ok(t, [
    'computers', 'create', '--name', 'PC01', '--mac', 'AA-BB-CC-DD-EE-01', '--arch', 'x64', '--var', 'OSDComputerName=PC01', '--hidden-var', `AdminPass=${HIDDEN_VALUE}`,
  ]);
  ids.computer = capture(computer, /created computer (\S+)/);
  t.match(computer, /mac addresses: aa:bb:cc:dd:ee:01/, 'MAC normalised by the service');
  t.match(computer, /^ {2}AdminPass\s+\(hidden\)$/m);
  t.match(computer, /^ {2}OSDComputerName\s+PC01$/m);

  const asJson = JSON.parse(await ok(t, ['computers', 'get', ids.computer, '--json'])) as { variables: { name: string; value: string | null; hidden: boolean }[] };
  t.same(asJson.variables.find((v) => v.name === 'AdminPass'), { name: 'AdminPass', value: null, hidden: true });

  const collection = await ok(t, ['collections', 'create', '--name', 'Lab', '--member', ids.computer, '--var', 'Site=Lab', '--precedence', '3']);
  ids.collection = capture(collection, /created collection (\S+)/);
  t.match(collection, /members:\s+1/);
  t.match(collection, /precedence:\s+3/);

  const deployed = await ok(t, ['deployments', 'create', '--ts', ids.ts!, '--collection', ids.collection, '--availability', 'mediaPxe', '--comments', 'first wave']);
  ids.deployment = capture(deployed, /created deployment (\S+)/);
  t.match(deployed, /purpose:\s+available/);
  t.match(deployed, /availability:\s+mediaPxe/);

  const list = await ok(t, ['deployments', 'list']);
  const [header, row] = list.split('\n');
  t.match(header, /^ID\s+TASK SEQUENCE\s+COLLECTION\s+PURPOSE\s+AVAILABLE TO\s+HIGH RISK\s+CREATED$/);
  t.match(row, new RegExp(`^${ids.deployment}\\s+${ids.ts}\\s+${ids.collection}\\s+available\\s+mediaPxe\\s+no\\s+\\d{4}-`));
  // Columns are padded: every column starts at the same offset in the header and the row.
  t.equal(row!.indexOf(ids.collection), header!.indexOf('COLLECTION'));
});

t.test('list and import', async (t) => {
  const tsList = JSON.parse(await ok(t, ['ts', 'list', '--json'])) as { items: { id: string; name: string }[] };
  t.same(tsList.items.map((x) => [x.id, x.name]), [[ids.ts, 'Win11 Install']]);

  const csv = writeWork(site, 'computers.csv', 'name,mac,smbiosUuid,Role\nPC10,aa:bb:cc:00:00:10,,web\nPC11,aa:bb:cc:00:00:11,,db\n');
  const imported = await ok(t, ['computers', 'import', csv]);
  t.match(imported, /^imported 2 computer\(s\)\nID\s+NAME\s+MAC ADDRESSES/);
  t.match(imported, /^\d+\s+PC10\s+aa:bb:cc:00:00:10\s+-\s+-\s+1$/m, 'a row per computer, empty cells as -');

});

t.test('no output ever held a secret', async (t) => {
  const audit = await ok(t, ['audit', '--limit', '100', '--json']);
  t.ok((JSON.parse(audit) as { total: number }).total > 5, 'the audit log recorded the scenario');
  const all = outputs.join('\n');
  for (const secret of SECRETS) t.notOk(all.includes(secret), `${secret} never printed`);
});
