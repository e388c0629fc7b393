/**
 * Commits an import plan. The plan is made again against the site as it is now, with the
 * caller's actions, so a change since planning (an object deleted, another import) is caught.
 * Content files go into the store first (files.ts); then ONE transaction writes every content
 * record, folder, task sequence, import link and the audit record — or, on any error, nothing.
 *
 * Create New gets a new id; Ignore Duplicate writes nothing and links the existing object in
 * its place; Overwrite replaces it under its id (content gains the imported version unless it
 * is already current); an application's new-revision also raises its revision. Imported
 * content's source becomes the import path (`NAME_files/<key>`); without files it keeps this
 * site's own source, or has none — a folder named in the file is never used. Task sequences keep the list
 * of secrets the export removed, so they come back "needs passwords".
 */
import path from 'node:path';
import { currentVersion, validateContent, type ContentObject, type ContentVersion } from '../../../content/model.js';
import { checkFolder, type Folder } from '../../../policy/folders.js';
import { conflict, invalid } from '../../../policy/errors.js';
import { remapReferences } from '../../../policy/export/transform.js';
import type { TaskSequence } from '../../../policy/task-sequences/model.js';
import { claimPackageId } from '../content.js';
import { audit, transact, type SiteContext } from '../context.js';
import type { SiteRepos } from '../repositories.js';
import { importedVersion, recordOf } from './content-entry.js';
import { ingestContentFiles, isFolder, missingFilesFolder } from './files.js';
import type { ImportFile } from './import-file.js';
import { planImport, type Plan, type PlanEntry } from './plan.js';

export interface CommittedObject {
  readonly key: string;
  readonly type: string;
  readonly name: string;
  readonly action: string;
  /** This site's id: new (create), or the existing object's. */
  readonly id: string;
}

export interface CommitResult {
  readonly objects: readonly CommittedObject[];
  readonly needsPasswords: readonly { id: string; name: string; secrets: readonly string[] }[];
  readonly content: { readonly files: number; readonly bytes: number; readonly stored: number };
  readonly warnings: readonly string[];
}

const bringsFiles = (file: ImportFile, o: PlanEntry): boolean =>
  o.type !== 'taskSequence' && o.action !== 'ignore' && file.manifest.includesContent && (file.content.get(o.key)?.version?.files?.length ?? 0) > 0;

/** Refuses when `now` found other objects than `before` (the plan the caller saw). */
function checkUnchanged(before: Plan, now: Plan): void {
  for (const o of now.objects) {
    const was = before.objects.find((p) => p.key === o.key)?.existing?.id ?? null;
    if ((o.existing?.id ?? null) !== was) throw conflict(`the site changed since the plan was made (${o.type} ${o.name}); make the plan again`, 'planId', 'R-28');
  }
}

/** `planned`: the plan the caller saw; the commit refuses if this site no longer matches it. */
export async function commitImport(ctx: SiteContext, actor: string, file: ImportFile, actions: Readonly<Record<string, string>>, planned?: Plan): Promise<CommitResult> {
  const plan = await planImport(ctx, ctx.store, file, actions);
  if (planned) checkUnchanged(planned, plan);
  const withFiles = plan.objects.filter((o) => bringsFiles(file, o));
  const totals = { files: 0, bytes: 0, stored: 0 };
  if (withFiles.length > 0) {
    if (!file.filesDir || !(await isFolder(file.filesDir))) throw missingFilesFolder(file.filesDir ?? `${file.zipPath}_files`, file.zipPath);
    for (const o of withFiles) {
      const r = await ingestContentFiles(ctx.library.store, file.filesDir, o.key, file.content.get(o.key)!.version!.files!);
      totals.files += r.files;
      totals.bytes += r.bytes;
      totals.stored += r.stored;
    }
  }
  const now = ctx.now();
  // All or nothing. Only `tx` is awaited in here: the files are in the store already.
  const result = await transact(ctx, async (tx) => {
    // Storing the files took a while: another import or an edit may have run. Checked again
    // inside the transaction, where nothing else can interleave.
    checkUnchanged(plan, await planImport(ctx, tx, file, actions));
    const r = await apply(ctx, tx, file, plan, now, (o) => withFiles.includes(o));
    await auditImport(tx, ctx, actor, file, r, now);
    return r;
  });
  return { ...result, content: totals, warnings: [...plan.warnings, ...(await deployedWarnings(ctx, plan, result))] };
}

/** An overwritten task sequence keeps its deployments; say that they now wait for its passwords. */
async function deployedWarnings(ctx: SiteContext, plan: Plan, r: Omit<CommitResult, 'content' | 'warnings'>): Promise<string[]> {
  const out: string[] = [];
  for (const o of plan.objects) {
    if (o.type !== 'taskSequence' || o.action !== 'overwrite') continue;
    const id = r.objects.find((x) => x.key === o.key)!.id;
    const deployed = (await ctx.store.deployments.ofTaskSequence(id)).map((d) => d.id);
    if (deployed.length && r.needsPasswords.some((n) => n.id === id)) out.push(`task sequence ${o.name} (${id}) was overwritten and is deployed (${deployed.join(', ')}): give its passwords again before those deployments run`);
  }
  return out;
}

