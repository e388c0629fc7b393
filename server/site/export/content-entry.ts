/**
 * A content object as an export file carries it: its metadata, the source folder it had
 * (for the reader's information: an import ignores it, see recordOf), and the exported version — the file list with every sha256 when content was exported, only
 * the manifest hash otherwise. Fields are picked one by one, so nothing the record gains later
 * leaves the site without a decision; parsing refuses anything the schema does not know.
 */
import { Type, type Static } from 'typebox';
import { currentVersion, manifestOf, validateContent, type ContentObject, type ContentVersion, type NewContent } from '../../../content/model.js';
import { normaliseContentPath } from '../../../content/paths.js';
import { invalid, PolicyError } from '../../../policy/errors.js';
import { toContent, type ContentInput } from '../content-input.js';
import { Kind, KEY_PATTERN, schemaError } from './manifest.js';

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Path = Type.String({ minLength: 1, maxLength: 1024 });
const Id = Type.String({ pattern: KEY_PATTERN.source });
export const MAX_FILES = 100_000;

const FileSchema = Type.Object({ path: Path, sha256: Sha256, size: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }) }, { additionalProperties: false });
const Boot = Type.Union([
  Type.Object({ os: Type.Literal('winpe'), wim: Path, bcd: Type.Optional(Path), bootSdi: Type.Optional(Path) }, { additionalProperties: false }),
  Type.Object({ os: Type.Literal('linux'), kernel: Path, initrds: Type.Array(Path, { maxItems: 16 }), cmdline: Type.String({ maxLength: 4096 }) }, { additionalProperties: false }),
]);

const EntrySchema = Type.Object(
  {
    kind: Kind,
    name: Type.String({ minLength: 1, maxLength: 256 }),
    sourcePath: Type.String({ maxLength: 4096 }),
    withoutSource: Type.Optional(Type.Boolean()),
    unusableReason: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    allowRunFromDistributionPoint: Type.Optional(Type.Boolean()),
    programs: Type.Optional(Type.Array(Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), commandLine: Type.String({ minLength: 1, maxLength: 8192 }) }, { additionalProperties: false }), { maxItems: 64 })),
    os: Type.Optional(Type.Union([Type.Literal('winpe'), Type.Literal('linux')])),
    architecture: Type.Optional(Type.Union([Type.Literal('x86'), Type.Literal('x64'), Type.Literal('arm64')])),
    boot: Type.Optional(Boot),
    imageIndexCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    dependencies: Type.Optional(Type.Array(Id, { maxItems: 1000 })),
    revision: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    version: Type.Union([
      Type.Null(),
      Type.Object(
        {
          /** The version number at the exporting site: what to download there; never reused here. */
          number: Type.Integer({ minimum: 1 }),
          manifestSha256: Sha256,
          totalSize: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
          fileCount: Type.Integer({ minimum: 0, maximum: MAX_FILES }),
          files: Type.Optional(Type.Array(FileSchema, { maxItems: MAX_FILES })),
        },
        { additionalProperties: false },
      ),
    ]),
  },
  { additionalProperties: false },
);

export type ContentEntry = Static<typeof EntrySchema>;
export type ExportedVersion = NonNullable<ContentEntry['version']>;

/** The entry for `o`; `withFiles` adds the current version's file list (content is exported). */
export function contentEntryOf(o: ContentObject, withFiles: boolean): ContentEntry {
  const v = currentVersion(o);
  const any = o as unknown as Partial<Record<string, unknown>>;
  const pick = <K extends keyof ContentEntry>(k: K): Partial<ContentEntry> => (any[k] === undefined ? {} : { [k]: any[k] });
  return {
    kind: o.kind,
    name: o.name,
    sourcePath: o.sourcePath,
    ...pick('withoutSource'),
    ...pick('unusableReason'),
    ...pick('allowRunFromDistributionPoint'),
    ...pick('programs'),
    ...pick('os'),
    ...pick('architecture'),
    ...pick('boot'),
    ...pick('imageIndexCount'),
    ...pick('dependencies'),
    ...pick('revision'),
    version: v ? { number: v.version, manifestSha256: v.manifestSha256, totalSize: v.totalSize, fileCount: v.files.length, ...(withFiles ? { files: v.files.map((f) => ({ ...f })) } : {}) } : null,
  };
}

