/**
 * The content service: content objects in the site database (SqliteLibraryRecords)
 * with their files in the single-instance store, imported from source folders by content/.
 * Policy reads the small ContentInfo of each (contentIndex); an object registered without a
 * source folder has no files and is usable as it is, one with a source needs a version first.
 */
import { createContent as createRecord, importFolder, type ImportResult } from '../../content/library.js';
import { contentInfoOf, currentVersion, type ContentObject } from '../../content/model.js';
import { contentIndexOf, type ContentIndex } from '../../policy/content-refs.js';
import { conflict, notFound } from '../../policy/errors.js';
import type { TaskSequence } from '../../policy/task-sequences/model.js';
import { directReferences } from '../../policy/task-sequences/references.js';
import { claimId } from '../store/db.js';
import { allDocs } from '../store/docs.js';
import { toContent, type ContentInput } from './content-input.js';
import { contentFailure } from './content-errors.js';
import { write, writeAudit, type SiteContext } from './context.js';

export type { ContentInput } from './content-input.js';

/** Package ids share one counter with task sequences, as Configuration Manager's package ids do. */
export const nextPackageId = (ctx: SiteContext): string => claimId(ctx.db, 'package', (n) => `${ctx.siteCode}${n.toString(16).toUpperCase().padStart(5, '0')}`);

/** What the API shows of a content object: policy's facts, its metadata, and its current version without file lists. */
export function contentView(o: ContentObject) {
  const { versions, ...rest } = o;
  const v = currentVersion(o);
  return {
    ...rest,
    ...contentInfoOf(o),
    withoutSource: o.withoutSource === true,
    versionCount: versions.length,
    currentVersion: v ? { version: v.version, createdAt: v.createdAt, totalSize: v.totalSize, fileCount: v.files.length, manifestSha256: v.manifestSha256 } : null,
  };
}
export type ContentView = ReturnType<typeof contentView>;

function checkDependencies(ctx: SiteContext, o: ContentObject): void {
  if (o.kind !== 'application') return;
  for (const dep of o.dependencies) if (!ctx.library.records.info(dep)) throw notFound(`dependency ${dep} does not exist`, 'dependencies');
}

/** Registers a content object without files ("this package does not contain source files"). */
export function createContent(ctx: SiteContext, actor: string, input: ContentInput): ContentView {
  return write(ctx, () => {
    const record = { ...toContent(nextPackageId(ctx), input), versions: [] } as ContentObject;
    checkDependencies(ctx, record);
    ctx.library.records.putSync(record);
    writeAudit(ctx, actor, { action: 'content.created', target: record.id, message: `${record.kind} ${record.name} (${record.id}) created`, details: {} });
    return contentView(record);
  });
}

/**
 * Creates a content object from a source folder: the record and its first version, or nothing.
 * A failed import removes the new record again, so no unusable half-object is left behind.
 */
export async function createContentFromSource(ctx: SiteContext, actor: string, input: ContentInput, sourcePath: string): Promise<{ content: ContentView; import: ImportResult }> {
  const id = write(ctx, () => nextPackageId(ctx));
  const { withoutSource: _none, ...record } = toContent(id, input);
  checkDependencies(ctx, { ...record, versions: [] } as ContentObject);
  try {
    await createRecord(ctx.library, { ...record, sourcePath } as never);
    const result = await importFolder(ctx.library, id, sourcePath, new Date(ctx.now()));
    write(ctx, () => writeAudit(ctx, actor, { action: 'content.created', target: id, message: `${record.kind} ${record.name} (${id}) created from ${sourcePath}`, details: { version: result.version.version } }));
    return { content: contentView(result.content), import: result };
  } catch (e) {
    ctx.library.records.deleteSync(id);
    throw contentFailure(e, 'sourcePath');
  }
}

