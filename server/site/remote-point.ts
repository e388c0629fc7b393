/**
 * The site's side of a remote distribution point: another osdeploy service reached over HTTP
 * with a token it issued. The site tells it what to pull (POST /api/v1/point/pull with signed
 * URLs of the site's blobs); the point pulls, verifies every hash and answers with NDJSON
 * progress lines, so a long transfer shows progress and a failure carries its reason.
 */
import type { ContentObject } from '../../content/model.js';

export interface PullBlob {
  readonly sha256: string;
  readonly size: number;
  readonly url: string;
}

export interface PullRequest {
  /** The object with exactly the version to install. */
  readonly object: ContentObject;
  readonly blobs: readonly PullBlob[];
  /** Re-hash blobs the point already has and replace damaged ones. */
  readonly verifyExisting?: boolean;
}

export interface PullDone {
  readonly blobs: number;
  readonly copied: number;
  readonly bytesCopied: number;
}

/** One NDJSON line of a pull answer. */
export type PullLine = { readonly progress: number } | { readonly done: PullDone } | { readonly error: { readonly code: string; readonly message: string } };

export interface InventoryItem {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly versions: readonly { readonly version: number; readonly manifestSha256: string }[];
}

export interface ValidateResult {
  readonly id: string;
  readonly version: number;
  readonly manifestSha256: string;
  readonly ok: boolean;
  readonly mismatches: readonly { path: string; sha256: string; reason: string }[];
}

export class RemotePointError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

export class RemotePointClient {
  private readonly base: string;

  constructor(
    url: string,
    private readonly token: string,
    private readonly fetchFn: typeof fetch = fetch,
  ) {
    this.base = url.replace(/\/+$/, '');
  }

  async inventory(signal?: AbortSignal): Promise<InventoryItem[]> {
    return ((await this.json('GET', '/api/v1/point/inventory', undefined, signal)) as { items: InventoryItem[] }).items;
  }

  async validate(contentId: string | undefined, signal?: AbortSignal): Promise<ValidateResult[]> {
    return ((await this.json('POST', '/api/v1/point/validate', contentId ? { contentId } : {}, signal)) as { results: ValidateResult[] }).results;
  }

  /** A client-role token on the point, for machines that download from it. */
  async mintClientToken(name: string, signal?: AbortSignal): Promise<string> {
    return ((await this.json('POST', '/api/v1/tokens', { name, role: 'client' }, signal)) as { token: string }).token;
  }

  /** Asks the point to pull; resolves when it reports done, rejects with the point's reason. */
  async pull(req: PullRequest, onProgress: (bytes: number) => void, signal?: AbortSignal): Promise<PullDone> {
    const res = await this.send('POST', '/api/v1/point/pull', req, signal);
    if (!res.body) throw new RemotePointError(`${this.base} answered the pull with no body`, res.status);
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        const msg = parseLine(line, this.base);
        if ('progress' in msg) onProgress(msg.progress);
        else if ('done' in msg) return msg.done;
        else throw new RemotePointError(msg.error.message, res.status);
      }
      if (buffered.length > 1 << 20) throw new RemotePointError(`${this.base} sent an over-long progress line`, res.status);
    }
    throw new RemotePointError(`${this.base} closed the pull before reporting a result`, res.status);
  }

  private async json(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const res = await this.send(method, path, body, signal);
    return res.json();
  }

  private async send(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchFn(`${this.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
    } catch (e) {
      if (signal?.aborted) throw e;
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new RemotePointError(`cannot reach the distribution point at ${this.base} (${cause?.code ?? cause?.message ?? (e as Error).message})`, null);
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // not JSON: keep the text
      }
      const hint = res.status === 401 || res.status === 403 ? ' (the point refused the token; it must be an admin token of that service)' : '';
      throw new RemotePointError(`distribution point ${this.base} answered ${res.status}: ${message}${hint}`, res.status);
    }
    return res;
  }
}

function parseLine(line: string, base: string): PullLine {
  try {
    const v = JSON.parse(line) as PullLine;
    if (v && typeof v === 'object' && ('progress' in v || 'done' in v || 'error' in v)) return v;
  } catch {
    // fall through
  }
  throw new RemotePointError(`${base} sent an unreadable progress line`, null);
}
