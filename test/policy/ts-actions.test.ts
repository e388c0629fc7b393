import t from 'tap';
import {
  MAX_FOLDER_DEPTH,
  PolicyError,
  applyEdit,
  checkFolder,
  checkFolderEmpty,
  copyTaskSequence,
  createTaskSequence,
  folderPath,
  moveTaskSequence,
  setTaskSequenceEnabled,
  setTaskSequenceProperties,
  type Folder,
  type PolicyErrorCode,
  type TaskSequence,
} from '../../policy/index.js';

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

function expectError(tt: Test, fn: () => unknown, code: PolicyErrorCode, field: string): PolicyError | undefined {
  try {
    fn();
  } catch (err) {
    tt.type(err, PolicyError);
    tt.equal((err as PolicyError).code, code, `code (${(err as Error).message})`);
    tt.equal((err as PolicyError).field, field, 'field');
    return err as PolicyError;
  }
  tt.fail(`expected a ${code} error about ${field}`);
  return undefined;
}

const original: TaskSequence = {
  ...createTaskSequence('PS100001', {
    type: 'installOs', name: 'Windows 11 23H2', description: 'the standard image', folderId: 'F2', bootImageId: 'PS100010', osImageId: 'PS100011',
    join: { mode: 'domain', domain: 'contoso.com', account: 'CONTOSO\\join', password: 'pw' },
  }),
  strippedSecrets: ['i6.domainJoinPassword'],
};

t.test('R-05 copy makes a new object whose content equals the original, in the root folder', async (t) => {
  const copy = copyTaskSequence(original, 'PS100002');
  t.equal(copy.id, 'PS100002');
  t.equal(copy.name, 'Windows 11 23H2 - Copy');
  t.equal(copy.folderId, null);
  const { id: _a, name: _b, folderId: _c, ...content } = copy;
  const { id: _d, name: _e, folderId: _f, ...expected } = original;
  t.same(content, expected);
  t.same(copy.items, original.items, 'same steps');
  t.equal(copy.nextItemId, original.nextItemId);
  t.same(copy.strippedSecrets, ['i6.domainJoinPassword'], 'still needs its passwords');
  t.equal(copyTaskSequence(original, 'PS100003', '  Pilot ').name, 'Pilot');
  expectError(t, () => copyTaskSequence(original, 'PS100003', ''), 'invalid', 'name');
});

t.test('R-05 a copy is independent: editing it leaves the original as it was', async (t) => {
  const before = structuredClone(original);
  const copy = copyTaskSequence(original, 'PS100002');
  const edited = applyEdit(applyEdit(copy, { op: 'rename', itemId: 'i1', name: 'Changed' }), { op: 'remove', itemId: 'i2' });
  t.not(edited.items, original.items);
  t.same(original, before);
  const first = original.items[0]!;
  t.equal(first.kind === 'group' && first.children[0]!.name, 'Restart in Windows PE');
});

t.test('R-05 copying a task sequence whose name fills the limit still gives a valid name', async (t) => {
  const long = { ...original, name: 'W'.repeat(256) };
  const copy = copyTaskSequence(long, 'PS100004');
  t.equal(copy.name.length, 256);
  t.match(copy.name, /^W+ - Copy$/);
  const spaced = { ...original, name: 'A'.repeat(248) + ' ' + 'B'.repeat(7) };
  t.equal(copyTaskSequence(spaced, 'PS100005').name, 'A'.repeat(248) + ' - Copy', 'no double space at the cut');
});

t.test('R-05 disable keeps everything but the switch; enable restores it unchanged', async (t) => {
  const off = setTaskSequenceEnabled(original, false);
  t.equal(off.enabled, false);
  t.equal(original.enabled, true, 'the input is not changed');
  t.equal(off.id, original.id);
  t.equal(off.items, original.items, 'steps untouched (no redeploy needed)');
  const on = setTaskSequenceEnabled(off, true);
  t.equal(on.enabled, true);
  t.same(on, original);
});

t.test('R-05 move puts the task sequence in a folder or back at the root', async (t) => {
  const moved = moveTaskSequence(original, 'F7');
  t.equal(moved.folderId, 'F7');
  t.equal(original.folderId, 'F2');
  t.equal(moveTaskSequence(moved, null).folderId, null);
  t.same({ ...moved, folderId: 'F2' }, original, 'nothing else changes');
});