async function apply(ctx: SiteContext, tx: SiteRepos, file: ImportFile, plan: Plan, now: number, hasFiles: (o: PlanEntry) => boolean): Promise<Omit<CommitResult, 'content' | 'warnings'>> {
  const ids = new Map<string, string>();
  for (const o of plan.objects) ids.set(o.key, o.action === 'create' || !o.existing ? await claimPackageId(tx, ctx) : o.existing.id);
  for (const r of plan.references) ids.set(r.key, r.linkedTo ?? r.key);
  const mapId = (_kind: unknown, id: string): string => ids.get(id) ?? id;
  const written: ContentObject[] = [];
  for (const o of plan.objects) {
    if (o.type === 'taskSequence' || o.action === 'ignore') continue;
    written.push(await writeContent(tx, file, o, ids.get(o.key)!, hasFiles(o), (id) => mapId(null, id), now));
  }
  for (const c of written)
    if (c.kind === 'application') for (const d of c.dependencies) if (!(await tx.content.info(d))) throw invalid(`application ${c.name} depends on ${d}, which is not in this site`, 'actions', 'R-28');
  const needsPasswords: { id: string; name: string; secrets: readonly string[] }[] = [];
  const folders = new Map((await tx.folders.list()).map((f) => [f.id, f]));
  for (const o of plan.objects) {
    if (o.type !== 'taskSequence' || o.action === 'ignore') continue;
    const imported = file.taskSequences.get(o.key)!;
    const { folderNames, ...doc } = imported;
    const id = ids.get(o.key)!;
    const ts: TaskSequence = remapReferences({ ...doc, id, folderId: await ensureFolders(tx, folders, folderNames) }, mapId);
    await tx.taskSequences.put(ts, now);
    if (ts.strippedSecrets.length > 0) needsPasswords.push({ id, name: ts.name, secrets: ts.strippedSecrets });
  }
  for (const o of plan.objects) await tx.importLinks.put({ originSite: file.manifest.site.code, originId: o.key, type: o.type, localId: ids.get(o.key)! }, now);
  return { objects: plan.objects.map((o) => ({ key: o.key, type: o.type, name: o.name, action: o.action, id: ids.get(o.key)! })), needsPasswords };
}

async function writeContent(tx: SiteRepos, file: ImportFile, o: PlanEntry, id: string, hasFiles: boolean, mapId: (id: string) => string, now: number): Promise<ContentObject> {
  const entry = file.content.get(o.key)!;
  const record = recordOf(entry, id, (entry.dependencies ?? []).map(mapId));
  const existing = o.action === 'create' ? undefined : ((await tx.content.get(id)) ?? undefined);
  if (o.action !== 'create' && !existing) throw conflict(`${o.type} ${id} disappeared during the import; make the plan again`, 'planId', 'R-28');
  const current = existing && currentVersion(existing);
  let versions: readonly ContentVersion[] = existing?.versions ?? [];
  if (hasFiles) {
    const version = importedVersion(entry.version!, (current?.version ?? 0) + 1, new Date(now));
    if (current?.manifestSha256 !== version.manifestSha256) versions = [...versions, version];
  }
  // Never a folder the file names (recordOf drops it): the import path, else what this site had.
  const source = hasFiles ? path.join(file.filesDir!, o.key) : (existing?.sourcePath ?? '');
  const next = { ...record, sourcePath: source, versions } as ContentObject & { withoutSource?: boolean; revision?: number };
  // Without source files only while nothing was ever imported for it (content/model.ts).
  if (versions.length > 0) delete next.withoutSource;
  if (o.action === 'new-revision' && existing?.kind === 'application') next.revision = existing.revision + 1;
  validateContent(next);
  await tx.content.put(next, now);
  return next;
}

/** The folder `/a/b` by names, made where missing (policy/folders.ts rules apply); `all` gains what it makes. */
async function ensureFolders(tx: SiteRepos, all: Map<string, Folder>, names: readonly string[]): Promise<string | null> {
  let parent: string | null = null;
  for (const name of names) {
    const found = [...all.values()].find((f) => f.parentId === parent && f.name.toLowerCase() === name.toLowerCase());
    if (found) {
      parent = found.id;
      continue;
    }
    const folder = checkFolder({ id: await tx.ids.claim('folder', (n) => `f${n}`), name, parentId: parent }, all);
    await tx.folders.insert(folder);
    all.set(folder.id, folder);
    parent = folder.id;
  }
  return parent;
}

async function auditImport(tx: SiteRepos, ctx: SiteContext, actor: string, file: ImportFile, r: Omit<CommitResult, 'content' | 'warnings'>, now: number): Promise<void> {
  const summary = r.objects.map((o) => `${o.key}→${o.id} ${o.action}`).join(', ');
  const tsIds = r.objects.filter((o) => o.type === 'taskSequence').map((o) => o.id);
  await audit(tx, ctx, actor, {
    action: 'taskSequence.imported',
    target: tsIds.join(',') || path.basename(file.zipPath),
    message: `Imported ${path.basename(file.zipPath)} (exported by site ${file.manifest.site.code} at ${file.manifest.exportedAt}): ${summary}`,
    details: { file: path.basename(file.zipPath), objects: r.objects, needsPasswords: r.needsPasswords.map((n) => n.id) },
    at: now,
  });
}
