/**
 * Coded errors of the policy layer. The server maps `code` to an HTTP status in one place
 * (DESIGN.md lesson 8); policy code never knows about HTTP.
 */
export type PolicyErrorCode =
  | 'invalid' // the input breaks a shape or value rule (maps to 400)
  | 'not-found' // an id that does not exist (404)
  | 'conflict' // a duplicate or an operation the current state forbids (409)
  | 'refused' // a domain rule refuses it (422), e.g.
  | 'forbidden'; // the caller may not do this to that object (403), e.g. a token bound to another machine

export class PolicyError extends Error {
  readonly code: PolicyErrorCode;
  /** The rule id (R-xx) that refused, when a rule did. */
  readonly rule: string | undefined;
  /** Field or item the error is about, for precise messages. */
  readonly field: string | undefined;

  constructor(code: PolicyErrorCode, message: string, opts: { rule?: string; field?: string } = {}) {
    super(message);
    this.name = 'PolicyError';
    this.code = code;
    this.rule = opts.rule;
    this.field = opts.field;
  }
}

export const invalid = (message: string, field?: string, rule?: string): PolicyError =>
  new PolicyError('invalid', message, { field, rule });
export const notFound = (message: string, field?: string): PolicyError =>
  new PolicyError('not-found', message, { field });
export const conflict = (message: string, field?: string, rule?: string): PolicyError =>
  new PolicyError('conflict', message, { field, rule });
export const refused = (message: string, rule: string, field?: string): PolicyError =>
  new PolicyError('refused', message, { rule, field });
export const forbidden = (message: string, field?: string): PolicyError =>
  new PolicyError('forbidden', message, { field });