t.test('R-05 properties set name, description and boot image', async (t) => {
  const ts = setTaskSequenceProperties(original, { name: ' Win 11 ', description: 'pilot ring', bootImageId: 'PS100020' });
  t.same([ts.name, ts.description, ts.bootImageId], ['Win 11', 'pilot ring', 'PS100020']);
  t.equal(ts.items, original.items);
  t.same(setTaskSequenceProperties(original, {}), original);
  t.equal(setTaskSequenceProperties(original, { bootImageId: null }).bootImageId, null);
  t.equal(setTaskSequenceProperties(original, { description: '' }).description, '');
  t.same(setTaskSequenceProperties(original, { description: 'd' }).name, original.name, 'absent keys are kept');
});

t.test('R-05 properties never change the steps, and refuse unknown keys and bad values', async (t) => {
  const steps = expectError(t, () => setTaskSequenceProperties(original, { steps: [] }), 'invalid', 'steps');
  t.match(steps?.message, /edit operations/);
  expectError(t, () => setTaskSequenceProperties(original, { items: [] }), 'invalid', 'items');
  for (const key of ['colour', 'type', 'id', 'enabled', 'folderId', 'nextItemId', 'strippedSecrets'])
    expectError(t, () => setTaskSequenceProperties(original, { [key]: 'x' }), 'invalid', key);
  expectError(t, () => setTaskSequenceProperties(original, { name: 'ok', colour: 'red' }), 'invalid', 'colour');
  for (const body of [null, 'name', ['name'], 3]) expectError(t, () => setTaskSequenceProperties(original, body), 'invalid', 'body');
  expectError(t, () => setTaskSequenceProperties(original, { name: '  ' }), 'invalid', 'name');
  expectError(t, () => setTaskSequenceProperties(original, { description: 'x'.repeat(4097) }), 'invalid', 'description');
  expectError(t, () => setTaskSequenceProperties(original, { description: 7 }), 'invalid', 'description');
  expectError(t, () => setTaskSequenceProperties(original, { bootImageId: '' }), 'invalid', 'bootImageId');
  expectError(t, () => setTaskSequenceProperties(original, { bootImageId: 12 }), 'invalid', 'bootImageId');
});

// ---- folders ----

const folders = (...list: Folder[]): Map<string, Folder> => new Map(list.map((f) => [f.id, f]));
const tree = folders(
  { id: 'F1', name: 'Servers', parentId: null },
  { id: 'F2', name: 'Windows', parentId: 'F1' },
  { id: 'F3', name: '2025', parentId: 'F2' },
  { id: 'F4', name: 'Clients', parentId: null },
);

/** F1 > F2 > … > F`n`, each inside the one before. */
function chain(n: number, prefix = 'C'): Map<string, Folder> {
  const list: Folder[] = [];
  for (let i = 1; i <= n; i++) list.push({ id: `${prefix}${i}`, name: `level ${i}`, parentId: i === 1 ? null : `${prefix}${i - 1}` });
  return folders(...list);
}

t.test('R-05 folders nest, and folderPath shows the path from the root', async (t) => {
  t.same(checkFolder({ id: 'F5', name: '  Linux ', parentId: 'F1' }, tree), { id: 'F5', name: 'Linux', parentId: 'F1' });
  t.equal(folderPath('F3', tree), '/Servers/Windows/2025');
  t.equal(folderPath('F4', tree), '/Clients');
  t.equal(folderPath(null, tree), '/');
  t.equal(folderPath('nope', tree), '/');
});

t.test('R-05 a folder name is required and holds no path separator; its parent must exist', async (t) => {
  expectError(t, () => checkFolder({ id: 'F5', name: ' ', parentId: null }, tree), 'invalid', 'name');
  expectError(t, () => checkFolder({ id: 'F5', name: 'a/b', parentId: null }, tree), 'invalid', 'name');
  expectError(t, () => checkFolder({ id: 'F5', name: 'a\\b', parentId: null }, tree), 'invalid', 'name');
  expectError(t, () => checkFolder({ id: 'F5', name: 'x', parentId: 'F9' }, tree), 'not-found', 'parentId');
});

