/**
 * Content objects as policy sees them: kind, name, usability, dependencies, the
 * run-from-distribution-point flag. The content library (files, versions, distribution)
 * builds on these records; until then they are registered through the API.
 */
import { contentIndexOf, CONTENT_KINDS, type ContentIndex, type ContentInfo, type ContentKind } from '../../policy/content-refs.js';
import { conflict, invalid, notFound } from '../../policy/errors.js';
import { normalizeName } from '../../policy/normalize.js';
import type { TaskSequence } from '../../policy/task-sequences/model.js';
import { directReferences } from '../../policy/task-sequences/references.js';
import { nextCounter } from '../store/db.js';
import { allDocs, deleteRow, getDoc, putDoc } from '../store/docs.js';
import { write, writeAudit, type SiteContext } from './context.js';

export interface ContentInput {
  readonly kind: ContentKind;
  readonly name: string;
  readonly usable?: boolean;
  readonly unusableReason?: string;
  readonly dependencies?: readonly string[];
  readonly allowRunFromDistributionPoint?: boolean;
  readonly architecture?: 'x86' | 'x64' | 'arm64';
}

/** Package ids share one counter with task sequences, as Configuration Manager's package ids do. */
export const nextPackageId = (ctx: SiteContext): string => `${ctx.siteCode}${nextCounter(ctx.db, 'package').toString(16).toUpperCase().padStart(5, '0')}`;

function toInfo(id: string, input: ContentInput): ContentInfo {
  if (!CONTENT_KINDS.includes(input.kind)) throw invalid(`kind must be one of ${CONTENT_KINDS.join(', ')}`, 'kind');
  return {
    kind: input.kind,
    id,
    name: normalizeName(String(input.name ?? '')),
    usable: input.usable ?? true,
    ...(input.unusableReason ? { unusableReason: input.unusableReason } : {}),
    dependencies: [...new Set(input.dependencies ?? [])],
    allowRunFromDistributionPoint: input.allowRunFromDistributionPoint ?? false,
    ...(input.architecture ? { architecture: input.architecture } : {}),
  };
}

export function createContent(ctx: SiteContext, actor: string, input: ContentInput): ContentInfo {
  return write(ctx, () => {
    const info = toInfo(nextPackageId(ctx), input);
    for (const dep of info.dependencies ?? []) if (!getDoc(ctx.db, 'content', dep)) throw notFound(`dependency ${dep} does not exist`, 'dependencies');
    putDoc(ctx.db, 'content', info.id, { kind: info.kind, name: info.name }, info);
    writeAudit(ctx, actor, { action: 'content.created', target: info.id, message: `${info.kind} ${info.name} (${info.id}) created`, details: {} });
    return info;
  });
}

export function updateContent(ctx: SiteContext, actor: string, id: string, patch: Partial<ContentInput>): ContentInfo {
  return write(ctx, () => {
    const current = getContent(ctx, id);
    if (patch.kind && patch.kind !== current.kind) throw invalid('the kind of a content object cannot change', 'kind');
    const info = toInfo(id, { ...current, ...patch, kind: current.kind } as ContentInput);
    putDoc(ctx.db, 'content', id, { kind: info.kind, name: info.name }, info);
    writeAudit(ctx, actor, { action: 'content.updated', target: id, message: `${info.kind} ${info.name} (${id}) updated`, details: { fields: Object.keys(patch) } });
    return info;
  });
}

export function getContent(ctx: SiteContext, id: string): ContentInfo {
  const c = getDoc<ContentInfo>(ctx.db, 'content', id);
  if (!c) throw notFound(`no content ${id}`, 'id');
  return c;
}

export const listContent = (ctx: SiteContext): ContentInfo[] => allDocs<ContentInfo>(ctx.db, 'content');

export const contentIndex = (ctx: SiteContext): ContentIndex => ({ get: (id) => getDoc<ContentInfo>(ctx.db, 'content', id) });

export function deleteContent(ctx: SiteContext, actor: string, id: string): void {
  write(ctx, () => {
    const c = getContent(ctx, id);
    const users = allDocs<TaskSequence>(ctx.db, 'task_sequences').filter((ts) => directReferences(ts).some((r) => r.id === id));
    if (users.length) throw conflict(`${c.name} (${id}) is referenced by task sequences ${users.map((t) => t.id).join(', ')}`, 'id');
    const dependents = listContent(ctx).filter((o) => o.dependencies?.includes(id));
    if (dependents.length) throw conflict(`${c.name} (${id}) is a dependency of ${dependents.map((d) => d.id).join(', ')}`, 'id');
    deleteRow(ctx.db, 'content', id);
    writeAudit(ctx, actor, { action: 'content.deleted', target: id, message: `${c.kind} ${c.name} (${id}) deleted`, details: {} });
  });
}

export { contentIndexOf };
