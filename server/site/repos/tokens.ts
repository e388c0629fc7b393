/**
 * Stored API tokens, as rows: the bearer secret itself is never stored, only its sha256
 * (`hash`). Role and scope rules live in ../tokens.ts; this is what persists.
 */
export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  /** admin, technician or client (../tokens.ts ROLES). */
  readonly role: string;
  /** sha256 of the bearer token, hex. */
  readonly hash: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
  readonly expiresAt: number | null;
  readonly mediaId: string | null;
  /** Client tokens: site, computer, enroll or media; null for admin and technician (and tokens from before scopes). */
  readonly scope: string | null;
  readonly computerId: string | null;
}

export interface TokenRepo {
  insert(token: TokenRecord): Promise<void>;
  byHash(hash: string): Promise<TokenRecord | null>;
  byId(id: string): Promise<TokenRecord | null>;
  /** The newest token made for the media (boot-tokens.ts checks it is still good). */
  newestForMedia(mediaId: string): Promise<TokenRecord | null>;
  /** Every token, oldest first (created_at, then id). */
  list(): Promise<TokenRecord[]>;
  /** Marks an active token revoked at `at`; false when there is no active token `id`. */
  revoke(id: string, at: number): Promise<boolean>;
  /** How many unrevoked tokens have the role (first start: is there an admin token?). */
  countActive(role: string): Promise<number>;
}
