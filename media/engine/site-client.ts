/**
 * The engine's only way to its site: JSON over HTTP with the client token. A site that
 * cannot be reached is a `SiteUnreachable` (retry later: status is buffered, policy waits);
 * an answer that is not 2xx is a `SiteRefused` carrying the API's error. A client with no site
 * address (standalone media that name none) is unreachable by definition.
 */
import type { Item } from '../../policy/task-sequences/model.js';

import { readFileSync, rmSync, writeFileSync } from 'node:fs';

const BOOT_TOKEN = /^osdb_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export class SiteUnreachable extends Error {}

export class SiteRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: { error?: string; message?: string; field?: string },
  ) {
    super(`the site answered ${status}: ${body.message ?? body.error ?? 'no message'}`);
  }
}

export interface PolicyVariable {
  readonly name: string;
  readonly value: string | null;
  readonly hidden: boolean;
}

export interface RunPolicy {
  readonly deploymentId: string;
  readonly taskSequenceId: string;
  readonly taskSequenceName: string;
  readonly purpose: 'available' | 'required';
  readonly builtIns: Record<string, string>;
  readonly taskSequence: { readonly id: string; readonly name: string; readonly items: readonly Item[] };
  /** The content section (content helper): points and what to fetch; absent until it lands. */
  readonly content?: unknown;
}

export interface OfferView {
  readonly deploymentId: string;
  readonly taskSequenceId: string;
  readonly taskSequenceName: string;
  readonly purpose: string;
}

export interface IdentityView {
  readonly computerId: string;
  readonly name: string;
  readonly known: boolean;
}

/** The per-boot token a boot-policy or registration answer carries for a client (server/site/boot-tokens.ts). */
export interface BootTokenField {
  readonly bootToken?: string;
}

export type BootPolicyAnswer =
  | ({
      readonly kind: 'run';
      readonly why: string;
      readonly identity: IdentityView;
      readonly variables: readonly PolicyVariable[];
      /** Secrets the site kept back because the boot did not prove itself (no PXE password, unprotected media). */
      readonly secretsWithheld?: { readonly secrets: readonly string[]; readonly reason: string };
    } & RunPolicy &
      BootTokenField)
  | ({ readonly kind: 'offer'; readonly identity: IdentityView; readonly offers: readonly OfferView[]; readonly note: string | null } & BootTokenField)
  | { readonly kind: 'nothing'; readonly identity: IdentityView | null; readonly reason: string };

export interface ClientPolicyAnswer {
  readonly computerId: string;
  readonly now: number;
  readonly variables: readonly PolicyVariable[];
  readonly required: readonly (RunPolicy & { readonly occurrence: number; readonly reason: string })[];
  readonly available: readonly RunPolicy[];
  readonly upcoming: readonly { readonly deploymentId: string; readonly at: number; readonly what: string }[];
  readonly skipped: readonly { readonly deploymentId: string; readonly reason: string }[];
}

export interface Registration extends BootTokenField {
  readonly created: boolean;
  readonly computer: { readonly id: string; readonly name: string };
}

export interface StatusAnswer {
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: readonly { readonly id: string; readonly reason: string }[];
}

export type Query = Record<string, string | readonly string[] | undefined>;

export class SiteClient {
  readonly base: string | null;

  constructor(
    site: string | null,
    private token: string,
    private readonly timeoutMs = 15_000,
  ) {
    this.base = site === null ? null : site.replace(/\/+$/, '');
    this.startToken = token;
  }

  /** The token calls go with now: the one the engine started with, then its boot's own. */
  get currentToken(): string {
    return this.token;
  }

  /**
   * From the answer on, calls go with the per-boot token the site gave this boot: bound to this
   * machine and what it runs, it is the one the site takes status from.
   */
  useToken(token: string | undefined): void {
    if (!token || !BOOT_TOKEN.test(token) || token === this.token) return;
    this.token = token;
    if (this.savedAt) {
      try {
        writeFileSync(this.savedAt, `${token}\n`, { mode: 0o600 });
      } catch {
        // a read-only state folder: the boot's token lives as long as this process
      }
    }
  }

