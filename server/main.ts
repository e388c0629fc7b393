/**
 * Composition root (DESIGN.md lesson 9): config → logger → stores → services; signals;
 * graceful shutdown. The only place that wires real clocks, sockets and the environment.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { publicUrlOf, type Config } from './config.js';
import { buildApp } from './http/app.js';
import { createLogger } from './logger.js';
import { ensureBuiltInCollections } from './site/collections.js';
import { ensureBuiltInComputers } from './site/computers.js';
import { SqliteSiteStore } from './store/sqlite/store.js';
import { statusWriterFor } from './store/sqlite/status-writer.js';
import { SnapshotCache, type SiteContext } from './site/context.js';
import { ensureAdminToken } from './site/tokens.js';
import { bootFileRoot, DEBIAN_IPXE_DIR, importDefaultBootFiles } from './site/boot-files.js';
import { advertiseAddressOf, startPxeRole, startTftpRole, type RoleStatus } from './network-roles.js';
import { policyDecider } from './pxe/decide.js';
import { RootedFileSource } from './tftp/file-source.js';
import { ContentBootSource } from './site/content-boot-source.js';
import type { Db } from './store/db.js';
import { openSiteDatabase } from './store/secrets/open.js';
import { protectDataDirs } from './site/private-files.js';
import { FsContentStore } from '../content/fs-store.js';
import { SqliteContentReads } from './store/library-records.js';
import { SiteLibraryRecords } from './site/library-records.js';
import { ensureLocalPoint } from './site/points.js';

/** The site's single-instance content store; the local distribution point serves from it. */
export const contentStoreRoot = (dataDir: string): string => path.join(dataDir, 'content', 'store');

export interface Service {
  readonly app: FastifyInstance;
  readonly ctx: SiteContext;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Opens the site's database and builds its policy state (in slices: the event loop keeps
 * running), with the built-in objects in place.
 */
export async function openSite(config: Config, log: Logger, now: () => number = Date.now): Promise<{ db: Db; ctx: SiteContext }> {
  // The data directory holds secrets (token hashes, step passwords, hidden variables): owner only.
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const dbFile = path.join(config.dataDir, 'site.db');
  // Secrets inside are encrypted with a key kept apart from it (docs/security.md, "Secrets at rest").
  const db = openSiteDatabase(dbFile, { dataDir: config.dataDir, secretKey: config.secretKey, secretKeyFile: config.secretKeyFile, log });
  for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
  protectDataDirs(config.dataDir);
  let store: FsContentStore;
  try {
    store = new FsContentStore(contentStoreRoot(config.dataDir));
  } catch (e) {
    db.close();
    throw e;
  }
  const library = { store, records: new SiteLibraryRecords(() => ctx.store.content, new SqliteContentReads(db, now), now) };
  const siteStore = new SqliteSiteStore(db);
  const ctx: SiteContext = { db, siteCode: config.siteCode, dataDir: path.resolve(config.dataDir), now, log, snapshot: new SnapshotCache(siteStore, config.siteCode, log), library, store: siteStore, statusWriter: statusWriterFor(db, dbFile, log) };
  try {
    await ensureBuiltInComputers(ctx);
    await ensureBuiltInCollections(ctx);
    await ensureLocalPoint(ctx);
    // The policy state is built in slices before anything answers (policy-state.ts).
    await ctx.snapshot.rebuild();
  } catch (e) {
    await ctx.statusWriter.close().catch(() => undefined);
    db.close();
    throw e;
  }
  return { db, ctx };
}

export async function startService(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Service> {
  const { db, ctx } = await openSite(config, log.child({ svc: 'site' }));
  const tokenFile = await ensureAdminToken(ctx, config.dataDir);
  if (tokenFile) log.info({ file: tokenFile }, `first start: an admin token was written to ${tokenFile} (mode 0600); use it as "Authorization: Bearer <token>"`);

  const imported = await importDefaultBootFiles(config.dataDir);
  if (imported.length) log.info({ files: imported.map((f) => f.name) }, `boot files imported from ${DEBIAN_IPXE_DIR} into ${bootFileRoot(config.dataDir)}`);
  // TFTP and /boot/… read boot files from the boot-file store and content from the content store.
  const bootFiles = new ContentBootSource(ctx, new RootedFileSource([bootFileRoot(config.dataDir)]));
  const advertise = advertiseAddressOf(config);

  let url = '';
  const roles: RoleStatus[] = [];
  const app = await buildApp({ ctx, log, publicUrl: () => url, bootFiles, roles: () => roles });
  await app.listen({ port: config.httpPort, host: config.bind });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  url = publicUrlOf(config, port, advertise);

  const tftp = await startTftpRole(config, bootFiles, log);
  roles.push(tftp.status);
  const pxe = await startPxeRole(
    config,
    {
      advertiseAddress: advertise,
      httpPort: port,
      settings: () => ctx.snapshot.get().settings.pxe,
      decide: policyDecider({ site: () => ctx.snapshot.get(), now: ctx.now }),
    },
    log,
  );
  roles.push(pxe.status);
  log.info({ url, dataDir: config.dataDir, site: config.siteCode, roles }, `osdeploy serving on ${url}`);

  let closed = false;
  return {
    app,
    ctx,
    url,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await tftp.service?.close();
      await pxe.service?.close();
      await ctx.statusWriter.close();
      db.close();
      log.info('osdeploy stopped');
    },
  };
}

/** SIGINT/SIGTERM: stop taking requests, finish the ones in flight, close the database. */
export function handleSignals(service: Service, log: Logger): void {
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    service.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