t.test('R-05 sibling folder names are unique, ignoring case', async (t) => {
  expectError(t, () => checkFolder({ id: 'F5', name: 'SERVERS', parentId: null }, tree), 'conflict', 'name');
  expectError(t, () => checkFolder({ id: 'F5', name: ' windows ', parentId: 'F1' }, tree), 'conflict', 'name');
  expectError(t, () => checkFolder({ id: 'F4', name: 'x', parentId: null }, folders(...tree.values(), { id: 'F6', name: 'X', parentId: null })), 'conflict', 'name');
  t.equal(checkFolder({ id: 'F5', name: 'Windows', parentId: 'F4' }, tree).name, 'Windows', 'same name under another parent');
  t.equal(checkFolder({ id: 'F2', name: 'WINDOWS', parentId: 'F1' }, tree).name, 'WINDOWS', 'renaming a folder to its own name in other case');
  t.equal(checkFolder({ id: 'F3', name: '2025', parentId: 'F4' }, tree).parentId, 'F4', 'moving to another parent');
});

t.test('R-05 a folder cannot move into itself or one of its subfolders', async (t) => {
  expectError(t, () => checkFolder({ id: 'F1', name: 'Servers', parentId: 'F1' }, tree), 'conflict', 'parentId');
  expectError(t, () => checkFolder({ id: 'F1', name: 'Servers', parentId: 'F2' }, tree), 'conflict', 'parentId');
  expectError(t, () => checkFolder({ id: 'F1', name: 'Servers', parentId: 'F3' }, tree), 'conflict', 'parentId');
  t.equal(checkFolder({ id: 'F1', name: 'Servers', parentId: 'F4' }, tree).parentId, 'F4');
  t.equal(checkFolder({ id: 'F3', name: '2025', parentId: null }, tree).parentId, null);
});

t.test('R-05 folders nest at most MAX_FOLDER_DEPTH deep', async (t) => {
  const deep = chain(MAX_FOLDER_DEPTH - 1);
  t.equal(checkFolder({ id: 'N', name: 'last', parentId: `C${MAX_FOLDER_DEPTH - 1}` }, deep).parentId, `C${MAX_FOLDER_DEPTH - 1}`, 'depth MAX is fine');
  const full = chain(MAX_FOLDER_DEPTH);
  const e = expectError(t, () => checkFolder({ id: 'N', name: 'one more', parentId: `C${MAX_FOLDER_DEPTH}` }, full), 'invalid', 'parentId');
  t.match(e?.message, new RegExp(`at most ${MAX_FOLDER_DEPTH}`));
  t.equal(folderPath(`C${MAX_FOLDER_DEPTH}`, full).split('/').length - 1, MAX_FOLDER_DEPTH);
});

t.test('R-05 moving a folder counts the subfolders it takes along against the depth limit', async (t) => {
  const all = new Map([...chain(10, 'A'), ...chain(7, 'B')]);
  expectError(t, () => checkFolder({ id: 'B1', name: 'level 1', parentId: 'A10' }, all), 'invalid', 'parentId');
  t.equal(checkFolder({ id: 'B1', name: 'level 1', parentId: 'A9' }, all).parentId, 'A9', '9 + 7 = 16 fits');
  t.equal(checkFolder({ id: 'B2', name: 'level 2', parentId: 'A10' }, all).parentId, 'A10', 'a shallower subtree fits');
});

t.test('R-05 a folder can be deleted only when it holds no subfolders and no task sequences', async (t) => {
  expectError(t, () => checkFolderEmpty('F1', tree, []), 'conflict', 'id');
  expectError(t, () => checkFolderEmpty('F3', tree, [null, 'F4', 'F3']), 'conflict', 'id');
  t.doesNotThrow(() => checkFolderEmpty('F3', tree, [null, 'F4']));
  t.doesNotThrow(() => checkFolderEmpty('F4', tree, [original.folderId]));
  expectError(t, () => checkFolderEmpty('F2', tree, [original.folderId]), 'conflict', 'id');
});
