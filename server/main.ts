/**
 * Composition root (DESIGN.md lesson 9): config → logger → stores → services; signals;
 * graceful shutdown. The only place that wires real clocks, sockets and the environment.
 */
import { randomUUID } from 'node:crypto';
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
import { redact, storeTargetOf } from './store/open-store.js';
import { ChangeListener } from './store/postgres/listen.js';
import { openPgSite } from './store/postgres/open.js';
import { PgSiteStore } from './store/postgres/store.js';
import type { SiteStore } from './site/repos/store.js';
import type { StatusWriter } from './site/repos/status.js';
import { StoreStatusWriter } from './site/status-writer.js';
import type { DatabaseHealth } from './http/app.js';
import { openSiteDatabase } from './store/secrets/open.js';
import { protectDataDirs } from './site/private-files.js';
import { FsContentStore } from '../content/fs-store.js';
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

/** An open site: its context, and (on SQLite) the database handle tests and offline tools read. */
export interface OpenedSite {
  readonly ctx: SiteContext;
  /** The SQLite connection; null on PostgreSQL. */
  readonly db: Db | null;
  /** On PostgreSQL: the connection that hears other nodes' changes (null on SQLite). */
  readonly changes: ChangeListener | null;
  close(): Promise<void>;
}

/**
 * Opens the site's database (DATA_DIR/site.db, or where `databaseUrl` says: a SQLite file or a
 * PostgreSQL server, docs/database.md), checks the secret key, puts the built-in objects in
 * place and builds the policy state (in slices: the event loop keeps running).
 */
export async function openSite(config: Config, log: Logger, now: () => number = Date.now): Promise<OpenedSite> {
  // The data directory holds secrets (token hashes, step passwords, hidden variables): owner only.
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const target = config.databaseUrl ? storeTargetOf(config.databaseUrl) : ({ kind: 'sqlite', file: path.join(config.dataDir, 'site.db') } as const);
  const keys = { dataDir: config.dataDir, secretKey: config.secretKey, secretKeyFile: config.secretKeyFile, log };
  let store: SiteStore;
  let db: Db | null = null;
  let statusWriter: StatusWriter;
  if (target.kind === 'postgres') {
    const pg = await openPgSite(target.url, keys);
    store = pg;
    statusWriter = new StoreStatusWriter(pg);
    log.info({ database: redact(target.url) }, 'site database: PostgreSQL');
  } else {
    // Secrets inside are encrypted with a key kept apart from it (docs/security.md, "Secrets at rest").
    db = openSiteDatabase(target.file, keys);
    for (const f of [target.file, `${target.file}-wal`, `${target.file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
    store = new SqliteSiteStore(db, { ownsDb: true });
    statusWriter = statusWriterFor(db, target.file, log);
  }
  let changes: ChangeListener | null = null;
  const close = async (): Promise<void> => {
    await changes?.close();
    await statusWriter.close().catch(() => undefined);
    await store.close();
  };
  try {
    protectDataDirs(config.dataDir);
    const blobs = new FsContentStore(contentStoreRoot(config.dataDir));
    const library = { store: blobs, records: new SiteLibraryRecords(() => store.content, now) };
    const snapshot = new SnapshotCache(store, config.siteCode, log);
    // The node id: PostgreSQL's store names itself in change notices; on SQLite one per process.
    const node = store instanceof PgSiteStore ? store.node : randomUUID();
    const ctx: SiteContext = { siteCode: config.siteCode, dataDir: path.resolve(config.dataDir), now, node, log, snapshot, library, store, statusWriter };
    if (store instanceof PgSiteStore && target.kind === 'postgres') {
      // Other nodes' writes arrive as deltas; a gap (a lost connection) means a rebuild.
      changes = new ChangeListener(target.url, store.node, {
        changes: (c) => snapshot.apply(c),
        resync: (why) => {
          log.info({ why }, 'reading the policy state again');
          snapshot.invalidate();
        },
      }, log);
      await changes.start();
    }
    await ensureBuiltInComputers(ctx);
    await ensureBuiltInCollections(ctx);
    await ensureLocalPoint(ctx);
    // The policy state is built in slices before anything answers (policy-state.ts).
    await snapshot.rebuild();
    return { ctx, db, changes, close };
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
}

export async function startService(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Service> {
  const site = await openSite(config, log.child({ svc: 'site' }));
  const { ctx } = site;
  const tokenFile = await ensureAdminToken(ctx, config.dataDir);
  if (tokenFile) log.info({ file: tokenFile }, `first start: an admin token was written to ${tokenFile} (mode 0600); use it as "Authorization: Bearer <token>"`);

  const imported = await importDefaultBootFiles(config.dataDir);
  if (imported.length) log.info({ files: imported.map((f) => f.name) }, `boot files imported from ${DEBIAN_IPXE_DIR} into ${bootFileRoot(config.dataDir)}`);
  // TFTP and /boot/… read boot files from the boot-file store and content from the content store.
  const bootFiles = new ContentBootSource(ctx, new RootedFileSource([bootFileRoot(config.dataDir)]));
  const advertise = advertiseAddressOf(config);

  let url = '';
  const roles: RoleStatus[] = [];
  const database = (): DatabaseHealth => ({ kind: ctx.store.kind, reachable: site.changes ? site.changes.connected : true, ...(site.changes?.lostAt ? { since: site.changes.lostAt } : {}) });
  const app = await buildApp({ ctx, log, publicUrl: () => url, bootFiles, roles: () => roles, database });
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
      await site.close();
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
