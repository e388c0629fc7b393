/** Registers every /api/v1 resource. */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.js';
import { bootImageRoutes } from './boot-images.js';
import { bootPolicyRoutes } from './boot-policy.js';
import { clientContentRoutes } from './client-content.js';
import { collectionRoutes } from './collections.js';
import { computerRoutes } from './computers.js';
import { contentRoutes } from './content.js';
import { distributionRoutes } from './distribution.js';
import { pointRoutes } from './point.js';
import type { DistributionService } from '../../../site/distribution.js';
import { deploymentRoutes } from './deployments.js';
import { exportRoutes } from './export.js';
import { mediaRoutes } from './media.js';
import { siteRoutes } from './site.js';
import { statusRoutes } from './status.js';
import { taskSequenceRoutes } from './task-sequences.js';
import { tokenRoutes } from './tokens.js';

export async function registerApiRoutes(api: FastifyInstance, deps: AppDeps & { distribution: DistributionService }): Promise<void> {
  await computerRoutes(api, deps.ctx);
  await collectionRoutes(api, deps.ctx);
  await taskSequenceRoutes(api, deps.ctx);
  await exportRoutes(api, deps.ctx);
  await deploymentRoutes(api, deps.ctx);
  await siteRoutes(api, deps.ctx);
  await contentRoutes(api, deps.ctx, deps.publicUrl);
  await distributionRoutes(api, { ctx: deps.ctx, distribution: deps.distribution, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
  await pointRoutes(api, deps.ctx);
  await tokenRoutes(api, deps.ctx);
  await bootPolicyRoutes(api, deps.ctx, deps.publicUrl);
  await mediaRoutes(api, deps.ctx, deps.publicUrl);
  await bootImageRoutes(api, deps.ctx);
  await statusRoutes(api, deps.ctx, deps.publicUrl);
  await clientContentRoutes(api, deps.ctx);
}
