/**
 * Export: one or more task sequences, with or without their dependencies (boot image, OS
 * image, driver packages, packages, applications and theirs, transitively — exactly what the
 * reference check R-04 finds), with or without content, with administrator comments. Step
 * secrets are removed before anything is serialised (policy/export/transform.ts): they are never
 * written, not even encrypted. `buildExport` reads the site and returns the entries; writing
 * them somewhere is `export-write.ts`.
 */
import { createHash } from 'node:crypto';
import type { VersionFile } from '../../../content/model.js';
import { CONTENT_KIND_LABEL } from '../../../policy/content-refs.js';
import { invalid, notFound } from '../../../policy/errors.js';
import { folderPath } from '../../../policy/folders.js';
import { stripSecrets } from '../../../policy/export/transform.js';
import type { ImportedTaskSequence } from '../../../policy/export/validate.js';
import type { TaskSequence } from '../../../policy/task-sequences/model.js';
import { checkReferences, directReferences } from '../../../policy/task-sequences/references.js';
import { contentIndex } from '../content.js';
import type { SiteContext } from '../context.js';
import type { ArchiveEntry } from './archive-write.js';
import { contentEntryOf } from './content-entry.js';
import { entryOf, EXPORT_FORMAT, EXPORT_FORMAT_VERSION, MANIFEST_ENTRY, type ExportManifest, type ManifestObject, type ManifestReference } from './manifest.js';

export interface ExportRequest {
  readonly taskSequenceIds: readonly string[];
  readonly includeDependencies: boolean;
  readonly includeContent: boolean;
  readonly comments: string;
  /** `NAME_files` for a zip named NAME.zip; recorded in the manifest when content is exported. */
  readonly filesFolder: string;
}

export interface ExportBundle {
  readonly manifest: ExportManifest;
  /** `manifest.json` first, then one entry per object. */
  readonly entries: readonly ArchiveEntry[];
  /** The files that go into `NAME_files/<key>/<path>`, by content object; empty without content. */
  readonly content: readonly { readonly key: string; readonly files: readonly VersionFile[] }[];
  /** References that point at nothing (R-04 would refuse them); exported as they are. */
  readonly warnings: readonly string[];
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
/** Pretty JSON: an administrator may read an export; the sizes are small either way. */
const bytesOf = (v: unknown): Buffer => Buffer.from(`${JSON.stringify(v, null, 2)}\n`);

export const MAX_EXPORT_TASK_SEQUENCES = 100;

export async function buildExport(ctx: SiteContext, req: ExportRequest): Promise<ExportBundle> {
  const ids = [...new Set(req.taskSequenceIds)];
  if (ids.length === 0 || ids.length > MAX_EXPORT_TASK_SEQUENCES) throw invalid(`give 1 to ${MAX_EXPORT_TASK_SEQUENCES} task sequence ids`, 'taskSequenceIds', 'R-27');
  if (req.comments.length > 4096) throw invalid('comments are at most 4096 characters', 'comments', 'R-27');
  const folders = new Map((await ctx.store.folders.list()).map((f) => [f.id, f]));
  const originals: TaskSequence[] = [];
  for (const id of ids) {
    const ts = await ctx.store.taskSequences.get(id);
    if (!ts) throw notFound(`no task sequence ${id}`, 'id');
    originals.push(ts);
  }
  const index = contentIndex(ctx);
  const objects: ManifestObject[] = [];
  const entries: ArchiveEntry[] = [];
  const contentIds: string[] = [];
  const warnings: string[] = [];
  const add = (o: Omit<ManifestObject, 'entry' | 'sha256' | 'size'>, doc: unknown): void => {
    const data = bytesOf(doc);
    objects.push({ ...o, entry: entryOf(o.key), sha256: sha256(data), size: data.length });
    entries.push({ name: entryOf(o.key), data });
  };

  for (const original of originals) {
    const { id } = original;
    const { taskSequence: ts, stripped } = stripSecrets(original);
    const report = checkReferences(original, index);
    for (const p of report.problems) if (p.id && !index.get(p.id)) warnings.push(`${ts.name} (${id}): ${p.via}: ${p.reason}`);
    for (const c of report.content) if (!contentIds.includes(c.id)) contentIds.push(c.id);
    // Only what the reference check accepted: a missing or wrong-kind reference stays a plain id.
    const direct = [...new Set(directReferences(original).map((r) => r.id).filter((ref) => report.content.some((c) => c.id === ref)))];
    const doc: ImportedTaskSequence = { name: ts.name, description: ts.description, type: ts.type, enabled: ts.enabled, bootImageId: ts.bootImageId, items: ts.items, nextItemId: ts.nextItemId, strippedSecrets: stripped };
    add({ key: id, type: 'taskSequence', name: ts.name, dependsOn: direct, folderPath: folderPath(ts.folderId, folders), strippedSecrets: [...stripped] }, doc);
  }

  const references: ManifestReference[] = [];
  const content: { key: string; files: readonly VersionFile[] }[] = [];
  for (const id of contentIds) {
    const o = await ctx.library.records.get(id);
    if (!o) continue; // deleted since the reference check; the check above already read it
    if (!req.includeDependencies) {
      references.push({ key: id, type: o.kind, name: o.name });
      continue;
    }
    const entry = contentEntryOf(o, req.includeContent);
    if (req.includeContent && !entry.version && !o.withoutSource) throw invalid(`${CONTENT_KIND_LABEL[o.kind]} ${o.name} (${id}) has no content version to export; import its source, or export without content`, 'includeContent', 'R-27');
    const dependsOn = o.kind === 'application' ? [...o.dependencies] : [];
    add({ key: id, type: o.kind, name: o.name, dependsOn, manifestSha256: entry.version?.manifestSha256 ?? null }, entry);
    if (req.includeContent && entry.version?.files) content.push({ key: id, files: entry.version.files });
  }

  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    formatVersion: EXPORT_FORMAT_VERSION,
    exportedAt: new Date(ctx.now()).toISOString(),
    site: { code: ctx.siteCode },
    comments: req.comments,
    includesDependencies: req.includeDependencies,
    includesContent: req.includeDependencies && req.includeContent,
    filesFolder: req.includeDependencies && req.includeContent ? req.filesFolder : null,
    objects,
    references,
  };
  return { manifest, entries: [{ name: MANIFEST_ENTRY, data: bytesOf(manifest) }, ...entries], content, warnings };
}
