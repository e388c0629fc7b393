/** Registers every /api/v1 resource. */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.js';
import { bootPolicyRoutes } from './boot-policy.js';
import { collectionRoutes } from './collections.js';
import { computerRoutes } from './computers.js';
import { deploymentRoutes } from './deployments.js';
import { siteRoutes } from './site.js';
import { statusRoutes } from './status.js';
import { taskSequenceRoutes } from './task-sequences.js';
import { tokenRoutes } from './tokens.js';

export async function registerApiRoutes(api: FastifyInstance, deps: AppDeps): Promise<void> {
  await computerRoutes(api, deps.ctx);
  await collectionRoutes(api, deps.ctx);
  await taskSequenceRoutes(api, deps.ctx);
  await deploymentRoutes(api, deps.ctx);
  await siteRoutes(api, deps.ctx);
  await tokenRoutes(api, deps.ctx);
  await bootPolicyRoutes(api, deps.ctx, deps.publicUrl);
  await statusRoutes(api, deps.ctx, deps.publicUrl);
}
