/**
 * The import plan of a file against this site: each object with what already exists and
 * the proposed action (policy/export/plan.ts decides), each reference the file does not carry
 * with the local object it will link to, and warnings an administrator should read first.
 */
import path from 'node:path';
import { currentVersion } from '../../../content/model.js';
import type { ContentKind } from '../../../policy/content-refs.js';
import { planObject, withActions, type ExportedType, type PlanObject, type SiteLookup } from '../../../policy/export/plan.js';
import type { TaskSequence } from '../../../policy/task-sequences/model.js';
import { getDoc } from '../../store/docs.js';
import { getImportLink } from '../../store/import-links.js';
import type { SiteContext } from '../context.js';
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

function localObject(ctx: SiteContext, id: string): { type: ExportedType; name: string; manifestSha256: string | null } | undefined {
  const ts = getDoc<TaskSequence>(ctx.db, 'task_sequences', id);
  if (ts) return { type: 'taskSequence', name: ts.name, manifestSha256: null };
  const c = ctx.library.records.getSync(id);
  return c ? { type: c.kind, name: c.name, manifestSha256: currentVersion(c)?.manifestSha256 ?? null } : undefined;
}

export function siteLookup(ctx: SiteContext): SiteLookup {
  return {
    siteCode: ctx.siteCode,
    linked: (origin) => {
      const link = getImportLink(ctx.db, origin.siteCode, origin.id);
      const local = link && localObject(ctx, link.localId);
      return link && local ? { id: link.localId, type: local.type, name: local.name } : undefined;
    },
    byId: (id) => localObject(ctx, id),
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

/** The plan with default actions, then the caller's `changes` (validated by policy). */
export function planImport(ctx: SiteContext, file: ImportFile, changes: Readonly<Record<string, unknown>> = {}): Plan {
  const site = siteLookup(ctx);
  const origin = (key: string) => ({ siteCode: file.manifest.site.code, id: key });
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