  private savedAt: string | null = null;
  private readonly startToken: string;
  private renewal: (() => Promise<string | undefined>) | null = null;
  private renewing = false;

  /**
   * How to get a new boot token when the site stops taking this one (it expired: a long-running
   * agent outlives its 24 h token). Called with the start token in use; the agent registers again.
   */
  renewWith(fn: () => Promise<string | undefined>): void {
    this.renewal = fn;
  }

  /**
   * Keeps the boot's token in the engine's state folder (0600), so a restarted engine (a crash, a
   * resumed run, the deployed OS after a handoff) reports with it too, not with the token it
   * started with (an enrollment or media token reports no status for a machine).
   */
  keepTokenIn(file: string): void {
    this.savedAt = file;
    try {
      const saved = readFileSync(file, 'utf8').trim();
      if (BOOT_TOKEN.test(saved)) this.token = saved;
    } catch {
      // none saved yet
    }
  }

  /** A saved boot token the site no longer takes (expired, its media revoked): back to the start token. */
  private dropBootToken(): boolean {
    if (this.token === this.startToken) return false;
    this.token = this.startToken;
    if (this.savedAt) rmSync(this.savedAt, { force: true });
    return true;
  }

  async request<T>(method: string, path: string, opts: { query?: Query; body?: unknown; timeoutMs?: number } = {}): Promise<T> {
    if (this.base === null) throw new SiteUnreachable('no site address is known (give --site URL)');
    const url = new URL(`${this.base}${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v as string]) url.searchParams.append(k, one);
    }
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}), signal: AbortSignal.timeout(opts.timeoutMs ?? this.timeoutMs) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause;
      throw new SiteUnreachable(`cannot reach the site at ${this.base} (${cause?.code ?? (e as Error).message})`);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = { message: text.slice(0, 200) };
    }
    // A proxy or a restarting site answers 502/503: as good as unreachable, try again later.
    if (res.status === 502 || res.status === 503 || res.status === 504) throw new SiteUnreachable(`the site at ${this.base} is not answering (${res.status})`);
    if (res.status === 401 && this.dropBootToken()) {
      if (this.renewal && !this.renewing) {
        this.renewing = true;
        try {
          this.useToken(await this.renewal());
        } finally {
          this.renewing = false;
        }
      }
      return this.request<T>(method, path, opts);
    }
    if (!res.ok) throw new SiteRefused(res.status, (body ?? {}) as SiteRefused['body']);
    return body as T;
  }

  bootPolicy(query: Query): Promise<BootPolicyAnswer> {
    return this.request('GET', '/api/v1/boot-policy', { query });
  }

  clientPolicy(computerId: string, utcOffsetMinutes: number): Promise<ClientPolicyAnswer> {
    return this.request('GET', '/api/v1/client-policy', { query: { computerId, utcOffset: String(utcOffsetMinutes) } });
  }

  register(body: { macAddresses: readonly string[]; smbiosUuid: string | null; architecture: string; name?: string }): Promise<Registration> {
    return this.request('POST', '/api/v1/register', { body });
  }

  /** A content version's files and a package's programs, which the policy's content section names by hash only. */
  contentManifest(id: string, version: number): Promise<{ files: { path: string; sha256: string; size: number }[]; programs?: { name: string; commandLine: string }[] }> {
    return this.request('GET', `/api/v1/client-content/${encodeURIComponent(id)}/${version}`);
  }

  /** Short time-out: a site that swallows packets must not hold up every step that reports. */
  postStatus(messages: readonly unknown[]): Promise<StatusAnswer> {
    return this.request('POST', '/api/v1/status', { body: { messages }, timeoutMs: 5000 });
  }
}
