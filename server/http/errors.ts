/**
 * The one place errors become HTTP answers (DESIGN.md lesson 8). Bad input is always a 4xx
 * naming the field; a 500 is only ever our own bug, logged with its stack.
 */
import { StoreUnavailable } from '../site/repos/store.js';
import type { FastifyError, FastifyInstance } from 'fastify';
import { ContentError, type ContentErrorCode } from '../../content/errors.js';
import { PolicyError, type PolicyErrorCode } from '../../policy/errors.js';

const STATUS: Record<PolicyErrorCode, number> = { invalid: 400, 'not-found': 404, conflict: 409, refused: 422, forbidden: 403 };
const CONTENT_STATUS: Record<ContentErrorCode, number> = {
  'not-found': 404,
  'hash-mismatch': 422,
  'size-mismatch': 422,
  'hostile-path': 400,
  'range-not-satisfiable': 416,
  corrupt: 422,
  exists: 409,
  invalid: 400,
};

export interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly field?: string;
  readonly rule?: string;
}

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | PolicyError | HttpError | ContentError, request, reply) => {
    if (err instanceof ContentError) return reply.status(CONTENT_STATUS[err.code]).send({ error: err.code, message: err.message });
    if (err instanceof PolicyError) {
      const body: ErrorBody = { error: err.code, message: err.message, ...(err.field ? { field: err.field } : {}), ...(err.rule ? { rule: err.rule } : {}) };
      return reply.status(STATUS[err.code]).send(body);
    }
    if (err instanceof StoreUnavailable) {
      request.log.warn({ reason: err.reason }, 'site database unreachable');
      return reply.status(503).header('retry-after', '5').send({ error: 'database-unavailable', message: err.message });
    }
    if (err instanceof HttpError) return reply.status(err.statusCode).send({ error: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) });
    const fe = err as FastifyError;
    if (fe.validation) {
      const first = fe.validation[0];
      const params = (first?.params ?? {}) as Record<string, unknown>;
      const where = (first?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
      const missing = typeof params.missingProperty === 'string' ? params.missingProperty : undefined;
      const extra = typeof params.additionalProperty === 'string' ? params.additionalProperty : undefined;
      const field = [fe.validationContext, where, missing ?? extra].filter(Boolean).join('.') || fe.validationContext || 'body';
      const what = missing ? 'is required' : extra ? 'is not allowed' : (first?.message ?? 'is invalid');
      return reply.status(400).send({ error: 'invalid', message: `${field} ${what}`, field });
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      const message = fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError ? `body is not valid JSON: ${fe.message}` : fe.message;
      return reply.status(fe.statusCode).send({ error: fe.code ?? 'bad-request', message });
    }
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: 'internal', message: 'internal error; see the service log' });
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send({ error: 'not-found', message: `no route ${request.method} ${request.url.split('?')[0]}` }));
}
