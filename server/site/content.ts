/**
 * The content service: content objects in the site database (the content
 * repository, `ctx.store.content`, which the library's records go through too) with their files
 * in the single-instance store, imported from source folders by content/. Policy reads the small
 * ContentInfo of each (contentIndex); an object registered without a source folder has no files
 * and is usable as it is, one with a source needs a version first.
 */
import { createContent as createRecord, importFolder, type ImportResult } from '../../content/library.js';
import { contentInfoOf, currentVersion, type ContentObject, type ContentVersion } from '../../content/model.js';
import { contentIndexOf, type ContentIndex } from '../../policy/content-refs.js';
import { conflict, notFound } from '../../policy/errors.js';
import { directReferences } from '../../policy/task-sequences/references.js';
import { toContent, type ContentInput } from './content-input.js';
import { contentFailure } from './content-errors.js';
import { audit, transact, type SiteContext } from './context.js';
import type { ContentRepo, SiteRepos } from './repositories.js';

export type { ContentInput } from './content-input.js';

const packageId = (siteCode: string) => (n: number): string => `${siteCode}${n.toString(16).toUpperCase().padStart(5, '0')}`;

/** Package ids share one counter with task sequences, as Configuration Manager's package ids do. */
export const claimPackageId = (tx: Pick<SiteRepos, 'ids'>, ctx: SiteContext): Promise<string> => tx.ids.claim('package', packageId(ctx.siteCode));

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

async function checkDependencies(content: ContentRepo, o: ContentObject): Promise<void> {
  if (o.kind !== 'application') return;
  for (const dep of o.dependencies) if (!(await content.info(dep))) throw notFound(`dependency ${dep} does not exist`, 'dependencies');
}

/** Registers a content object without files ("this package does not contain source files"). */
export function createContent(ctx: SiteContext, actor: string, input: ContentInput): Promise<ContentView> {
  return transact(ctx, async (tx) => {
    const record = { ...toContent(await claimPackageId(tx, ctx), input), versions: [] } as ContentObject;
    await checkDependencies(tx.content, record);
    await tx.content.put(record, ctx.now());
    await audit(tx, ctx, actor, { action: 'content.created', target: record.id, message: `${record.kind} ${record.name} (${record.id}) created`, details: {} });
    return contentView(record);
  });
}

/**
 * Creates a content object from a source folder: the record and its first version, or nothing.
 * A failed import removes the new record again, so no unusable half-object is left behind.
 */
export async function createContentFromSource(ctx: SiteContext, actor: string, input: ContentInput, sourcePath: string): Promise<{ content: ContentView; import: ImportResult }> {
  const id = await claimPackageId(ctx.store, ctx);
  const { withoutSource: _none, ...record } = toContent(id, input);
  await checkDependencies(ctx.store.content, { ...record, versions: [] } as ContentObject);
  try {
    await createRecord(ctx.library, { ...record, sourcePath } as never);
    const result = await importFolder(ctx.library, id, sourcePath, new Date(ctx.now()));
    await audit(ctx.store, ctx, actor, { action: 'content.created', target: id, message: `${record.kind} ${record.name} (${id}) created from ${sourcePath}`, details: { version: result.version.version } });
    return { content: contentView(result.content), import: result };
  } catch (e) {
    await ctx.store.content.delete(id);
    throw contentFailure(e, 'sourcePath');
  }
}

/** Imports the source folder (given, or the recorded one) as the next version; unchanged → no version. */
export async function importContent(ctx: SiteContext, actor: string, id: string, sourcePath?: string): Promise<{ content: ContentView; import: ImportResult }> {
  const current = await getContentObject(ctx, id);
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
  await audit(ctx.store, ctx, actor, { action: 'content.imported', target: id, message, details: { version: v, changed: result.changed } });
  return { content: contentView(result.content), import: result };
}

export function updateContent(ctx: SiteContext, actor: string, id: string, patch: Partial<ContentInput>): Promise<ContentView> {
  return transact(ctx, async (tx) => {
    const current = await contentObjectIn(tx, id);
    if (patch.kind && patch.kind !== current.kind) throw contentFailure(new Error('the kind of a content object cannot change'), 'kind', 'invalid');
    const merged = { name: current.name, ...patch, kind: current.kind } as ContentInput;
    const record = { ...toContent(id, merged, current), versions: current.versions } as ContentObject;
    await checkDependencies(tx.content, record);
    await tx.content.put(record, ctx.now());
    await audit(tx, ctx, actor, { action: 'content.updated', target: id, message: `${record.kind} ${record.name} (${id}) updated`, details: { fields: Object.keys(patch) } });
    return contentView(record);
  });
}

async function contentObjectIn(repos: Pick<SiteRepos, 'content'>, id: string): Promise<ContentObject> {
  const c = await repos.content.get(id);
  if (!c) throw notFound(`no content ${id}`, 'id');
  return c;
}

export const getContentObject = (ctx: SiteContext, id: string): Promise<ContentObject> => contentObjectIn(ctx.store, id);
export const getContent = async (ctx: SiteContext, id: string): Promise<ContentView> => contentView(await getContentObject(ctx, id));
export const listContent = async (ctx: SiteContext): Promise<ContentView[]> => (await ctx.store.content.list()).map(contentView);
/** Synchronous, for boot and policy resolution (a read of one small row; the policy state will keep these in memory). */
export const contentIndex = (ctx: SiteContext): ContentIndex => ({ get: (id) => ctx.snapshot.contentInfo(id) });

export async function versionsOf(ctx: SiteContext, id: string) {
  return (await getContentObject(ctx, id)).versions.map((v) => ({ version: v.version, createdAt: v.createdAt, totalSize: v.totalSize, fileCount: v.files.length, manifestSha256: v.manifestSha256 }));
}

/** The version of an object, or not found. */
export function versionOf(o: ContentObject, version: number): ContentVersion {
  const v = o.versions.find((x) => x.version === version);
  if (!v) throw notFound(`content ${o.id} has no version ${version}`, 'version');
  return v;
}

export const getVersionFiles = async (ctx: SiteContext, id: string, version: number): Promise<ContentVersion> => versionOf(await getContentObject(ctx, id), version);

/** Deletes the record and the points' holdings of it; its blobs stay until nothing references them (the store is shared). */
export function deleteContent(ctx: SiteContext, actor: string, id: string): Promise<void> {
  return transact(ctx, async (tx) => {
    const c = await contentObjectIn(tx, id);
    const users = (await tx.taskSequences.list()).filter((ts) => directReferences(ts).some((r) => r.id === id));
    if (users.length) throw conflict(`${c.name} (${id}) is referenced by task sequences ${users.map((t) => t.id).join(', ')}`, 'id');
    const dependents = (await tx.content.infos()).filter((o) => o.dependencies?.includes(id));
    if (dependents.length) throw conflict(`${c.name} (${id}) is a dependency of ${dependents.map((d) => d.id).join(', ')}`, 'id');
    await tx.content.delete(id);
    await tx.holdings.deleteOfContent(id);
    await audit(tx, ctx, actor, { action: 'content.deleted', target: id, message: `${c.kind} ${c.name} (${id}) deleted`, details: {} });
  });
}

export { contentIndexOf };
