/**
 * R-27 R-28 the pure parts of export and import: secrets stripped and named, references
 * remapped, duplicates found (and not found by name alone), actions offered and changed, and an
 * exported task sequence checked as foreign input.
 */
import fc from 'fast-check';
import t from 'tap';
import {
  applyEdits,
  createTaskSequence,
  findExisting,
  PolicyError,
  planObject,
  remapReferences,
  stripSecrets,
  validateImportedTaskSequence,
  walk,
  withActions,
  type EditOp,
  type ExportedType,
  type SiteLookup,
  type TaskSequence,
} from '../../policy/index.js';

const base = createTaskSequence('PS100009', {
  type: 'installOs', name: 'W11', bootImageId: 'B1', osImageId: 'O1', productKey: 'AAAAA-BBBBB', applicationIds: ['A1'],
  join: { mode: 'domain', domain: 'contoso.com', account: 'CONTOSO\\j', password: 'join-pw' },
});
const ts: TaskSequence = applyEdits(base, [
  { op: 'addGroup', name: 'Extras' },
  { op: 'addStep', type: 'RunCommandLine', properties: { commandLine: 'x', packageId: 'P1', runAsUser: true, runAsAccount: 'a', runAsPassword: 'run-pw' }, position: { parentId: `i${base.nextItemId}` } },
  { op: 'addStep', type: 'ConnectToNetworkFolder', properties: { path: '\\\\s\\x', account: 'a', password: 'share-pw' } },
] as EditOp[]);
const exported = ({ id: _i, folderId: _f, ...rest }: TaskSequence) => rest;

t.test('R-27 stripSecrets removes every secret value and names each by item and property', async (t) => {
  const { taskSequence, stripped } = stripSecrets(ts);
  const text = JSON.stringify(taskSequence);
  for (const v of ['join-pw', 'run-pw', 'share-pw', 'AAAAA-BBBBB']) t.notOk(text.includes(v), `${v} gone`);
  t.equal(stripped.length, 4);
  t.same(taskSequence.strippedSecrets, stripped);
  t.ok(stripped.every((s) => /^i\d+\.(productKey|domainJoinPassword|runAsPassword|password)$/.test(s)));
  t.same(stripSecrets({ ...ts, strippedSecrets: ['i1.productKey'] }).stripped.filter((s) => s === 'i1.productKey').length, 1, 'a secret still missing from an earlier import stays listed once');
  const unknown = { ...ts, items: [...ts.items, { ...(ts.items[0] as object), id: 'i99', kind: 'step', type: 'FromTheFuture', properties: { pw: 'x' } } as never] };
  t.throws(() => stripSecrets(unknown), PolicyError, 'an unknown step type is refused rather than guessed');
});

t.test('R-28 remapReferences rewrites the boot image and every ref property, nothing else', async (t) => {
  const map = new Map([['B1', 'PS2B'], ['O1', 'PS2O'], ['A1', 'PS2A'], ['P1', 'PS2P']]);
  const out = remapReferences(ts, (_kind, id) => map.get(id) ?? id);
  t.equal(out.bootImageId, 'PS2B');
  const text = JSON.stringify(out);
  for (const old of ['"B1"', '"O1"', '"A1"', '"P1"']) t.notOk(text.includes(old));
  t.equal(JSON.stringify(remapReferences(ts, (_k, id) => id)), JSON.stringify(ts), 'the identity map changes nothing');
});

t.test('R-28 an exported task sequence validates and comes back as it was exported', async (t) => {
  const { taskSequence } = stripSecrets(ts);
  t.same(validateImportedTaskSequence(JSON.parse(JSON.stringify(exported(taskSequence))), 'f'), exported(taskSequence));
  t.throws(() => validateImportedTaskSequence(exported(ts), 'f.json'), /f\.json: items\[\S*\.properties\.\w+ is a secret/);
  t.throws(() => validateImportedTaskSequence([], 'f'), /must be an object/);
  const deep = { ...exported(taskSequence), items: [] as unknown[], nextItemId: 100 };
  let at = deep.items;
  for (let i = 1; i <= 40; i++) {
    const group = { id: `i${i}`, kind: 'group', name: 'g', description: '', enabled: true, continueOnError: false, condition: null, children: [] as unknown[] };
    at.push(group);
    at = group.children;
  }
  t.throws(() => validateImportedTaskSequence(deep, 'f'), /nests deeper than 32 groups/);
});

t.test('R-28 property: any edited task sequence, stripped and serialised, validates to the same data', async (t) => {
  const ops = fc.array(
    fc.oneof(
      fc.constant<EditOp>({ op: 'addGroup', name: 'G' }),
      fc.record({ commandLine: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !s.includes('\u0000') && s.trim() !== ''), pw: fc.string({ minLength: 1, maxLength: 12 }).filter((s) => [...s].every((c) => c >= ' ' && c !== '\u007f')) }).map(
        (p): EditOp => ({ op: 'addStep', type: 'RunCommandLine', properties: { commandLine: p.commandLine, runAsUser: true, runAsAccount: 'a', runAsPassword: p.pw } }),
      ),
    ),
    { maxLength: 12 },
  );
  fc.assert(
    fc.property(ops, (list) => {
      const edited = applyEdits(createTaskSequence('PS100001', { type: 'custom', name: 'P' }), list);
      const { taskSequence } = stripSecrets(edited);
      const back = validateImportedTaskSequence(JSON.parse(JSON.stringify(exported(taskSequence))), 'p');
      return JSON.stringify(back) === JSON.stringify(exported(taskSequence)) && [...walk(back.items)].every(({ item }) => item.kind === 'group' || !('runAsPassword' in item.properties));
    }),
    { numRuns: 100 },
  );
  t.pass('100 random task sequences');
});

