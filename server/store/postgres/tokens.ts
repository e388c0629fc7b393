/** Stored tokens on PostgreSQL (`tokens`, migration 2). */
import type { TokenRecord, TokenRepo } from '../../site/repos/tokens.js';
import { TOKEN_COLUMNS, tokenOf, tokenValues, type TokenRow } from '../rows.js';
import { oneRow, type PgQuery } from './query.js';

export class PgTokenRepo implements TokenRepo {
  constructor(private readonly q: PgQuery) {}

  async insert(token: TokenRecord): Promise<void> {
    await this.q(`INSERT INTO tokens (${TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, tokenValues(token));
  }

  private async one(where: string, arg: string): Promise<TokenRecord | null> {
    const row = (await this.q<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE ${where}`, [arg])).rows[0];
    return row ? tokenOf(row) : null;
  }

  byHash(hash: string): Promise<TokenRecord | null> {
    return this.one('hash = $1', hash);
  }

  byId(id: string): Promise<TokenRecord | null> {
    return this.one('id = $1', id);
  }

  newestForMedia(mediaId: string): Promise<TokenRecord | null> {
    return this.one('media_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1', mediaId);
  }

  async list(): Promise<TokenRecord[]> {
    return (await this.q<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id`)).rows.map(tokenOf);
  }

  async revoke(id: string, at: number): Promise<boolean> {
    return ((await this.q('UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id])).rowCount ?? 0) > 0;
  }

  async countActive(role: string): Promise<number> {
    return (await oneRow<{ n: number }>(this.q, 'SELECT COUNT(*) AS n FROM tokens WHERE role = $1 AND revoked_at IS NULL', [role])).n;
  }
}
