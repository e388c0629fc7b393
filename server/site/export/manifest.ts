/**
 * The export file's table of contents: `manifest.json` lists every object of the file
 * with its entry, that entry's sha256 and size, what it depends on, and — for content — the
 * manifest hash of the exported version. Parsing treats the file as hostile: the schema
 * bounds every field, and the lists must agree with each other before anything is read further.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { CONTENT_KINDS, type ContentKind } from '../../../policy/content-refs.js';
import { invalid, type PolicyError } from '../../../policy/errors.js';
import type { ExportedType } from '../../../policy/export/plan.js';

export const EXPORT_FORMAT = 'osdeploy.task-sequence-export';
export const EXPORT_FORMAT_VERSION = 1;
export const MANIFEST_ENTRY = 'manifest.json';
/** Keys are ids of the exporting site: content ids as content/ allows them, so safe as file names. */
export const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const entryOf = (key: string): string => `objects/${key}.json`;
export const MAX_OBJECTS = 5000;

const Key = Type.String({ pattern: KEY_PATTERN.source });
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
/** Unsafe<ContentKind>: a union built from the list, typed as the union it is. */
export const Kind = Type.Unsafe<ContentKind>(Type.Union(CONTENT_KINDS.map((k) => Type.Literal(k))));
const Name = Type.String({ minLength: 1, maxLength: 256 });

const ObjectSchema = Type.Object(
  {
    key: Key,
    type: Type.Unsafe<ExportedType>(Type.Union([Type.Literal('taskSequence'), Kind])),
    name: Name,
    entry: Type.String({ maxLength: 128 }),
    sha256: Sha256,
    size: Type.Integer({ minimum: 0 }),
    dependsOn: Type.Array(Key, { maxItems: MAX_OBJECTS }),
    folderPath: Type.Optional(Type.String({ maxLength: 16 * 257 + 1 })),
    strippedSecrets: Type.Optional(Type.Array(Type.String({ maxLength: 300 }), { maxItems: 10000 })),
    manifestSha256: Type.Optional(Type.Union([Sha256, Type.Null()])),
  },
  { additionalProperties: false },
);

const ReferenceSchema = Type.Object({ key: Key, type: Kind, name: Name }, { additionalProperties: false });

const ManifestSchema = Type.Object(
  {
    format: Type.Literal(EXPORT_FORMAT),
    formatVersion: Type.Literal(EXPORT_FORMAT_VERSION),
    exportedAt: Type.String({ maxLength: 64 }),
    site: Type.Object({ code: Type.String({ pattern: '^[A-Za-z0-9]{3}$' }) }, { additionalProperties: false }),
    comments: Type.String({ maxLength: 4096 }),
    includesDependencies: Type.Boolean(),
    includesContent: Type.Boolean(),
    /** `NAME_files` as it was named at export; the importer looks beside the zip it is given. */
    filesFolder: Type.Union([Type.String({ maxLength: 300 }), Type.Null()]),
    objects: Type.Array(ObjectSchema, { minItems: 1, maxItems: MAX_OBJECTS }),
    /** Content the task sequences reference that the file does not carry (exported without dependencies). */
    references: Type.Array(ReferenceSchema, { maxItems: MAX_OBJECTS }),
  },
  { additionalProperties: false },
);

export type ManifestObject = Static<typeof ObjectSchema>;
export type ManifestReference = Static<typeof ReferenceSchema>;
export type ExportManifest = Omit<Static<typeof ManifestSchema>, 'objects' | 'references'> & {
  readonly objects: readonly ManifestObject[];
  readonly references: readonly ManifestReference[];
};

const refuse = (what: string, field = 'manifest'): PolicyError => invalid(`export file refused: ${MANIFEST_ENTRY}: ${what}`, field, 'R-32');

/** The first schema error as `path: message`. */
export function schemaError(schema: TSchema, value: unknown): string | null {
  for (const e of Value.Errors(schema, value)) {
    // `additionalProperties: false` reports once per extra key and once for the object; name the key.
    const extra = (e.params as { additionalProperties?: unknown }).additionalProperties;
    const where = e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(top)';
    if (e.keyword === 'boolean') continue;
    return Array.isArray(extra) ? `${where}: unknown field ${String(extra[0])}` : `${where}: ${e.message}`;
  }
  return null;
}

/** Parses and cross-checks `manifest.json`; throws `invalid` naming what is wrong. */
export function parseManifest(bytes: Buffer): ExportManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw refuse(`not JSON (${(e as Error).message})`);
  }
  const version = (json as { formatVersion?: unknown } | null)?.formatVersion;
  if ((json as { format?: unknown } | null)?.format !== EXPORT_FORMAT) throw refuse(`not an osdeploy task sequence export (format must be ${EXPORT_FORMAT})`);
  if (typeof version === 'number' && version > EXPORT_FORMAT_VERSION)
    throw refuse(`made by a newer osdeploy (format version ${version}); this one reads version ${EXPORT_FORMAT_VERSION}`);
  const problem = schemaError(ManifestSchema, json);
  if (problem) throw refuse(problem);
  const m = json as ExportManifest;
  crossCheck(m);
  return m;
}

function crossCheck(m: ExportManifest): void {
  const keys = new Set<string>();
  for (const o of [...m.objects, ...m.references]) {
    if (keys.has(o.key.toLowerCase())) throw refuse(`object ${o.key} is listed twice`);
    keys.add(o.key.toLowerCase());
  }
  for (const o of m.objects) {
    if (o.entry !== entryOf(o.key)) throw refuse(`object ${o.key} must be stored as ${entryOf(o.key)}, not ${JSON.stringify(o.entry)}`);
    for (const d of o.dependsOn) if (!keys.has(d.toLowerCase())) throw refuse(`object ${o.key} depends on ${d}, which the file does not list`);
    const isTs = o.type === 'taskSequence';
    if (isTs !== (o.folderPath !== undefined && o.strippedSecrets !== undefined)) throw refuse(`object ${o.key}: folderPath and strippedSecrets belong to task sequences, and only to them`);
    if (isTs === (o.manifestSha256 !== undefined)) throw refuse(`object ${o.key}: manifestSha256 belongs to content, and only to it`);
  }
  if (!m.objects.some((o) => o.type === 'taskSequence')) throw refuse('the file holds no task sequence');
  if (m.includesContent !== (m.filesFolder !== null)) throw refuse('filesFolder is given exactly when content was exported');
  if (m.includesDependencies && m.references.length > 0) throw refuse('an export with its dependencies leaves no references outside the file');
}

/** `a/b/c` as the folder names, refusing what a folder name cannot be (policy/folders.ts). */
export function folderNames(folderPath: string, key: string): string[] {
  if (!folderPath.startsWith('/')) throw refuse(`object ${key}: folderPath must start with /`);
  const names = folderPath === '/' ? [] : folderPath.slice(1).split('/');
  if (names.some((n) => n.trim() === '' || n !== n.trim())) throw refuse(`object ${key}: folderPath ${JSON.stringify(folderPath)} has an empty or padded folder name`);
  return names;
}
