/**
 * Reads and checks a whole export file before anything is planned or imported: the
 * archive (archive-read.ts), the manifest, then every object entry — its bytes must hash to the
 * sha256 the manifest gives, and it must agree with the manifest about what it is. Task
 * sequences pass the editor's own checks (policy/export/validate.ts), content the create rules.
 * Nothing is written anywhere; a refusal names the entry and the field.
 */
import { createHash } from 'node:crypto';
import { invalid } from '../../../policy/errors.js';
import { validateImportedTaskSequence, type ImportedTaskSequence } from '../../../policy/export/validate.js';
import { DEFAULT_LIMITS, readArchive, type ArchiveLimits } from './archive-read.js';
import { parseContentEntry, type ContentEntry } from './content-entry.js';
import { folderNames, MANIFEST_ENTRY, parseManifest, type ExportManifest } from './manifest.js';
import { filesFolderOf } from './export-write.js';

export interface ImportFile {
  readonly zipPath: string;
  /** Where `NAME_files` must be: beside the zip, named after it. Null when no content was exported. */
  readonly filesDir: string | null;
  readonly manifest: ExportManifest;
  readonly taskSequences: ReadonlyMap<string, ImportedTaskSequence & { readonly folderNames: readonly string[] }>;
  readonly content: ReadonlyMap<string, ContentEntry>;
}

const refuse = (what: string) => invalid(`export file refused: ${what}`, 'archive', 'R-32');

function json(bytes: Buffer, entry: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw refuse(`${entry} is not JSON (${(e as Error).message})`);
  }
}

export async function readImportFile(zipPath: string, limits: ArchiveLimits = DEFAULT_LIMITS): Promise<ImportFile> {
  const entries = await readArchive(zipPath, limits);
  const manifestBytes = entries.get(MANIFEST_ENTRY);
  if (!manifestBytes) throw refuse(`it has no ${MANIFEST_ENTRY}; it is not a task sequence export`);
  const manifest = parseManifest(manifestBytes);
  const listed = new Set([MANIFEST_ENTRY, ...manifest.objects.map((o) => o.entry)]);
  for (const name of entries.keys()) if (!listed.has(name)) throw refuse(`entry ${name} is not listed in ${MANIFEST_ENTRY}`);

  const taskSequences = new Map<string, ImportedTaskSequence & { folderNames: readonly string[] }>();
  const content = new Map<string, ContentEntry>();
  const keys = new Set([...manifest.objects, ...manifest.references].map((o) => o.key));
  for (const o of manifest.objects) {
    const bytes = entries.get(o.entry);
    if (!bytes) throw refuse(`${MANIFEST_ENTRY} lists ${o.entry}, which the file does not hold`);
    const got = createHash('sha256').update(bytes).digest('hex');
    if (bytes.length !== o.size || got !== o.sha256) throw refuse(`${o.entry} does not match ${MANIFEST_ENTRY}: it is ${bytes.length} bytes with sha256 ${got}, the manifest says ${o.size} bytes with sha256 ${o.sha256}`);
    const doc = json(bytes, o.entry);
    if (o.type === 'taskSequence') {
      const ts = validateImportedTaskSequence(doc, `export file refused: ${o.entry}`);
      if (ts.name !== o.name) throw refuse(`${o.entry} is named ${JSON.stringify(ts.name)}, the manifest says ${JSON.stringify(o.name)}`);
      const declared = [...(o.strippedSecrets ?? [])].sort().join(',');
      if ([...ts.strippedSecrets].sort().join(',') !== declared) throw refuse(`${o.entry} and ${MANIFEST_ENTRY} disagree about the secrets the export removed`);
      taskSequences.set(o.key, { ...ts, folderNames: folderNames(o.folderPath ?? '/', o.key) });
      continue;
    }
    const entry = parseContentEntry(doc, o.entry, manifest.includesContent);
    if (entry.kind !== o.type || entry.name !== o.name) throw refuse(`${o.entry} is the ${entry.kind} ${JSON.stringify(entry.name)}, the manifest says ${o.type} ${JSON.stringify(o.name)}`);
    if ((entry.version?.manifestSha256 ?? null) !== (o.manifestSha256 ?? null)) throw refuse(`${o.entry} and ${MANIFEST_ENTRY} disagree about the content's manifest hash`);
    for (const d of entry.dependencies ?? []) if (!keys.has(d)) throw refuse(`${o.entry} depends on ${d}, which the file neither holds nor lists`);
    content.set(o.key, entry);
  }
  return { zipPath, filesDir: manifest.includesContent ? filesFolderOf(zipPath) : null, manifest, taskSequences, content };
}
