/** Schemas shared by the API routes. Deep rules live in policy/; schemas catch shape errors early and document the API. */
import { Type, type Static } from '@fastify/type-provider-typebox';
import { invalid } from '../../../../policy/errors.js';

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export type IdParams = Static<typeof IdParams>;

/**
 * Query strings arrive as text and the API never coerces types (app.ts), so paging values are
 * digits in the schema and become numbers, range-checked, in `pageOf`.
 */
export const PageQuery = {
  offset: Type.Optional(Type.String({ pattern: '^[0-9]{1,10}$', description: 'whole number ≥ 0; default 0' })),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: '1..1000; default 100' })),
};

export function pageOf(q: { offset?: unknown; limit?: unknown }): { offset: number; limit: number } {
  return { offset: intQuery(q.offset, 'offset', 0, 0, 2 ** 31 - 1), limit: intQuery(q.limit, 'limit', 100, 1, 1000) };
}

export const ErrorBody = Type.Object({
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
  rule: Type.Optional(Type.String()),
});

export const VariableInput = Type.Object(
  { name: Type.String({ maxLength: 256 }), value: Type.String({ maxLength: 16384 }), hidden: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

export const Architecture = Type.Union([Type.Literal('x86'), Type.Literal('x64'), Type.Literal('arm64')]);

/** Query strings arrive as text; integers are parsed here so bad values are 400s naming the field. */
export function intQuery(v: unknown, field: string, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw invalid(`${field} must be a whole number ${min}..${max}`, field);
  return n;
}
