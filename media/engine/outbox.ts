/**
 * Status messages go to disk first and to the site second: a message is written to the
 * outbox folder (one file each, fsynced), then the outbox is sent in batches. When the site is
 * unreachable the files stay and are sent later, by this process or the next start. Every
 * message carries its own id, so a batch resent after a lost answer is stored once.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { SiteRefused, SiteUnreachable, type SiteClient } from './site-client.js';
import { atomicWrite } from './state.js';

const BATCH = 100;

export interface OutboxLog {
  (line: string): void;
}

export class Outbox {
  private seq = 0;
  private retryAt = 0;
  private backoffMs = 500;
  private warned = false;

  constructor(
    readonly dir: string,
    private readonly site: SiteClient,
    private readonly log: OutboxLog,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** File names sort in the order messages were made, across restarts. */
  add(message: { readonly id: string } & Record<string, unknown>): void {
    const name = `${String(this.now()).padStart(15, '0')}-${String(process.pid).padStart(7, '0')}-${String(this.seq++).padStart(6, '0')}-${message.id}.json`;
    atomicWrite(path.join(this.dir, name), JSON.stringify(message));
  }

  pending(): string[] {
    return existsSync(this.dir) ? readdirSync(this.dir).filter((f) => f.endsWith('.json')).sort() : [];
  }

  /** Sends what it can now; returns how many messages are still waiting. Never throws for the network. */
  async flush(force = false): Promise<number> {
    if (!force && this.now() < this.retryAt) return this.pending().length;
    for (;;) {
      const files = this.pending().slice(0, BATCH);
      if (files.length === 0) break;
      const messages = files.map((f) => JSON.parse(readFileSync(path.join(this.dir, f), 'utf8')) as { id: string });
      try {
        await this.send(messages);
      } catch (e) {
        if (!(e instanceof SiteUnreachable) && !(e instanceof SiteRefused)) throw e;
        this.retryAt = this.now() + this.backoffMs;
        this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
        const left = this.pending().length;
        if (!this.warned) this.log(`status: ${e.message}; ${left} status message(s) kept in ${this.dir} and sent when the site answers`);
        this.warned = true;
        return left;
      }
      for (const f of files) rmSync(path.join(this.dir, f), { force: true });
    }
    if (this.warned) this.log('status: the site answers again; buffered status messages sent');
    this.warned = false;
    this.backoffMs = 500;
    this.retryAt = 0;
    return 0;
  }

  /** A batch the site refuses as a whole (400) is sent one by one so one bad message cannot block the rest. */
  private async send(messages: readonly { id: string }[]): Promise<void> {
    try {
      const r = await this.site.postStatus(messages);
      for (const x of r.rejected) this.log(`status: the site rejected message ${x.id}: ${x.reason}`);
    } catch (e) {
      if (!(e instanceof SiteRefused) || e.status !== 400 || messages.length === 1) {
        if (e instanceof SiteRefused && e.status === 400) {
          this.log(`status: the site refused message ${messages[0]?.id}: ${e.message}; dropped`);
          return;
        }
        throw e;
      }
      for (const m of messages) await this.send([m]);
    }
  }

  /** Keeps trying until everything is sent or `deadline` passes; returns how many are left. */
  async drain(deadline: number, sleep: (ms: number) => Promise<void>): Promise<number> {
    for (;;) {
      const left = await this.flush(true);
      if (left === 0 || this.now() >= deadline) return left;
      await sleep(Math.min(this.backoffMs, Math.max(0, deadline - this.now())));
    }
  }
}
