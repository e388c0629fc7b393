/**
 * Status messages go to disk first and to the site second: a message is written to the
 * outbox folder (one file each, fsynced), then the outbox is sent in batches. When the site is
 * unreachable the files stay and are sent later, by this process or the next start. Every
 * message carries its own id, so a batch resent after a lost answer is stored once.
 *
 * A run from standalone media has no site (null): its outbox only keeps. It cannot register the
 * machine either, so its messages carry no computerId; the registration request waits
 * beside them and is made first thing when the outbox next reaches a site (any online start,
 * or `--flush-outbox`), and the computer id the site answers is written into each message.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { SiteRefused, SiteUnreachable, type SiteClient } from './site-client.js';
import { atomicWrite } from './state.js';

const BATCH = 100;
const REGISTRATION = 'registration.pending';

/** What POST /api/v1/register takes: the machine an offline run ran on. */
export interface RegistrationRequest {
  readonly macAddresses: readonly string[];
  readonly smbiosUuid: string | null;
  readonly architecture: string;
  readonly name?: string;
}

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
    private readonly site: SiteClient | null,
    private readonly log: OutboxLog,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** No site: an offline run's outbox keeps everything for a later start. */
  get offline(): boolean {
    return this.site === null;
  }

  /** Messages added from now on without a computerId belong to this machine, registered when a site answers. */
  deferRegistration(request: RegistrationRequest): void {
    atomicWrite(path.join(this.dir, REGISTRATION), JSON.stringify(request));
  }

  registrationPending(): boolean {
    return existsSync(path.join(this.dir, REGISTRATION));
  }

  /** File names sort in the order messages were made, across restarts. */
  add(message: { readonly id: string } & Record<string, unknown>): void {
    const name = `${String(this.now()).padStart(15, '0')}-${String(process.pid).padStart(7, '0')}-${String(this.seq++).padStart(6, '0')}-${message.id}.json`;
    atomicWrite(path.join(this.dir, name), JSON.stringify(message));
  }

  pending(): string[] {
    return existsSync(this.dir) ? readdirSync(this.dir).filter((f) => f.endsWith('.json')).sort() : [];
  }

  private read(file: string): { readonly id: string; readonly computerId?: unknown } & Record<string, unknown> {
    return JSON.parse(readFileSync(path.join(this.dir, file), 'utf8')) as { id: string } & Record<string, unknown>;
  }

  /**
   * Registers the machine an offline run ran on and writes its computer id into the messages
   * that lack one. Idempotent on the site: a crash halfway registers again and gets the same id.
   */
  private async registerDeferred(site: SiteClient): Promise<void> {
    const file = path.join(this.dir, REGISTRATION);
    if (!existsSync(file)) return;
    const files = this.pending().filter((f) => !this.read(f).computerId);
    if (files.length > 0) {
      const reg = await site.register(JSON.parse(readFileSync(file, 'utf8')) as RegistrationRequest);
      for (const f of files) atomicWrite(path.join(this.dir, f), JSON.stringify({ ...this.read(f), computerId: reg.computer.id }));
      this.log(`status: this machine is computer ${reg.computer.id} (${reg.computer.name})${reg.created ? ', registered now (R-17)' : ''}; ${files.length} status message(s) of an offline run go with its id`);
    }
    rmSync(file, { force: true });
  }

  /** Sends what it can now; returns how many messages are still waiting. Never throws for the network. */
  async flush(force = false): Promise<number> {
    const site = this.site;
    if (!site || (!force && this.now() < this.retryAt)) return this.pending().length;
    for (let first = true; ; first = false) {
      const files = this.pending().slice(0, BATCH);
      if (files.length === 0) break;
      try {
        if (first) await this.registerDeferred(site);
        await this.send(site, files.map((f) => this.read(f)));
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
  private async send(site: SiteClient, messages: readonly { id: string }[]): Promise<void> {
    try {
      const r = await site.postStatus(messages);
      for (const x of r.rejected) this.log(`status: the site rejected message ${x.id}: ${x.reason}`);
    } catch (e) {
      if (!(e instanceof SiteRefused) || e.status !== 400 || messages.length === 1) {
        if (e instanceof SiteRefused && e.status === 400) {
          this.log(`status: the site refused message ${messages[0]?.id}: ${e.message}; dropped`);
          return;
        }
        throw e;
      }
      for (const m of messages) await this.send(site, [m]);
    }
  }

  /**
   * Moves what is still waiting (and a pending registration) into another outbox folder: the
   * deployed OS's, when the run goes on there after a restart. Returns how many messages moved.
   */
  moveTo(dir: string): number {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const files = this.pending();
    for (const f of [...(this.registrationPending() ? [REGISTRATION] : []), ...files]) {
      copyFileSync(path.join(this.dir, f), path.join(dir, f));
      rmSync(path.join(this.dir, f), { force: true });
    }
    return files.length;
  }

  /** Keeps trying until everything is sent or `deadline` passes; returns how many are left. */
  async drain(deadline: number, sleep: (ms: number) => Promise<void>): Promise<number> {
    if (!this.site) return this.pending().length;
    for (;;) {
      const left = await this.flush(true);
      if (left === 0 || this.now() >= deadline) return left;
      await sleep(Math.min(this.backoffMs, Math.max(0, deadline - this.now())));
    }
  }
}
