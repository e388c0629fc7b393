/** Stored tokens on SQLite (`tokens`, migrations 1, 4 and 5). */
import type { TokenRecord, TokenRepo } from '../../site/repos/tokens.js';
import { TOKEN_COLUMNS, tokenOf, tokenValues, type TokenRow } from '../rows.js';
import type { SqliteExec } from './statements.js';

export class SqliteTokenRepo implements TokenRepo {
  constructor(private readonly exec: SqliteExec) {}

  async insert(token: TokenRecord): Promise<void> {
    return this.exec((q) => {
      q.run(`INSERT INTO tokens (${TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ...tokenValues(token));
    });
  }

  private async one(where: string, arg: string): Promise<TokenRecord | null> {
    return this.exec((q) => {
      const row = q.get<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE ${where}`, arg);
      return row ? tokenOf(row) : null;
    });
  }

  async byHash(hash: string): Promise<TokenRecord | null> {
    return this.one('hash = ?', hash);
  }

  async byId(id: string): Promise<TokenRecord | null> {
    return this.one('id = ?', id);
  }

  async newestForMedia(mediaId: string): Promise<TokenRecord | null> {
    return this.one('media_id = ? ORDER BY created_at DESC, id DESC LIMIT 1', mediaId);
  }

  async list(): Promise<TokenRecord[]> {
    return this.exec((q) => q.all<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id`).map(tokenOf));
  }

  async revoke(id: string, at: number): Promise<boolean> {
    return this.exec((q) => q.run('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', at, id).changes > 0);
  }

  async countActive(role: string): Promise<number> {
    return this.exec((q) => (q.get<{ n: number }>('SELECT COUNT(*) AS n FROM tokens WHERE role = ? AND revoked_at IS NULL', role) as { n: number }).n);
  }
}
