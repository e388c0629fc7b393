/**
 * The import plan of a file against this site: each object with what already exists and
 * the proposed action (policy/export/plan.ts decides), each reference the file does not carry
 * with the local object it will link to, and warnings an administrator should read first.
 */
import path from 'node:path';
import { currentVersion } from '../../../content/model.js';
import type { ContentKind } from '../../../policy/content-refs.js';
import { planObject, withActions, type PlanObject, type SiteLookup } from '../../../policy/export/plan.js';
import type { SiteContext } from '../context.js';
import type { SiteRepos } from '../repositories.js';
import type { ImportFile } from './import-file.js';

export interface PlanEntry extends PlanObject {
  readonly dependsOn: readonly string[];
  /** Task sequences: where it goes, and the secrets to give again after the import. */
  readonly folderPath?: string;
  readonly strippedSecrets?: readonly string[];
  /** Content: how much the import copies into the content library when it brings content. */
  readonly fileCount?: number;
  readonly totalSize?: number;
}

export interface PlanReference {
  readonly key: string;
  readonly type: ContentKind;
  readonly name: string;
  /** The local object references to it will point at; null when this site has none. */
  readonly linkedTo: string | null;
}

export interface Plan {
  readonly objects: readonly PlanEntry[];
  readonly references: readonly PlanReference[];
  readonly warnings: readonly string[];
}

type LocalObject = ReturnType<SiteLookup['byId']>;

async function localObject(ctx: SiteContext, repos: SiteRepos, id: string): Promise<LocalObject> {
  const ts = await repos.taskSequences.get(id);
  if (ts) return { type: 'taskSequence', name: ts.name, manifestSha256: null };
  const c = (await repos.content.get(id)) ?? undefined;
  return c ? { type: c.kind, name: c.name, manifestSha256: currentVersion(c)?.manifestSha256 ?? null } : undefined;
}

/**
 * What the plan may ask this site about the objects `keys` of a file from `originSite`, read
 * through `repos` before planning (policy's lookup is synchronous): their import links, the
 * local objects those name and, for a file from a site with this site's code, the objects with
 * the same ids.
 */
async function siteLookup(ctx: SiteContext, repos: SiteRepos, originSite: string, keys: readonly string[]): Promise<SiteLookup> {
  const links = new Map((await repos.importLinks.ofOrigins(originSite, keys)).map((l) => [l.originId, l]));
  const ids = new Set([...links.values()].map((l) => l.localId));
  if (originSite === ctx.siteCode) for (const key of keys) ids.add(key);
  const locals = new Map<string, LocalObject>();
  for (const id of ids) locals.set(id, await localObject(ctx, repos, id));
  return {
    siteCode: ctx.siteCode,
    linked: (origin) => {
      const link = origin.siteCode === originSite ? links.get(origin.id) : undefined;
      const local = link && locals.get(link.localId);
      return link && local ? { id: link.localId, type: local.type, name: local.name } : undefined;
    },
    byId: (id) => locals.get(id),
  };
}

/**
 * Export files name each content object's source folder at the exporting site. An import never
 * uses one (content-entry.ts recordOf): say so, for the objects the import writes.
 */
function ignoredSources(file: ImportFile, objects: readonly PlanEntry[]): string | null {
  const named = objects
    .filter((o) => o.type !== 'taskSequence' && o.action !== 'ignore')
    .map((o) => ({ key: o.key, sourcePath: file.content.get(o.key)?.sourcePath ?? '' }))
    .filter((o) => o.sourcePath !== '');
  if (named.length === 0) return null;
  const shown = named.slice(0, 5).map((o) => `${o.key} ${JSON.stringify(o.sourcePath.slice(0, 200))}`);
  const more = named.length > 5 ? ` and ${named.length - 5} more` : '';
  const where = file.filesDir ? `its source here is the import path (${path.basename(file.filesDir)}/<key>)` : 'without files an object keeps the source folder this site gave it, or has none (give one with POST /content/:id/import {"sourcePath"})';
  return `source folders named in the file are ignored (${shown.join(', ')}${more}): an import never reads a folder of this host that a file names; ${where} (R-28)`;
}

/**
 * The plan with default actions, then the caller's `changes` (validated by policy). `repos` is
 * the store, or the import's transaction when the commit checks the plan again.
 */
export async function planImport(ctx: SiteContext, repos: SiteRepos, file: ImportFile, changes: Readonly<Record<string, unknown>> = {}): Promise<Plan> {
  const m = file.manifest;
  const site = await siteLookup(ctx, repos, m.site.code, [...m.objects.map((o) => o.key), ...m.references.map((r) => r.key)]);
  const origin = (key: string) => ({ siteCode: m.site.code, id: key });
  const decided = withActions(
    file.manifest.objects.map((o) => planObject(o.key, { type: o.type, name: o.name, origin: origin(o.key), ...(o.type === 'taskSequence' ? {} : { manifestSha256: o.manifestSha256 ?? null }) }, site)),
    changes,
  );
  const objects = decided.map((p, i): PlanEntry => {
    const o = file.manifest.objects[i]!;
    const v = file.content.get(o.key)?.version;
    return {
      ...p,
      dependsOn: o.dependsOn,
      ...(o.type === 'taskSequence' ? { folderPath: o.folderPath ?? '/', strippedSecrets: o.strippedSecrets ?? [] } : {}),
      ...(v && file.manifest.includesContent ? { fileCount: v.fileCount, totalSize: v.totalSize } : {}),
    };
  });
  const references = file.manifest.references.map((r): PlanReference => {
    const found = planObject(r.key, { type: r.type, name: r.name, origin: origin(r.key) }, site).existing;
    return { key: r.key, type: r.type, name: r.name, linkedTo: found?.id ?? null };
  });
  const warnings: string[] = [];
  for (const r of references)
    if (!r.linkedTo) warnings.push(`${r.type} ${r.name} (${r.key}) was exported without its object and this site has no copy of it: the task sequences that use it cannot be deployed until it exists (R-04)`);
  for (const o of objects)
    if (o.strippedSecrets?.length && o.action !== 'ignore') warnings.push(`task sequence ${o.name} (${o.key}) needs its passwords again after the import (${o.strippedSecrets.join(', ')}); until then it cannot be deployed (R-28)`);
  const named = ignoredSources(file, objects);
  if (named) warnings.push(named);
  return { objects, references, warnings };
}