/** Imports the source folder (given, or the recorded one) as the next version; unchanged → no version. */
export async function importContent(ctx: SiteContext, actor: string, id: string, sourcePath?: string): Promise<{ content: ContentView; import: ImportResult }> {
  const current = getContentObject(ctx, id);
  const folder = sourcePath ?? current.sourcePath;
  if (!folder) throw contentFailure(new Error(`${current.name} (${id}) has no source folder; give one`), 'sourcePath', 'invalid');
  let result: ImportResult;
  try {
    result = await importFolder(ctx.library, id, folder, new Date(ctx.now()));
  } catch (e) {
    throw contentFailure(e, 'sourcePath');
  }
  const v = result.version.version;
  const message = result.changed ? `${current.kind} ${current.name} (${id}): version ${v} imported from ${folder}` : `${current.kind} ${current.name} (${id}): ${folder} unchanged, still version ${v}`;
  write(ctx, () => writeAudit(ctx, actor, { action: 'content.imported', target: id, message, details: { version: v, changed: result.changed } }));
  return { content: contentView(result.content), import: result };
}

export function updateContent(ctx: SiteContext, actor: string, id: string, patch: Partial<ContentInput>): ContentView {
  return write(ctx, () => {
    const current = getContentObject(ctx, id);
    if (patch.kind && patch.kind !== current.kind) throw contentFailure(new Error('the kind of a content object cannot change'), 'kind', 'invalid');
    const merged = { name: current.name, ...patch, kind: current.kind } as ContentInput;
    const record = { ...toContent(id, merged, current), versions: current.versions } as ContentObject;
    checkDependencies(ctx, record);
    ctx.library.records.putSync(record);
    writeAudit(ctx, actor, { action: 'content.updated', target: id, message: `${record.kind} ${record.name} (${id}) updated`, details: { fields: Object.keys(patch) } });
    return contentView(record);
  });
}

export function getContentObject(ctx: SiteContext, id: string): ContentObject {
  const c = ctx.library.records.getSync(id);
  if (!c) throw notFound(`no content ${id}`, 'id');
  return c;
}

export const getContent = (ctx: SiteContext, id: string): ContentView => contentView(getContentObject(ctx, id));
export const listContent = (ctx: SiteContext): ContentView[] => ctx.library.records.listSync().map(contentView);
export const contentIndex = (ctx: SiteContext): ContentIndex => ({ get: (id) => ctx.library.records.info(id) });

export function versionsOf(ctx: SiteContext, id: string) {
  return getContentObject(ctx, id).versions.map((v) => ({ version: v.version, createdAt: v.createdAt, totalSize: v.totalSize, fileCount: v.files.length, manifestSha256: v.manifestSha256 }));
}

export function getVersionFiles(ctx: SiteContext, id: string, version: number) {
  const v = getContentObject(ctx, id).versions.find((x) => x.version === version);
  if (!v) throw notFound(`content ${id} has no version ${version}`, 'version');
  return v;
}

/** Deletes the record; its blobs stay until nothing references them (the store is shared). */
export function deleteContent(ctx: SiteContext, actor: string, id: string): void {
  write(ctx, () => {
    const c = getContentObject(ctx, id);
    const users = allDocs<TaskSequence>(ctx.db, 'task_sequences').filter((ts) => directReferences(ts).some((r) => r.id === id));
    if (users.length) throw conflict(`${c.name} (${id}) is referenced by task sequences ${users.map((t) => t.id).join(', ')}`, 'id');
    const dependents = ctx.library.records.infos().filter((o) => o.dependencies?.includes(id));
    if (dependents.length) throw conflict(`${c.name} (${id}) is a dependency of ${dependents.map((d) => d.id).join(', ')}`, 'id');
    ctx.library.records.deleteSync(id);
    ctx.db.prepare('DELETE FROM point_content WHERE content_id = ?').run(id);
    writeAudit(ctx, actor, { action: 'content.deleted', target: id, message: `${c.kind} ${c.name} (${id}) deleted`, details: {} });
  });
}

export { contentIndexOf };
