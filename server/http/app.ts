/**
 * buildApp(deps) assembles the HTTP service and never listens: tests use `inject()`, main.ts
 * calls `listen`. Every /api/v1 route is authenticated (auth.ts) and documented in the
 * OpenAPI document at /api/v1/openapi.json.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { SiteContext } from '../site/context.js';
import { installAuth } from './auth.js';
import { installErrorHandler } from './errors.js';
import { registerApiRoutes } from './routes/api/index.js';
import { bootRoutes, type BootFiles } from './routes/boot.js';

export interface AppDeps {
  readonly ctx: SiteContext;
  readonly log: Logger;
  /** The site address clients are told to use. */
  readonly publicUrl: () => string;
  /** The boot-file store served at /boot/…. */
  readonly bootFiles: BootFiles;
  /** State of the boot roles for /healthz. */
  readonly roles?: () => readonly { role: string; state: string; detail: string }[];
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log.child({ svc: 'http' }) as FastifyBaseLogger,
    bodyLimit: 16 * 1024 * 1024,
    // Bad JSON, wrong types: reported, never coerced into something else.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
  });

  installErrorHandler(app);
  // CSV import bodies.
  app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'osdeploy API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  app.get('/healthz', { config: { public: true }, schema: { hide: true } }, async () => ({ status: 'ok', site: deps.ctx.siteCode, roles: deps.roles?.() ?? [] }));
  await bootRoutes(app, deps.ctx, deps.bootFiles, deps.publicUrl);
  app.get('/api/v1/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  await app.register(async (api) => {
    installAuth(api, deps.ctx);
    await registerApiRoutes(api, deps);
  }, { prefix: '/api/v1' });

  return app;
}