/** Parses an entry; `where` names it in errors (`objects/PS100002.json`). */
export function parseContentEntry(json: unknown, where: string, withFiles: boolean): ContentEntry {
  const problem = schemaError(EntrySchema, json);
  if (problem) throw invalid(`export file refused: ${where}: ${problem}`, 'archive', 'R-32');
  const e = json as ContentEntry;
  const bad = (m: string) => invalid(`export file refused: ${where}: ${m}`, 'archive', 'R-32');
  if (e.version) checkVersion(e.version, withFiles, bad);
  else if (withFiles && !e.withoutSource) throw bad('content was exported but the object has no version');
  // The record must be one this site could have made: the same rules as a create (content-input.ts).
  try {
    validateContent(recordOf(e, 'CHECK', []));
  } catch (err) {
    throw bad((err as Error).message.replace(/^content "CHECK": /, ''));
  }
  return e;
}

function checkVersion(v: ExportedVersion, withFiles: boolean, bad: (m: string) => PolicyError): void {
  if (!withFiles) {
    if (v.files !== undefined) throw bad('lists files, but the export has no content');
    return;
  }
  if (!v.files) throw bad('content was exported but the version lists no files');
  for (const f of v.files) {
    let normal: string;
    try {
      normal = normaliseContentPath(f.path);
    } catch (err) {
      throw bad(`file ${JSON.stringify(f.path.slice(0, 200))}: ${(err as Error).message}`);
    }
    if (normal !== f.path) throw bad(`file ${JSON.stringify(f.path)} is not a normalised content path (${normal})`);
  }
  const m = manifestOf(v.files);
  if (new Set(m.files.map((f) => f.path)).size !== m.files.length) throw bad('lists a file path twice');
  if (m.sha256 !== v.manifestSha256) throw bad(`the file list hashes to ${m.sha256}, not to the manifestSha256 ${v.manifestSha256} it claims`);
  if (v.fileCount !== m.files.length || v.totalSize !== m.files.reduce((n, f) => n + f.size, 0)) throw bad('fileCount or totalSize disagrees with the file list');
}

/**
 * The record for this site: `id` is this site's, `dependencies` already mapped to this site's
 * ids. The caller adds `versions`, and the source path when the import brings content. The
 * entry's `sourcePath` is never taken: it names a folder on the exporting site's host, and a
 * file must not choose which folder of this host a later `POST /content/:id/import` reads (R-28:
 * imported content's source is the import path).
 */
export function recordOf(e: ContentEntry, id: string, dependencies: readonly string[]): NewContent {
  const input: ContentInput = {
    kind: e.kind,
    name: e.name,
    usable: e.unusableReason === undefined,
    ...(e.unusableReason ? { unusableReason: e.unusableReason } : {}),
    ...(e.kind === 'application' ? { dependencies, revision: e.revision ?? 1 } : {}),
    ...(e.allowRunFromDistributionPoint === undefined ? {} : { allowRunFromDistributionPoint: e.allowRunFromDistributionPoint }),
    ...(e.architecture ? { architecture: e.architecture } : {}),
    ...(e.os ? { os: e.os } : {}),
    ...(e.boot ? { boot: e.boot } : {}),
    ...(e.programs ? { programs: e.programs } : {}),
    ...(e.imageIndexCount === undefined ? {} : { imageIndexCount: e.imageIndexCount }),
  };
  try {
    // No base record: Overwrite replaces the metadata whole, it does not merge it.
    const { versions: _v, withoutSource: _w, ...record } = toContent(id, input);
    return { ...record, sourcePath: '', ...(e.withoutSource ? { withoutSource: true } : {}) } as NewContent;
  } catch (err) {
    if (err instanceof PolicyError) throw invalid(`content ${e.name}: ${err.message}`, 'archive', 'R-32');
    throw err;
  }
}

/** The version an import records: the exported file list, made at this site at `now`. */
export function importedVersion(v: ExportedVersion, number: number, now: Date): ContentVersion {
  const m = manifestOf(v.files ?? []);
  return { version: number, createdAt: now.toISOString(), files: m.files, totalSize: v.totalSize, manifestSha256: m.sha256 };
}
