/**
 * Hears the policy changes other nodes commit on the same database (LISTEN on CHANGES_CHANNEL;
 * store.ts sends them with each committing transaction). A change from another node carries ids
 * only; the policy state reads the rest. A notice too big to carry its changes, or a connection
 * that dropped (notices sent meanwhile are lost), asks for a rebuild instead. The connection is
 * re-made with a growing delay until it is back; `connected` says whether it is now.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { StoreChange } from '../../site/repos/changes.js';
import { storeTypes } from './pool.js';
import { CHANGES_CHANNEL, type ChangeNotice } from './store.js';

export interface ChangeListenerHandlers {
  /** Changes another node committed. */
  readonly changes: (changes: readonly StoreChange[]) => void;
  /** Some changes may have been missed: read everything again. */
  readonly resync: (why: string) => void;
}

export class ChangeListener {
  private client: pg.Client | null = null;
  private closed = false;
  private delay = 100;
  private timer: NodeJS.Timeout | null = null;
  /** When the connection was last lost (null while connected or before the first connect). */
  lostAt: number | null = null;

  constructor(
    private readonly url: string,
    /** This node's id: its own notices are skipped (they were applied at commit). */
    private readonly node: string,
    private readonly on: ChangeListenerHandlers,
    private readonly log?: Logger,
  ) {}

  get connected(): boolean {
    return this.client !== null;
  }

  /** Connects and listens; rejects if the first connection fails. */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, types: storeTypes() });
    client.on('notification', (n) => this.heard(n.payload));
    client.on('error', (err) => this.lost(client, err.message));
    client.on('end', () => this.lost(client, 'connection ended'));
    await client.connect();
    try {
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (e) {
      await client.end().catch(() => undefined);
      throw e;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.delay = 100;
  }

  private heard(payload: string | undefined): void {
    let notice: ChangeNotice;
    try {
      notice = JSON.parse(payload ?? '') as ChangeNotice;
    } catch {
      this.log?.debug({ payload: payload?.slice(0, 200) }, 'ignored a change notice that is not JSON');
      return;
    }
    if (notice.node === this.node) return;
    if (notice.changes === null) this.on.resync('a change notice too big to carry its changes');
    else if (Array.isArray(notice.changes)) this.on.changes(notice.changes);
  }

  private lost(client: pg.Client, why: string): void {
    if (this.client !== client) return;
    this.client = null;
    this.lostAt = Date.now();
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.log?.warn({ why }, 'lost the database connection that hears other nodes; boots are answered from the last policy state until it is back');
    this.retry();
  }

  private retry(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect().then(
        () => {
          if (this.closed || !this.client) return;
          this.lostAt = null;
          this.log?.info('the database connection that hears other nodes is back; reading the policy state again');
          this.on.resync('reconnected: notices sent meanwhile were missed');
        },
        (err: Error) => {
          this.log?.debug({ err: err.message, retryMs: this.delay }, 'database still unreachable');
          this.delay = Math.min(this.delay * 2, 5_000);
          this.retry();
        },
      );
    }, this.delay);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }
}
