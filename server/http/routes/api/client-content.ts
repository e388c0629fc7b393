/**
 * GET /api/v1/client-content/:id/:version (client role): what the engine needs to fetch and use
 * a content version its policy names: the file list with hashes (the engine checks
 * it against the policy's manifest hash) and a package's programs (Install Package). Content
 * bytes are readable with any token already (/content/…), so its list is no secret.
 */
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { getContentObject, versionOf } from '../../../site/content.js';
import type { SiteContext } from '../../../site/context.js';
import { CLIENT_ROLES } from '../../auth.js';

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), version: Type.String({ pattern: '^[1-9][0-9]{0,8}$' }) });

export async function clientContentRoutes(api: FastifyInstance, ctx: SiteContext): Promise<void> {
  api.get('/client-content/:id/:version', { config: { roles: CLIENT_ROLES }, schema: { tags: ['boot'], params: Params } }, async (req) => {
    const p = req.params as { id: string; version: string };
    const object = await getContentObject(ctx, p.id);
    const v = versionOf(object, Number(p.version));
    return {
      id: object.id,
      kind: object.kind,
      version: v.version,
      manifestSha256: v.manifestSha256,
      files: v.files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size })),
      ...(object.kind === 'package' ? { programs: object.programs } : {}),
    };
  });
}
