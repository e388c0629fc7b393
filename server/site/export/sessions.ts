/**
 * Import sessions (R-28): a file read and checked once, its plan, the caller's chosen actions,
 * and — for an upload — the folder that holds the uploaded zip and its NAME_files. Sessions live
 * in memory for `ttlMs` (a restart forgets them: plan again); an upload folder is removed when
 * its session is discarded or expires, and kept after a commit that imported content from it,
 * because it became that content's package source.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, realpath, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { conflict, invalid, notFound } from '../../../policy/errors.js';
import type { SiteContext } from '../context.js';
import { hostileName } from './archive-read.js';
import { commitImport, type CommitResult } from './commit.js';
import { isFolder, missingFilesFolder } from './files.js';
import { receiveFilesTar } from './files-upload.js';
import { readImportFile, type ImportFile } from './import-file.js';
import { planImport, type Plan } from './plan.js';

export interface ImportSession {
  readonly id: string;
  readonly expiresAt: number;
  readonly file: ImportFile;
  /** The session's own folder (uploads); null for a file that was already on the server. */
  readonly dir: string | null;
  actions: Record<string, string>;
  plan: Plan;
  busy: boolean;
}

export interface SessionOptions {
  /** DATA_DIR/imports: uploads go to `uploads/<id>/`, server-side files are named relative to it. */
  readonly root: string;
  readonly ttlMs: number;
  /** An export .zip holds JSON only; a larger upload is not one. */
  readonly maxUploadBytes: number;
}

/** The site's data directory: openSite keeps the database at DATA_DIR/site.db. */
export const dataDirOf = (ctx: SiteContext): string => ctx.dataDir;

export class ImportSessions {
  readonly #sessions = new Map<string, ImportSession>();

  constructor(
    private readonly ctx: SiteContext,
    readonly opts: SessionOptions,
  ) {}

  /** Stores an uploaded zip as `<name>.zip` (so its content folder is `<name>_files`) and plans it. */
  async fromUpload(body: Readable, name = 'import'): Promise<ImportSession> {
    await this.sweep();
    const base = path.basename(name).replace(/\.zip$/i, '');
    if (!/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/.test(base)) throw invalid('name must be a file name of letters, digits, space, dot, dash or underscore', 'name');
    const id = randomBytes(12).toString('hex');
    const dir = path.join(this.opts.root, 'uploads', id);
    await mkdir(dir, { recursive: true });
    try {
      const zipPath = path.join(dir, `${base}.zip`);
      await pipeline(body, capped(this.opts.maxUploadBytes), createWriteStream(zipPath, { flags: 'wx' }));
      return await this.#open(id, await readImportFile(zipPath), dir);
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Plans a file already under DATA_DIR/imports; its NAME_files must sit beside it. */
  async fromPath(relative: string): Promise<ImportSession> {
    await this.sweep();
    const hostile = hostileName(relative);
    if (hostile || relative.trim() === '') throw invalid(`path ${JSON.stringify(relative)} must be a file relative to ${this.opts.root}${hostile ? `: it ${hostile}` : ''}`, 'path');
    await mkdir(this.opts.root, { recursive: true });
    const root = await realpath(this.opts.root);
    const real = await realpath(path.join(root, relative)).catch(() => null);
    if (!real || !(await stat(real)).isFile()) throw notFound(`no file ${relative} under ${root}`, 'path');
    if (!real.startsWith(`${root}${path.sep}`)) throw invalid(`path ${relative} leads outside ${root}`, 'path');
    const file = await readImportFile(real);
    if (file.filesDir && !(await isFolder(file.filesDir))) throw missingFilesFolder(file.filesDir, real);
    return this.#open(randomBytes(12).toString('hex'), file, null);
  }

  async #open(id: string, file: ImportFile, dir: string | null): Promise<ImportSession> {
    const plan = await planImport(this.ctx, this.ctx.store, file);
    const session: ImportSession = { id, expiresAt: this.ctx.now() + this.opts.ttlMs, file, dir, actions: {}, plan, busy: false };
    this.#sessions.set(id, session);
    return session;
  }

  get(id: string): ImportSession {
    const s = this.#sessions.get(id);
    if (!s || s.expiresAt <= this.ctx.now()) throw notFound(`no import plan ${id} (plans last ${Math.round(this.opts.ttlMs / 60000)} minutes and not across a restart); plan again`, 'planId');
    return s;
  }

  /** Replaces the chosen actions; the plan is made again so the caller sees the result. */
  async setActions(id: string, actions: Readonly<Record<string, string>>): Promise<ImportSession> {
    const s = this.get(id);
    s.plan = await planImport(this.ctx, this.ctx.store, s.file, actions);
    s.actions = { ...actions };
    return s;
  }

  async receiveFiles(id: string, body: Readable): Promise<{ files: number; bytes: number }> {
    const s = this.#claim(id);
    try {
      if (!s.dir || !s.file.filesDir) throw conflict(s.dir ? 'this export carries no content' : 'this plan reads its content folder on the server; there is nothing to upload', 'planId', 'R-28');
      const lists = new Map([...s.file.content].flatMap(([key, e]) => (e.version?.files?.length ? [[key, e.version.files] as const] : [])));
      return await receiveFilesTar(body, s.file.filesDir, lists);
    } finally {
      s.busy = false;
    }
  }

  async commit(id: string, actor: string, actions?: Readonly<Record<string, string>>): Promise<CommitResult> {
    const s = this.#claim(id);
    try {
      const chosen = actions ?? s.actions;
      // Against the plan the caller saw: an object that appeared or vanished since is a conflict.
      const result = await commitImport(this.ctx, actor, s.file, chosen, s.plan);
      this.#sessions.delete(id);
      if (s.dir) await (result.content.files > 0 ? rm(s.file.zipPath, { force: true }) : rm(s.dir, { recursive: true, force: true }));
      return result;
    } finally {
      s.busy = false;
    }
  }

  async discard(id: string): Promise<void> {
    const s = this.#claim(id);
    this.#sessions.delete(id);
    if (s.dir) await rm(s.dir, { recursive: true, force: true });
  }

  #claim(id: string): ImportSession {
    const s = this.get(id);
    if (s.busy) throw conflict(`import plan ${id} is busy (an upload or a commit is running)`, 'planId');
    s.busy = true;
    return s;
  }

  /** Forgets expired sessions and removes their upload folders. */
  async sweep(): Promise<void> {
    const now = this.ctx.now();
    for (const s of [...this.#sessions.values()]) {
      if (s.expiresAt > now || s.busy) continue;
      this.#sessions.delete(s.id);
      if (s.dir) await rm(s.dir, { recursive: true, force: true });
    }
  }
}

/** Fails the upload as soon as it passes `max` bytes, instead of filling the disk first. */
function capped(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) done(invalid(`the upload is larger than ${max} bytes; an export .zip holds only JSON (its content travels in NAME_files)`, 'body', 'R-32'));
      else done(null, chunk);
    },
  });
}