const site = (objects: Record<string, { type: ExportedType; name: string; manifestSha256?: string | null }>, links: Record<string, string> = {}, siteCode = 'PS1'): SiteLookup => ({
  siteCode,
  linked: (o) => {
    const id = links[`${o.siteCode}/${o.id}`];
    const local = id === undefined ? undefined : objects[id];
    return id && local ? { id, type: local.type, name: local.name } : undefined;
  },
  byId: (id) => (objects[id] ? { manifestSha256: null, ...objects[id]! } : undefined),
});

t.test('R-28 duplicates: found by an earlier import\'s link, or as the same object of this site, never by name alone', async (t) => {
  const here = site({ PS100004: { type: 'osImage', name: 'Windows 11', manifestSha256: 'h1' }, PS100007: { type: 'osImage', name: 'Imported' } }, { 'CAS/CAS00012': 'PS100007' });
  t.match(findExisting({ type: 'osImage', name: 'Other name', origin: { siteCode: 'CAS', id: 'CAS00012' } }, here), { id: 'PS100007', matchedBy: 'previous-import' });
  t.equal(findExisting({ type: 'package', name: 'x', origin: { siteCode: 'CAS', id: 'CAS00012' } }, here), null, 'a link to another kind does not count');
  t.match(findExisting({ type: 'osImage', name: 'windows 11', origin: { siteCode: 'PS1', id: 'PS100004' } }, here), { id: 'PS100004', matchedBy: 'same-object' });
  t.match(findExisting({ type: 'osImage', name: 'Renamed since', manifestSha256: 'h1', origin: { siteCode: 'PS1', id: 'PS100004' } }, here), { id: 'PS100004' }, 'same content');
  t.equal(findExisting({ type: 'osImage', name: 'Another image', manifestSha256: 'h2', origin: { siteCode: 'PS1', id: 'PS100004' } }, here), null, 'another PS1 site\'s PS100004');
  t.equal(findExisting({ type: 'osImage', name: 'Windows 11', origin: { siteCode: 'XY1', id: 'XY100004' } }, here), null, 'a name alone is no match');
});

t.test('R-28 actions: Create New for new objects; Ignore Duplicate (default) or Overwrite; applications add a revision or are created anew', async (t) => {
  const here = site({ PS100001: { type: 'taskSequence', name: 'TS' }, PS100002: { type: 'application', name: 'App' } });
  const plan = [
    planObject('PS100001', { type: 'taskSequence', name: 'TS', origin: { siteCode: 'PS1', id: 'PS100001' } }, here),
    planObject('PS100002', { type: 'application', name: 'App', origin: { siteCode: 'PS1', id: 'PS100002' } }, here),
    planObject('PS100003', { type: 'package', name: 'New', origin: { siteCode: 'PS1', id: 'PS100003' } }, here),
  ];
  t.same(plan.map((p) => [p.action, p.allowed]), [[ 'ignore', ['ignore', 'overwrite']], ['ignore', ['ignore', 'new-revision', 'create']], ['create', ['create']]]);
  t.same(withActions(plan, { PS100001: 'overwrite', PS100002: 'create' }).map((p) => p.action), ['overwrite', 'create', 'create']);
  t.same(plan.map((p) => p.action), ['ignore', 'ignore', 'create'], 'the plan itself is not changed');
  t.throws(() => withActions(plan, { PS100002: 'overwrite' }), { field: 'actions.PS100002', message: /adding a revision \(new-revision\), or imported as a new application \(create\)/ });
  t.throws(() => withActions(plan, { PS100001: 'create' }), { message: /already exists as PS100001; choose ignore or overwrite/ });
  t.throws(() => withActions(plan, { PS100003: 'ignore' }), { message: /can only be created/ });
  t.throws(() => withActions(plan, { constructor: 'create' }), { message: /holds no object "constructor"/ });
  t.throws(() => withActions(plan, { PS100001: 5 }), { message: /5 is not an action/ });
  t.same(withActions(plan, {}), plan);
});
