/**
 * The pg Pool the store uses: BIGINT (int8) columns come back as numbers, not strings (times
 * and counters are epoch ms and ids, far below 2^53; a value beyond that is refused rather than
 * rounded), and an idle connection the server drops is reported instead of crashing the process.
 */
import pg from 'pg';

const INT8_OID = 20;

function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`a BIGINT value ${text} is beyond what a JavaScript number holds exactly`);
  return n;
}

export function storeTypes(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, parseInt8);
  return types;
}

export interface PgPoolOptions {
  /** Connections at most (pg's default is 10). */
  readonly max?: number;
  /** An idle connection failed (the server restarted, or dropped it). */
  readonly onIdleError?: (e: Error) => void;
}

export function createPool(url: string, opts: PgPoolOptions = {}): pg.Pool {
  // A server that does not answer is an error after 5 s, not a request that waits for ever.
  const pool = new pg.Pool({ connectionString: url, types: storeTypes(), connectionTimeoutMillis: 5_000, ...(opts.max !== undefined ? { max: opts.max } : {}) });
  pool.on('error', (e) => opts.onIdleError?.(e));
  return pool;
}
