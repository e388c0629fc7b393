/**
 * From what an administrator sends (POST/PATCH /api/v1/content) to a content/ record. Fields a
 * kind does not have are refused naming the field, so nothing sent is silently dropped; kind
 * defaults follow Configuration Manager (x64 images, Windows PE boot images, revision 1).
 */
import type { ContentObject, NewContent, Program } from '../../content/model.js';
import { bootFilesProblem } from '../../policy/boot-file-paths.js';
import type { Architecture, BootImageFiles, ContentKind } from '../../policy/content-refs.js';
import { CONTENT_KINDS } from '../../policy/content-refs.js';
import { invalid } from '../../policy/errors.js';
import { normalizeName } from '../../policy/normalize.js';

export interface ContentInput {
  readonly kind: ContentKind;
  readonly name: string;
  /** false retires the object (R-04 then names it with `unusableReason`); true clears that. */
  readonly usable?: boolean;
  readonly unusableReason?: string;
  readonly dependencies?: readonly string[];
  readonly allowRunFromDistributionPoint?: boolean;
  readonly architecture?: Architecture;
  readonly os?: 'winpe' | 'linux';
  readonly boot?: BootImageFiles;
  readonly programs?: readonly Program[];
  readonly revision?: number;
  readonly imageIndexCount?: number;
}

const ONLY: Partial<Record<keyof ContentInput, readonly ContentKind[]>> = {
  dependencies: ['application'],
  revision: ['application'],
  architecture: ['bootImage', 'osImage'],
  os: ['bootImage'],
  boot: ['bootImage'],
  programs: ['package'],
  imageIndexCount: ['osImage'],
  allowRunFromDistributionPoint: ['package', 'osImage', 'osUpgradePackage', 'driverPackage'],
};

/**
 * Builds the record for `id`. `base` is the stored object on a PATCH (its versions and source
 * stay). `lenient` is for migrating records of the metadata-only era: stray fields are dropped.
 */
export function toContent(id: string, input: ContentInput, base?: ContentObject, lenient = false): NewContent & { versions?: ContentObject['versions'] } {
  if (!CONTENT_KINDS.includes(input.kind)) throw invalid(`kind must be one of ${CONTENT_KINDS.join(', ')}`, 'kind');
  const kind = input.kind;
  if (!lenient) {
    for (const [field, kinds] of Object.entries(ONLY)) {
      if (input[field as keyof ContentInput] !== undefined && !kinds.includes(kind)) throw invalid(`${field} does not apply to a ${kind}`, field);
    }
    // Boot-file paths reach iPXE scripts, URLs and TFTP: refused when written (policy/boot-file-paths.ts).
    const bad = input.boot ? bootFilesProblem(input.boot) : null;
    if (bad) throw invalid(`boot.${bad.field} ${bad.reason}`, `boot.${bad.field}`);
  }
  const pick = <K extends keyof ContentInput>(field: K): ContentInput[K] | undefined => {
    const v = input[field];
    return v === undefined || (Array.isArray(v) && v.length === 0 && lenient) ? undefined : v;
  };
  const old = (base ?? {}) as Partial<Record<string, unknown>>;
  const keep = <T>(field: keyof ContentInput, fallback: T): T => (pick(field) ?? (old[field] as T | undefined) ?? fallback) as T;
  const retired = input.usable === false ? (input.unusableReason || (old.unusableReason as string | undefined) || 'retired by an administrator') : undefined;
  const unusableReason = input.usable === undefined ? (old.unusableReason as string | undefined) : retired;
  const common = {
    id,
    name: normalizeName(String(input.name ?? '')),
    sourcePath: base?.sourcePath ?? '',
    ...(base ? {} : { withoutSource: true }),
    ...(base?.withoutSource ? { withoutSource: true } : {}),
    ...(unusableReason ? { unusableReason } : {}),
  };
  const runFromDp = { allowRunFromDistributionPoint: keep('allowRunFromDistributionPoint', false) };
  switch (kind) {
    case 'package':
      return { ...common, kind, ...runFromDp, programs: keep<Program[]>('programs', []) };
    case 'bootImage': {
      const boot = keep<BootImageFiles | undefined>('boot', undefined);
      return { ...common, kind, os: keep('os', boot?.os ?? 'winpe'), architecture: keep('architecture', 'x64'), ...(boot ? { boot } : {}) };
    }
    case 'osImage': {
      const count = keep<number | undefined>('imageIndexCount', undefined);
      return { ...common, kind, ...runFromDp, architecture: keep('architecture', 'x64'), ...(count === undefined ? {} : { imageIndexCount: count }) };
    }
    case 'application':
      return { ...common, kind, dependencies: [...new Set(keep<string[]>('dependencies', []))], revision: keep('revision', 1) };
    case 'driverPackage':
    case 'osUpgradePackage':
      return { ...common, kind, ...runFromDp };
  }
}

/** Migration 2: a ContentInfo document of the metadata-only era becomes a ContentObject without source files. */
export function contentFromInfo(doc: Record<string, unknown>): ContentObject {
  const input = { ...doc, usable: doc.usable !== false } as unknown as ContentInput;
  return { ...toContent(String(doc.id), input, undefined, true), versions: [] } as ContentObject;
}
