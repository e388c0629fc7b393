/** Settings rows on PostgreSQL: `settings (name, value TEXT)`, the value JSON text. */
import type { SettingsRepo } from '../../site/repos/settings.js';
import { jsonText } from '../rows.js';
import type { PgQuery } from './query.js';

export class PgSettingsRepo implements SettingsRepo {
  constructor(private readonly q: PgQuery) {}

  async get(name: string): Promise<unknown> {
    const row = (await this.q<{ value: string }>('SELECT value FROM settings WHERE name = $1', [name])).rows[0];
    return row ? (JSON.parse(row.value) as unknown) : undefined;
  }

  async put(name: string, value: unknown): Promise<void> {
    const text = jsonText(value, `setting ${name}`);
    await this.q('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [name, text]);
  }

  async delete(name: string): Promise<boolean> {
    return ((await this.q('DELETE FROM settings WHERE name = $1', [name])).rowCount ?? 0) > 0;
  }
}
