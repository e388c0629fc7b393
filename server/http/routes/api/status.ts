/**
 * Status: engines post batches of step messages; administrators read per-deployment
 * counts, per-computer history and alerts. Machines register here too and full-OS
 * clients ask for their policy.
 */
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { STATUS_KINDS } from '../../../../policy/status.js';
import { clientAccess } from '../../../site/client-access.js';
import { clientPolicy, clientPolicyAllowed } from '../../../site/client-policy.js';
import { computerView } from '../../../site/computers.js';
import type { SiteContext } from '../../../site/context.js';
import { registerComputer } from '../../../site/register.js';
import { MAX_BATCH, MAX_OUTPUT_TAIL_BYTES, recordStatus, type StatusInput } from '../../../site/status.js';
import { computerStatus, currentAlerts, deploymentStatus } from '../../../site/status-views.js';
import { actorOf, CLIENT_ROLES } from '../../auth.js';
import { Architecture, IdParams, intQuery, PageQuery, pageOf } from './common.js';

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$' });
const Message = Type.Object(
  {
    id: Id,
    at: Type.Integer({ minimum: 0, maximum: 8.64e15 }),
    computerId: Type.Optional(Id),
    mac: Type.Optional(Type.String({ maxLength: 64 })),
    deploymentId: Id,
    runId: Id,
    kind: Type.Union(STATUS_KINDS.map((k) => Type.Literal(k))),
    step: Type.Optional(
      Type.Object({ itemId: Type.String({ minLength: 1, maxLength: 64 }), name: Type.String({ maxLength: 256 }), type: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
    ),
    exitCode: Type.Optional(Type.Integer({ minimum: -2147483648, maximum: 4294967295 })),
    outputTail: Type.Optional(Type.String({ maxLength: MAX_OUTPUT_TAIL_BYTES })),
    durationMs: Type.Optional(Type.Integer({ minimum: 0 })),
    percent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failed')])),
    source: Type.Optional(Type.Union([Type.Literal('pxe'), Type.Literal('media'), Type.Literal('fullOs')])),
    message: Type.Optional(Type.String({ maxLength: 2048 })),
    continuedOnError: Type.Optional(Type.Boolean()),
    resumed: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const StatusBody = Type.Object({ messages: Type.Array(Message, { minItems: 1, maxItems: MAX_BATCH }) }, { additionalProperties: false });

const RegisterBody = Type.Object(
  {
    macAddresses: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 32 }),
    smbiosUuid: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    architecture: Architecture,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false },
);

const ClientPolicyQuery = Type.Object(
  {
    computerId: Id,
    utcOffset: Type.Optional(Type.String({ pattern: '^-?[0-9]{1,4}$', description: 'minutes east of UTC; default 0' })),
    lastLogon: Type.Optional(Type.String({ pattern: '^[0-9]{1,16}$' })),
    lastLogoff: Type.Optional(Type.String({ pattern: '^[0-9]{1,16}$' })),
  },
  { additionalProperties: false },
);

export async function statusRoutes(api: FastifyInstance, ctx: SiteContext, siteAddress: () => string): Promise<void> {
  const tags = ['status'];
  api.post('/status', { config: { roles: CLIENT_ROLES }, schema: { tags, body: StatusBody, description: 'R-30: a batch of status messages; a message whose id was stored before is ignored' } }, async (req) =>
    recordStatus(ctx, (req.body as { messages: StatusInput[] }).messages, await clientAccess(ctx, req.principal)),
  );
  api.get('/deployments/:id/status', { schema: { tags, params: IdParams, description: 'R-30: counts by state and each computer’s last state' } }, async (req) =>
    await deploymentStatus(ctx, (req.params as IdParams).id),
  );
  api.get('/computers/:id/status', { schema: { tags, params: IdParams, querystring: Type.Object(PageQuery, { additionalProperties: false }) } }, async (req) =>
    await computerStatus(ctx, (req.params as IdParams).id, pageOf(req.query as object)),
  );
  api.get('/alerts', { schema: { tags, description: 'R-16/R-30: alerts of every deployment, evaluated now' } }, async () => ({ items: await currentAlerts(ctx) }));

  api.post('/register', { config: { roles: CLIENT_ROLES }, schema: { tags: ['computers'], body: RegisterBody, description: 'R-17: registers an unknown machine, or returns the computer it already is' } }, async (req, reply) => {
    const r = await registerComputer(ctx, actorOf(req), req.body as never, await clientAccess(ctx, req.principal));
    return reply.status(r.created ? 201 : 200).send({ created: r.created, computer: computerView(r.computer), ...(r.bootToken ? { bootToken: r.bootToken } : {}) });
  });
  api.get('/client-policy', { config: { roles: CLIENT_ROLES }, schema: { tags: ['boot'], querystring: ClientPolicyQuery, description: 'R-13/R-14: what a full-OS client may run and must run now' } }, async (req) => {
    const q = req.query as { computerId: string; utcOffset?: string; lastLogon?: string; lastLogoff?: string };
    const access = await clientAccess(ctx, req.principal);
    clientPolicyAllowed(ctx, access, q.computerId);
    const optional = (v: string | undefined, field: string) => (v === undefined ? null : intQuery(v, field, 0, 0, 8.64e15));
    return clientPolicy(
      ctx,
      {
        computerId: q.computerId,
        utcOffsetMinutes: q.utcOffset === undefined ? 0 : Number(q.utcOffset),
        lastLogon: optional(q.lastLogon, 'lastLogon'),
        lastLogoff: optional(q.lastLogoff, 'lastLogoff'),
      },
      access?.proven === true,
      siteAddress(),
      access !== null,
    );
  });
}
