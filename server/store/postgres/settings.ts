/** Settings rows on PostgreSQL: `settings (name, value TEXT)`, the value JSON text. */
import { settingChange, type NoteChange, type StoreChange } from '../../site/repos/changes.js';
import type { SettingsRepo } from '../../site/repos/settings.js';
import { jsonText } from '../rows.js';
import type { PgQuery } from './query.js';

export class PgSettingsRepo implements SettingsRepo {
  constructor(
    private readonly q: PgQuery,
    private readonly note: NoteChange,
  ) {}

  async get(name: string): Promise<unknown> {
    const row = (await this.q<{ value: string }>('SELECT value FROM settings WHERE name = $1', [name])).rows[0];
    return row ? (JSON.parse(row.value) as unknown) : undefined;
  }

  async put(name: string, value: unknown): Promise<void> {
    const text = jsonText(value, `setting ${name}`);
    await this.q('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [name, text]);
    this.changed(settingChange(name, true, value));
  }

  async delete(name: string): Promise<boolean> {
    const gone = ((await this.q('DELETE FROM settings WHERE name = $1', [name])).rowCount ?? 0) > 0;
    if (gone) this.changed(settingChange(name, false));
    return gone;
  }

  async putIfAbsent(name: string, value: unknown): Promise<unknown> {
    const text = jsonText(value, `setting ${name}`);
    // Two statements: under READ COMMITTED the SELECT sees the row a concurrent writer committed
    // (the INSERT waited for it and did nothing), which a single statement's snapshot would not.
    if (((await this.q('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, text])).rowCount ?? 0) > 0) {
      this.changed(settingChange(name, true, value));
      return value;
    }
    return this.get(name);
  }

  private changed(change: StoreChange | null): void {
    if (change) this.note(change);
  }
}
