/**
 * buildApp(deps) assembles the HTTP service and never listens: tests use `inject()`, main.ts
 * calls `listen`. Every /api/v1 route is authenticated (auth.ts) and documented in the
 * OpenAPI document at /api/v1/openapi.json.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { SiteContext } from '../site/context.js';
import { DistributionService } from '../site/distribution.js';
import { secretWarnings } from '../site/secret-warnings.js';
import { installAuth } from './auth.js';
import { installErrorHandler } from './errors.js';
import { registerApiRoutes } from './routes/api/index.js';
import { bootRoutes, type BootFiles } from './routes/boot.js';
import { contentRoutes } from './routes/content.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Distribution jobs of this service (tests wait on `distribution.runner.idle()`). */
    distribution: DistributionService;
  }
}

export interface AppDeps {
  readonly ctx: SiteContext;
  readonly log: Logger;
  /** The site address clients are told to use. */
  readonly publicUrl: () => string;
  /** The boot-file store served at /boot/…. */
  readonly bootFiles: BootFiles;
  /** State of the boot roles for /healthz. */
  readonly roles?: () => readonly { role: string; state: string; detail: string }[];
  /** Runs distribution jobs; made and started here (and closed with the app) unless given, then its maker starts it. */
  readonly distribution?: DistributionService;
  /** How the site reaches remote distribution points (tests may wrap it). */
  readonly fetch?: typeof fetch;
  /** Whether the site database is reachable, for /healthz (default: the store's kind, reachable). */
  readonly database?: () => DatabaseHealth;
}

/** The site database as /healthz reports it. */
export interface DatabaseHealth {
  readonly kind: 'sqlite' | 'postgres';
  /** False while a PostgreSQL node has lost its database: boots go on from the policy state, the API answers 503. */
  readonly reachable: boolean;
  /** Since when it is unreachable (epoch ms). */
  readonly since?: number;
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
  const distribution = deps.distribution ?? new DistributionService(deps.ctx, { publicUrl: deps.publicUrl, log: deps.log.child({ svc: 'distribution' }), ...(deps.fetch ? { fetch: deps.fetch } : {}) });
  app.decorate('distribution', distribution);
  // Transfers stop before the database closes: main.ts closes the app first.
  if (!deps.distribution) {
    app.addHook('onClose', async () => distribution.close());
    await distribution.start();
  }
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

  app.get('/healthz', { config: { public: true }, schema: { hide: true } }, async () => {
    // Public: how many, not which (an administrator reads them in GET /api/v1/settings).
    const secrets = secretWarnings(deps.ctx).length;
    const warnings = secrets ? [`${secrets} deployment(s) give secrets to PXE boots and no PXE password is set (R-18): those secrets are withheld; see GET /api/v1/settings`] : [];
    // The policy state boots are answered from (docs/scale.md): counts and build times only.
    const p = deps.ctx.snapshot.stats;
    const policy = { version: deps.ctx.snapshot.version, deltas: p.deltas, builds: p.builds, building: p.building, lastBuildMs: Math.round(p.lastBuildMs) };
    const database = deps.database?.() ?? { kind: deps.ctx.store.kind, reachable: true };
    if (!database.reachable) warnings.push('the site database is unreachable: boots are answered from the last policy state; writes are refused (503) until it is back');
    return { status: 'ok', site: deps.ctx.siteCode, roles: deps.roles?.() ?? [], policy, database, ...(warnings.length ? { warnings } : {}) };
  });
  await bootRoutes(app, deps.ctx, deps.bootFiles, deps.publicUrl);
  await contentRoutes(app, deps.ctx);
  app.get('/api/v1/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  await app.register(async (api) => {
    installAuth(api, deps.ctx);
    await registerApiRoutes(api, { ...deps, distribution });
  }, { prefix: '/api/v1' });

  return app;
}
