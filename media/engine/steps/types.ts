/**
 * What a step implementation gets: the variables, the folders it acts on, content access and
 * a log; and helpers to read its properties with `%var%` expanded, as the engine does for
 * every text property.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { StepItem } from '../../../policy/task-sequences/model.js';
import type { ContentFetcher } from '../content/fetcher.js';
import type { ContentPolicy } from '../content/policy.js';
import type { Mounts } from '../mounts.js';
import type { StepOutcome } from '../runner.js';
import type { Variables } from '../variables.js';
import type { DiskBook } from './volumes.js';

export interface StepEnv {
  readonly vars: Variables;
  /** The folder the engine acts on as the target disk (`--root`). */
  readonly root: string;
  /** The engine's own folder (`--state`): progress, outbox, task sequence cache. */
  readonly stateDir: string;
  /** Task sequence cache: downloaded packages, one folder per content id. */
  readonly cacheDir: string;
  readonly content: ContentPolicy | null;
  readonly fetcher: ContentFetcher | null;
  /** Disk number → block device or disk image file, for Format and Partition Disk (`--disk N=PATH`). */
  readonly disks: ReadonlyMap<number, string>;
  /** The volumes formatted in this run; saved with the run's state. */
  readonly disk: DiskBook;
  /** What the engine mounted on the target; released before it exits. */
  readonly mounts: Mounts;
  /** The machine booted with UEFI (`--uefi`): which boot loader Apply Operating System Image installs. */
  readonly uefi: boolean;
  /** x64, x86 or arm64. */
  readonly arch: string;
  /** Lines for the engine log; the caller masks secrets. */
  readonly log: (line: string) => void;
  /** Where to look for programs (pwsh, sfdisk…); PATH by default. */
  readonly searchPath: string;
}

export type StepHandler = (step: StepItem, env: StepEnv) => Promise<StepOutcome>;

export const fail = (message: string, extra: { exitCode?: number; output?: string } = {}): StepOutcome => ({ ok: false, message, ...extra });
export const ok = (message: string, extra: { exitCode?: number; output?: string; restart?: boolean } = {}): StepOutcome => ({ ok: true, message, ...extra });

/** A text property with variables expanded; undefined when absent or blank. */
export function text(step: StepItem, env: StepEnv, name: string): string | undefined {
  const v = step.properties[name];
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  return env.vars.expand(v);
}

export function int(step: StepItem, name: string): number | undefined {
  const v = step.properties[name];
  return typeof v === 'number' ? v : undefined;
}

export function flag(step: StepItem, name: string, fallback: boolean): boolean {
  const v = step.properties[name];
  return typeof v === 'boolean' ? v : fallback;
}

export function list<T>(step: StepItem, name: string): readonly T[] {
  const v = step.properties[name];
  return Array.isArray(v) ? (v as readonly T[]) : [];
}

/** The first executable `tool` on the search path, or null. */
export function which(tool: string, searchPath: string): string | null {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** A path a step names, under the root unless absolute; `..` may not climb out of the root. */
export function underRoot(env: StepEnv, p: string): string {
  const resolved = path.resolve(env.root, p.replace(/^[A-Za-z]:[\\/]?/, '').replaceAll('\\', '/').replace(/^\/+/, ''));
  if (resolved !== env.root && !resolved.startsWith(env.root + path.sep)) throw new Error(`path ${JSON.stringify(p)} leaves the target root`);
  return resolved;
}
