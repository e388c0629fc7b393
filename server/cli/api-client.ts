/**
 * The CLI's only way to the service: JSON over HTTP with a bearer token, through the global
 * fetch. Answers other than 2xx become an `ApiError` carrying the API's error body
 * (`{error, message, field?, rule?}`); an unreachable server becomes a `ConnectionError`.
 */

export interface ApiErrorBody {
  readonly error: string;
  readonly message: string;
  readonly field?: string;
  readonly rule?: string;
  readonly reasons?: readonly string[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.message);
  }
}

export class ConnectionError extends Error {
  constructor(
    readonly server: string,
    readonly code: string,
  ) {
    super(
      code === 'ECONNREFUSED'
        ? `cannot connect to the osdeploy server at ${server} (connection refused); is it running? Use --server URL or OSDEPLOY_SERVER`
        : `cannot reach the osdeploy server at ${server} (${code}); check --server URL or OSDEPLOY_SERVER`,
    );
  }
}

export type Query = Record<string, string | number | undefined>;

export interface RequestOptions {
  readonly query?: Query;
  /** An object is sent as JSON; a string is sent as is with `contentType`. */
  readonly body?: unknown;
  readonly contentType?: string;
}

export class ApiClient {
  private readonly base: string;

  constructor(
    server: string,
    private readonly token: string | undefined,
  ) {
    this.base = server.replace(/\/+$/, '');
  }

  get server(): string {
    return this.base;
  }

  get = <T = unknown>(path: string, query?: Query): Promise<T> => this.request<T>('GET', path, { query });
  post = <T = unknown>(path: string, body?: unknown, contentType?: string): Promise<T> => this.request<T>('POST', path, { body, contentType });
  patch = <T = unknown>(path: string, body: unknown): Promise<T> => this.request<T>('PATCH', path, { body });
  delete = (path: string): Promise<unknown> => this.request('DELETE', path, {});

  /**
   * The raw response of a request whose body is not JSON (a prestaged file download, an upload
   * stream). A non-2xx answer still becomes an ApiError.
   */
  async raw(method: string, path: string, body?: { data: unknown; contentType: string }): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body) headers['content-type'] = body.contentType;
    const payload = body ? (typeof body.data === 'string' ? body.data : body.data instanceof Uint8Array || isStream(body.data) ? body.data : JSON.stringify(body.data)) : undefined;
    let res: Response;
    try {
      // duplex 'half' is what fetch needs to send a stream body.
      res = await fetch(`${this.base}/api/v1${path}`, { method, headers, ...(payload === undefined ? {} : { body: payload as RequestInit['body'], duplex: 'half' }) } as RequestInit);
    } catch (e) {
      throw new ConnectionError(this.base, causeCode(e));
    }
    if (!res.ok) {
      const text = await res.text();
      throw new ApiError(res.status, errorBody(res.status, parse(text), text));
    }
    return res;
  }

  async request<T = unknown>(method: string, path: string, opts: RequestOptions): Promise<T> {
    const url = new URL(`${this.base}/api/v1${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] = opts.contentType ?? 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (e) {
      throw new ConnectionError(this.base, causeCode(e));
    }
    const text = await res.text();
    const parsed = parse(text);
    if (!res.ok) throw new ApiError(res.status, errorBody(res.status, parsed, text));
    return parsed as T;
  }
}

const isStream = (v: unknown): boolean => typeof (v as { getReader?: unknown } | null)?.getReader === 'function';

function causeCode(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return (e as Error).message ?? String(e);
}

function parse(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function errorBody(status: number, parsed: unknown, text: string): ApiErrorBody {
  if (typeof parsed === 'object' && parsed !== null && typeof (parsed as ApiErrorBody).message === 'string') return parsed as ApiErrorBody;
  return { error: `http-${status}`, message: `the server answered ${status}${text ? `: ${text.slice(0, 200)}` : ''}` };
}
