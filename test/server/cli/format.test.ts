/** The CLI's text output, in-process: the table formatter and the step tree. */
import t from 'tap';
import { cell, formatFields, formatTable } from '../../../server/cli/table.js';
import { formatCondition, stepTree, type ItemView } from '../../../server/cli/ts-tree.js';

t.test('tables pad columns to the widest cell and show empty cells as -', async (t) => {
  const rows = [
    { id: '1', name: 'PC01', macs: ['aa:bb', 'cc:dd'] },
    { id: '16777220', name: 'A very long name', macs: [] },
  ];
  const text = formatTable(rows, [
    { header: 'ID', value: (r) => r.id },
    { header: 'NAME', value: (r) => r.name },
    { header: 'MACS', value: (r) => r.macs },
  ]);
  t.equal(text, ['ID        NAME              MACS', '1         PC01              aa:bb, cc:dd', '16777220  A very long name  -'].join('\n'));
  t.equal(formatTable([], [{ header: 'ID', value: () => 1 }]), 'ID\n(none)');
  t.equal(cell(true), 'yes');
  t.equal(cell(null), '-');
  t.equal(cell('two\nlines'), 'two lines', 'one line per row');
  t.equal(formatFields([['id', 'x'], ['long key', 3]]), 'id:       x\nlong key: 3');
});

t.test('the step tree: indentation, flags, conditions, secrets by name', async (t) => {
  const base = { description: '', enabled: true, continueOnError: false, condition: null };
  const items: ItemView[] = [
    {
      ...base, kind: 'group', id: 'i1', name: 'Install',
      children: [
        { ...base, kind: 'step', id: 'i2', name: 'Run', type: 'RunCommandLine', properties: {}, secretsSet: ['runAsPassword'], enabled: false, continueOnError: true,
          condition: { kind: 'and', conditions: [{ kind: 'variable', name: 'A', operator: 'equals', value: '1' }, { kind: 'not', condition: { kind: 'variable', name: 'B', operator: 'exists' } }] } },
      ],
    },
  ];
  t.same(stepTree(items), [
    '  i1  Install  [group]',
    '    i2  Run  (RunCommandLine)  [disabled]  [continue on error]  if (A equals "1" and not (B exists))  secrets set: runAsPassword',
  ]);
  t.equal(formatCondition({ kind: 'not', condition: { kind: 'or', conditions: [{ kind: 'variable', name: 'X', operator: 'exists' }, { kind: 'variable', name: 'Y', operator: 'exists' }] } }), 'not (X exists or Y exists)');
});
