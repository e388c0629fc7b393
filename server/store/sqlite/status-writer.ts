/**
 * Status messages are stored off the event loop that answers boots: a worker thread with its own
 * connection to the site database writes each batch in one transaction (with its fsync), and the
 * R-19 records the batch starts in that same transaction. The main thread only checks the batch
 * against its in-memory policy state and awaits the commit, so an imaging day's status traffic
 * never holds a DHCP answer (bench/imaging-day.ts).
 *
 * The worker runs plain JavaScript given as source (no TypeScript loader in the worker, the same
 * in tests, `npm start` and the bundle). A database in memory, or a worker that cannot start,
 * writes on the calling thread instead, with the same transaction.
 */
import { createRequire } from 'node:module';
import { threadId, Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { StatusRow, StatusWriteResult, StatusWriter } from '../../site/repos/status.js';
import type { Db } from '../db.js';

export type { StatusRow, StatusWriteResult, StatusWriter } from '../../site/repos/status.js';

const INSERT_MESSAGE = 'INSERT INTO status_messages (id, at, computer_id, deployment_id, kind, doc) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING';
const INSERT_PXE_START = 'INSERT INTO required_pxe_starts (computer_id, deployment_id, started_at) VALUES (?, ?, ?) ON CONFLICT (computer_id, deployment_id) DO NOTHING';

/**
 * One batch in one transaction, as JavaScript source: the worker runs it, and so does the calling
 * thread when there is no worker (one text, so the two can never differ).
 */
const BATCH_BODY = `
  const insert = db.prepare(${JSON.stringify(INSERT_MESSAGE)});
  const start = db.prepare(${JSON.stringify(INSERT_PXE_START)});
  return db.transaction(() => {
    const inserted = [];
    const pxeStartsAdded = [];
    for (const r of rows) {
      const isNew = insert.run(r.id, r.at, r.computerId, r.deploymentId, r.kind, r.doc).changes > 0;
      inserted.push(isNew);
      if (isNew && r.requiredPxeStart && start.run(r.computerId, r.deploymentId, now).changes > 0)
        pxeStartsAdded.push({ computerId: r.computerId, deploymentId: r.deploymentId });
    }
    return { inserted, pxeStartsAdded, thread };
  })();
`;
const writeBatch = new Function('db', 'rows', 'now', 'thread', BATCH_BODY) as (db: Db, rows: readonly StatusRow[], now: number, thread: number) => StatusWriteResult;

const WORKER_SOURCE = `
const { parentPort, workerData, threadId } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
function writeBatch(db, rows, now, thread) {${BATCH_BODY}}
parentPort.on('message', (m) => {
  if (m.close) { db.close(); parentPort.close(); return; }
  try {
    parentPort.postMessage({ n: m.n, result: writeBatch(db, m.rows, m.now, threadId) });
  } catch (e) {
    parentPort.postMessage({ n: m.n, error: String((e && e.message) || e) });
  }
});
`;


/** Writes on the calling thread (a database in memory, or no worker). */
export class InlineStatusWriter implements StatusWriter {
  constructor(private readonly db: Db) {}
  write(rows: readonly StatusRow[], now: number): Promise<StatusWriteResult> {
    try {
      return Promise.resolve(writeBatch(this.db, rows, now, threadId));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The worker thread, started on the first batch (a CLI command that posts nothing starts none). */
export class WorkerStatusWriter implements StatusWriter {
  private worker: Worker | null = null;
  private failed = false;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (r: StatusWriteResult) => void; reject: (e: Error) => void }>();
  private readonly inline: InlineStatusWriter;

  constructor(
    db: Db,
    private readonly file: string,
    private readonly log?: Logger,
  ) {
    this.inline = new InlineStatusWriter(db);
  }

  private start(): Worker | null {
    if (this.worker || this.failed) return this.worker;
    try {
      const driver = createRequire(import.meta.url).resolve('better-sqlite3');
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file: this.file, driver }, execArgv: [] });
      worker.unref();
      worker.on('message', (m: { n: number; result?: StatusWriteResult; error?: string }) => {
        const w = this.waiting.get(m.n);
        this.waiting.delete(m.n);
        if (m.error !== undefined) w?.reject(new Error(m.error));
        else w?.resolve(m.result!);
      });
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (this.worker === worker) this.fail(new Error(`the status writer stopped (exit ${code})`));
      });
      this.worker = worker;
    } catch (err) {
      this.fail(err as Error);
    }
    return this.worker;
  }

  /** A worker that failed: what it was given is refused (the engine resends), later batches go inline. */
  private fail(err: Error): void {
    this.log?.error({ err }, 'status writer thread failed; status messages are written on the main thread from now on');
    this.failed = true;
    this.worker = null;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  write(rows: readonly StatusRow[], now: number): Promise<StatusWriteResult> {
    const worker = this.start();
    if (!worker) return this.inline.write(rows, now);
    const n = ++this.next;
    return new Promise<StatusWriteResult>((resolve, reject) => {
      this.waiting.set(n, { resolve, reject });
      // A pending write keeps the process alive until it commits.
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage({ n, rows, now });
    }).finally(() => {
      if (this.waiting.size === 0) this.worker?.unref();
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.failed = true;
    if (!worker) return;
    // Held while it closes its connection (an idle worker does not keep the process alive).
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ close: true });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer);
    await worker.terminate();
  }
}

export function statusWriterFor(db: Db, file: string, log?: Logger): StatusWriter {
  return file === ':memory:' || file === '' ? new InlineStatusWriter(db) : new WorkerStatusWriter(db, file, log);
}
