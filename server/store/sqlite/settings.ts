/** Settings rows on SQLite: `settings (name, value TEXT)`, the value JSON text. */
import { settingChange, type StoreChange } from '../../site/repos/changes.js';
import type { SettingsRepo } from '../../site/repos/settings.js';
import { recordChange } from '../change-journal.js';
import { jsonText } from '../rows.js';
import type { SqliteExec, Statements } from './statements.js';

const note = (q: Statements, change: StoreChange | null): void => {
  if (change) recordChange(q.db, change);
};

/** Older versions wrote the PXE password's hash as plain text, not JSON: it reads back as that string. */
export function parseSetting(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export class SqliteSettingsRepo implements SettingsRepo {
  constructor(private readonly exec: SqliteExec) {}

  async get(name: string): Promise<unknown> {
    return this.exec((q) => {
      const row = q.get<{ value: string }>('SELECT value FROM settings WHERE name = ?', name);
      return row ? parseSetting(row.value) : undefined;
    });
  }

  async put(name: string, value: unknown): Promise<void> {
    const text = jsonText(value, `setting ${name}`);
    return this.exec((q) => {
      q.run('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value', name, text);
      // The site settings (and whether a PXE password is set) are policy inputs: the policy state hears of it once this commits.
      note(q, settingChange(name, true, value));
    });
  }

  async delete(name: string): Promise<boolean> {
    return this.exec((q) => {
      const gone = q.run('DELETE FROM settings WHERE name = ?', name).changes > 0;
      if (gone) note(q, settingChange(name, false));
      return gone;
    });
  }

  async putIfAbsent(name: string, value: unknown): Promise<unknown> {
    const text = jsonText(value, `setting ${name}`);
    return this.exec((q) => {
      if (q.run('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', name, text).changes > 0) {
        note(q, settingChange(name, true, value));
        return value;
      }
      return parseSetting((q.get<{ value: string }>('SELECT value FROM settings WHERE name = ?', name) as { value: string }).value);
    });
  }
}
