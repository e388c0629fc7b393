/**
 * A small table formatter for people: a header row and columns padded to their widest cell,
 * two spaces apart. No dependency; cells are one line each (newlines become spaces).
 */

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => unknown;
}

/** A column that reads one field of the row. */
export const col = <T>(header: string, key: keyof T & string): Column<T> => ({ header, value: (row) => row[key] });

export function cell(v: unknown): string {
  if (v === undefined || v === null || v === '') return '-';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.length === 0 ? '-' : v.map(cell).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v).replace(/\s*[\r\n]+\s*/g, ' ');
}

export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const grid = [columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => cell(c.value(r))))];
  const widths = columns.map((_, i) => Math.max(...grid.map((line) => [...line[i]!].length)));
  const lines = grid.map((line) =>
    line
      .map((text, i) => (i === line.length - 1 ? text : text + ' '.repeat(widths[i]! - [...text].length)))
      .join('  ')
      .trimEnd(),
  );
  if (rows.length === 0) lines.push('(none)');
  return lines.join('\n');
}

/** `key: value` lines, keys padded, for one object. */
export function formatFields(fields: readonly (readonly [string, unknown])[]): string {
  const width = Math.max(0, ...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${(k + ':').padEnd(width + 1)} ${cell(v)}`).join('\n');
}
