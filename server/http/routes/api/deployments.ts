/** /api/v1/deployments (R-09… verdicts, R-19 clear). */
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { deploymentSecretWarning } from '../../../site/secret-warnings.js';
import type { SiteContext } from '../../../site/context.js';
import { clearRequiredPxe, deleteDeployment, deploy, getDeployment, listDeployments } from '../../../site/deployments.js';
import { actorOf, MEDIA_ROLES } from '../../auth.js';
import { IdParams, PageQuery, pageOf } from './common.js';

const ScheduleTime = Type.Object({ at: Type.String({ maxLength: 32 }), utc: Type.Boolean() }, { additionalProperties: false });
const DeployBody = Type.Object(
  {
    taskSequenceId: Type.String({ minLength: 1, maxLength: 64 }),
    collectionId: Type.String({ minLength: 1, maxLength: 64 }),
    comments: Type.Optional(Type.String({ maxLength: 4096 })),
    purpose: Type.Optional(Type.Union([Type.Literal('available'), Type.Literal('required')])),
    availability: Type.Optional(Type.Union([Type.Literal('clients'), Type.Literal('clientsMediaPxe'), Type.Literal('mediaPxe'), Type.Literal('mediaPxeHidden')])),
    sendWakeUpPackets: Type.Optional(Type.Boolean()),
    allowMeteredDownload: Type.Optional(Type.Boolean()),
    availableFrom: Type.Optional(Type.Union([ScheduleTime, Type.Null()])),
    expiresAt: Type.Optional(Type.Union([ScheduleTime, Type.Null()])),
    // Assignment schedules are checked field by field in policy/schedules.ts.
    assignments: Type.Optional(Type.Array(Type.Object({ kind: Type.String() }, { additionalProperties: true }), { maxItems: 50 })),
    rerun: Type.Optional(Type.Union([Type.Literal('never'), Type.Literal('always'), Type.Literal('ifFailed'), Type.Literal('ifSucceeded')])),
    userExperience: Type.Optional(Type.Object({}, { additionalProperties: true })),
    alerts: Type.Optional(Type.Object({}, { additionalProperties: true })),
    content: Type.Optional(Type.Object({}, { additionalProperties: true })),
    allowTechnicianMedia: Type.Optional(Type.Boolean({ description: 'R-31: technicians may build standalone and prestaged media that carry this deployment’s secrets (sealed by a media password); default false: only administrators build those' })),
    acknowledgeHighRisk: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export async function deploymentRoutes(api: FastifyInstance, ctx: SiteContext): Promise<void> {
  const tags = ['deployments'];
  // Technicians read deployments to build media for them; all else is admin only.
  const read = { roles: MEDIA_ROLES };
  api.post('/deployments', { schema: { tags, body: DeployBody, description: 'Creates a deployment; a warned high-risk one needs acknowledgeHighRisk: true (R-10)' } }, async (req, reply) => {
    const decision = await deploy(ctx, actorOf(req), req.body as Record<string, unknown>);
    switch (decision.kind) {
      case 'created':
      {
        const warning = deploymentSecretWarning(ctx, decision.deployment);
        return reply.status(201).send({ ...decision.deployment, highRiskVerdict: decision.deployment.highRisk?.verdict ?? 'notHighRisk', ...(warning ? { warnings: [warning] } : {}) });
      }
      case 'needsAcknowledgement':
        return reply.status(409).send({
          error: 'needs-acknowledgement',
          rule: 'R-10',
          message: `high-risk deployment: ${decision.reasons.join('; ')}. Create it again with "acknowledgeHighRisk": true to agree; an audit message is written.`,
          reasons: decision.reasons,
        });
      case 'refused':
        return reply.status(422).send({ error: 'refused', rule: decision.rule, message: decision.reasons.join('; '), reasons: decision.reasons });
    }
  });
  api.get(
    '/deployments',
    { config: read, schema: { tags, querystring: Type.Object({ ...PageQuery, collectionId: Type.Optional(Type.String({ maxLength: 64 })), taskSequenceId: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }) } },
    async (req) => listDeployments(ctx, { ...(req.query as object), ...pageOf(req.query as object) }),
  );
  api.get('/deployments/:id', { config: read, schema: { tags, params: IdParams } }, async (req) => getDeployment(ctx, (req.params as IdParams).id));
  api.delete('/deployments/:id', { schema: { tags, params: IdParams } }, async (req, reply) => {
    await deleteDeployment(ctx, actorOf(req), (req.params as IdParams).id);
    return reply.status(204).send();
  });
  api.post('/computers/:id/clear-required-pxe', { schema: { tags, params: IdParams, description: 'R-19: clear Required PXE deployments for one computer' } }, async (req) => ({
    cleared: await clearRequiredPxe(ctx, actorOf(req), { computerId: (req.params as IdParams).id }),
  }));
}
