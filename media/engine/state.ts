/**
 * What the engine keeps on disk to survive a restart: which run, how far it got, and a
 * vault with the policy and variables it runs with. The vault holds secrets (step passwords,
 * hidden variables), so it is encrypted (AES-256-GCM) with a key derived from the client token,
 * which is given again on every start and never written: the state folder alone reveals no
 * secret. Writes are atomic (temporary file, fsync, rename) so a power cut leaves the old or
 * the new state, never half of one.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Item } from '../../policy/task-sequences/model.js';
import type { RunSource } from '../../policy/status.js';
import type { ContentPolicy } from './content/policy.js';
import type { RunProgress } from './runner.js';
import type { DiskBook } from './steps/volumes.js';
import type { VariableEntry } from './variables.js';

export interface Vault {
  readonly taskSequence: { readonly id: string; readonly name: string; readonly items: readonly Item[] };
  readonly variables: readonly VariableEntry[];
  readonly content: ContentPolicy | null;
}

export interface RunState {
  readonly version: 1;
  readonly runId: string;
  readonly deploymentId: string;
  /** Null for a run from standalone media: the machine is registered when its status reaches a site (outbox.ts). */
  readonly computerId: string | null;
  readonly source: RunSource;
  /** running: under way (or interrupted); restarting: a restart step asked to come back; finished: done. */
  status: 'running' | 'restarting' | 'finished';
  outcome: 'success' | 'failed' | null;
  readonly startedAt: number;
  progress: RunProgress;
  /** Volumes Format and Partition Disk made in this run, and which an Apply step used (volumes.ts). */
  disk?: DiskBook;
  /** Steps started so far (a step run again after a crash counts once): the progress index. */
  stepsRun?: number;
}

interface StoredState extends RunState {
  readonly vault: { readonly iv: string; readonly tag: string; readonly data: string } | null;
}

export class StateError extends Error {}

const FILE = 'run.json';

function keyFor(token: string, runId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(token, 'utf8'), Buffer.from(runId, 'utf8'), Buffer.from('osdeploy-engine-vault'), 32));
}

function seal(vault: Vault, token: string, runId: string): StoredState['vault'] {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', keyFor(token, runId), iv);
  const data = Buffer.concat([c.update(JSON.stringify(vault), 'utf8'), c.final()]);
  return { iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') };
}

function open(sealed: NonNullable<StoredState['vault']>, token: string, runId: string): Vault {
  try {
    const d = createDecipheriv('aes-256-gcm', keyFor(token, runId), Buffer.from(sealed.iv, 'base64'));
    d.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    const text = Buffer.concat([d.update(Buffer.from(sealed.data, 'base64')), d.final()]).toString('utf8');
    return JSON.parse(text) as Vault;
  } catch {
    throw new StateError('the saved run cannot be opened with this token (was the engine started with another --token?)');
  }
}

/** Writes `text` to `file` so that a crash leaves either the old or the new content. */
export function atomicWrite(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    const dir = openSync(path.dirname(file), 'r');
    fsyncSync(dir);
    closeSync(dir);
  } catch {
    // Some filesystems cannot fsync a directory; the rename is still atomic.
  }
}

export class StateStore {
  constructor(
    readonly dir: string,
    private readonly token: string,
  ) {}

  /** A store in another folder sealed with the same token: the deployed OS's, for a run that goes on there. */
  at(dir: string): StateStore {
    return new StateStore(dir, this.token);
  }

  get file(): string {
    return path.join(this.dir, FILE);
  }

  load(): { state: RunState; vault: Vault | null } | null {
    if (!existsSync(this.file)) return null;
    let stored: StoredState;
    try {
      stored = JSON.parse(readFileSync(this.file, 'utf8')) as StoredState;
    } catch (e) {
      throw new StateError(`${this.file} is damaged (${(e as Error).message}); move it away to start over`);
    }
    if (stored.version !== 1) throw new StateError(`${this.file} has state version ${String(stored.version)}, which this engine does not know`);
    const { vault, ...state } = stored;
    return { state, vault: vault ? open(vault, this.token, state.runId) : null };
  }

  save(state: RunState, vault: Vault | null): void {
    const stored: StoredState = { ...state, vault: vault ? seal(vault, this.token, state.runId) : null };
    atomicWrite(this.file, `${JSON.stringify(stored, null, 1)}\n`);
  }

  /** A finished run keeps its summary under runs/ (without the vault) and frees run.json. */
  archive(state: RunState): void {
    atomicWrite(path.join(this.dir, 'runs', `${state.runId}.json`), `${JSON.stringify({ ...state, vault: null }, null, 1)}\n`);
    rmSync(this.file, { force: true });
  }
}
