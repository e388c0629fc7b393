/**
 * Content objects and their versions. A version is an immutable list of files, each
 * naming its bytes by sha256 in the store; the manifest hash identifies the whole list, so
 * "unchanged re-import" and "point already holds this version" are one comparison.
 */
import { createHash } from 'node:crypto';
import { bootFilesProblem } from '../policy/boot-file-paths.js';
import type { Architecture, BootImageFiles, ContentInfo, ContentKind } from '../policy/content-refs.js';
import { ContentError } from './errors.js';
import { comparePaths } from './paths.js';

export interface VersionFile {
  /** Relative, '/' separated, normalised (content/paths.ts). */
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

export interface ContentVersion {
  readonly version: number;
  /** ISO 8601 UTC; the caller passes the clock in. */
  readonly createdAt: string;
  /** Sorted by path (code-unit order). */
  readonly files: readonly VersionFile[];
  readonly totalSize: number;
  readonly manifestSha256: string;
}

export interface Program {
  readonly name: string;
  readonly commandLine: string;
}

interface Base {
  readonly id: string;
  readonly name: string;
  /** The folder the last import read (R-28: imported content's source becomes the import path). */
  readonly sourcePath: string;
  /** Oldest first; the last one is current. */
  readonly versions: readonly ContentVersion[];
  /**
   * "This package does not contain source files" (Configuration Manager's wording): a record
   * with nothing to import or distribute, usable without a version. Cleared by the first import.
   */
  readonly withoutSource?: boolean;
  /** Set by an administrator to retire the object; references to it then fail. */
  readonly unusableReason?: string;
  /** Data Access: may run from the distribution point; packages, OS images, driver and upgrade packages. */
  readonly allowRunFromDistributionPoint?: boolean;
}

export type PackageContent = Base & {
  readonly kind: 'package';
  readonly programs: readonly Program[];
  readonly allowRunFromDistributionPoint: boolean;
};
export type BootImageContent = Base & {
  readonly kind: 'bootImage';
  readonly os: 'winpe' | 'linux';
  readonly architecture: Architecture;
  /** How it starts (kernel + initrd, or wimboot + BCD + boot.sdi + boot.wim), over the network and from boot media; without it the image cannot be booted, and media builds refuse it. */
  readonly boot?: BootImageFiles;
};
export type OsImageContent = Base & { readonly kind: 'osImage'; readonly architecture: Architecture; readonly imageIndexCount?: number };
export type ApplicationContent = Base & {
  readonly kind: 'application';
  readonly dependencies: readonly string[];
  readonly revision: number;
};
export type DriverPackageContent = Base & { readonly kind: 'driverPackage' };
export type OsUpgradePackageContent = Base & { readonly kind: 'osUpgradePackage' };

export type ContentObject =
  | PackageContent
  | BootImageContent
  | OsImageContent
  | ApplicationContent
  | DriverPackageContent
  | OsUpgradePackageContent;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** What a caller gives to create a content object: everything but versions, which imports make. */
export type NewContent = DistributiveOmit<ContentObject, 'versions'>;

// Compile-time check that the union covers every kind policy knows about.
const _allKinds: Record<ContentKind, ContentObject['kind']> = {
  bootImage: 'bootImage',
  osImage: 'osImage',
  osUpgradePackage: 'osUpgradePackage',
  driverPackage: 'driverPackage',
  package: 'package',
  application: 'application',
};

/**
 * The canonical manifest: JSON of the path-sorted file list with keys in sorted order
 * (path, sha256, size), no whitespace; the same bytes as RFC 8785 for these values.
 */
export function manifestOf(files: readonly VersionFile[]): { files: VersionFile[]; json: string; sha256: string } {
  const sorted = files.map(({ path, sha256, size }) => ({ path, sha256, size })).sort((a, b) => comparePaths(a.path, b.path));
  const json = JSON.stringify(sorted);
  return { files: sorted, json, sha256: createHash('sha256').update(json).digest('hex') };
}

export const currentVersion = (o: ContentObject): ContentVersion | undefined => o.versions[o.versions.length - 1];

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ARCHES: readonly string[] = ['x86', 'x64', 'arm64'];

/** Shape rules a content object must keep; refuses with `invalid` naming the field. */
export function validateContent(o: NewContent): void {
  const bad = (m: string): never => {
    throw new ContentError('invalid', `content ${JSON.stringify(o.id)}: ${m}`);
  };
  if (typeof o.id !== 'string' || !ID.test(o.id)) bad('id must be 1-64 letters, digits, dot, dash or underscore');
  if (typeof o.name !== 'string' || o.name.trim() === '') bad('name is required');
  switch (o.kind) {
    case 'package':
      for (const p of o.programs) if (!p.name || !p.commandLine) bad('every program needs a name and a command line');
      break;
    case 'bootImage':
      if (!ARCHES.includes(o.architecture)) bad(`unknown architecture ${String(o.architecture)}`);
      if (o.os !== 'winpe' && o.os !== 'linux') bad(`os must be winpe or linux, got ${String(o.os)}`);
      if (o.boot && o.os !== o.boot.os) bad(`os ${o.os} disagrees with its boot files (${o.boot.os})`);
      if (o.boot) {
        const problem = bootFilesProblem(o.boot);
        if (problem) bad(`boot.${problem.field} ${problem.reason}`);
      }
      break;
    case 'osImage':
      if (!ARCHES.includes(o.architecture)) bad(`unknown architecture ${String(o.architecture)}`);
      if (o.imageIndexCount !== undefined && !(Number.isSafeInteger(o.imageIndexCount) && o.imageIndexCount > 0)) {
        bad('imageIndexCount must be a positive integer');
      }
      break;
    case 'application':
      if (o.dependencies.includes(o.id)) bad('an application cannot depend on itself');
      if (!(Number.isSafeInteger(o.revision) && o.revision >= 1)) bad('revision must be a positive integer');
      break;
    case 'driverPackage':
    case 'osUpgradePackage':
      break;
    default:
      bad(`unknown kind ${String((o as { kind: unknown }).kind)}`);
  }
}

export const NO_VERSION_REASON = 'no content version; import its source';

/**
 * The read-only facts policy checks references against: usable once a version exists,
 * or when the object has no source files at all, unless an administrator retired it.
 */
export function contentInfoOf(o: ContentObject): ContentInfo {
  const reason = o.unusableReason ?? (o.versions.length > 0 || o.withoutSource ? undefined : NO_VERSION_REASON);
  const base = { kind: o.kind, id: o.id, name: o.name, usable: reason === undefined, ...(reason === undefined ? {} : { unusableReason: reason }) };
  const runFromDp = o.allowRunFromDistributionPoint === undefined ? {} : { allowRunFromDistributionPoint: o.allowRunFromDistributionPoint };
  switch (o.kind) {
    case 'bootImage':
      return { ...base, architecture: o.architecture, ...(o.boot ? { boot: o.boot } : {}) };
    case 'osImage':
      return { ...base, ...runFromDp, architecture: o.architecture };
    case 'application':
      return { ...base, dependencies: o.dependencies };
    default:
      return { ...base, ...runFromDp };
  }
}
