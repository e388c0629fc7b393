/**
 * Export as the API and CLI call it (R-27): to a file under DATA_DIR/exports (with NAME_files
 * beside it when content is exported), or as a stream for an HTTP response. Either way the
 * export is audited with what it held; comments travel in the file, not in the audit record.
 */
import path from 'node:path';
import type { Readable } from 'node:stream';
import { invalid } from '../../../policy/errors.js';
import { audit, type SiteContext } from '../context.js';
import { hostileName } from './archive-read.js';
import { zipStream } from './archive-write.js';
import { buildExport, type ExportBundle } from './export.js';
import { filesFolderOf, writeExport, type WrittenExport } from './export-write.js';
import { dataDirOf } from './sessions.js';
import { privateDir } from '../private-files.js';

export interface ExportOptions {
  readonly taskSequenceIds: readonly string[];
  readonly includeDependencies?: boolean;
  readonly includeContent?: boolean;
  readonly comments?: string;
}

export const exportsRoot = (ctx: SiteContext): string => path.join(dataDirOf(ctx), 'exports');

/** `name.zip` → `name`; refuses names that are not one plain file name. */
export function exportName(name: string): string {
  const base = name.replace(/\.zip$/i, '');
  if (!/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/.test(base)) throw invalid('the export name must be a file name of letters, digits, space, dot, dash or underscore', 'path', 'R-27');
  return base;
}

function bundleOf(ctx: SiteContext, opts: ExportOptions, name: string): Promise<ExportBundle> {
  return buildExport(ctx, {
    taskSequenceIds: opts.taskSequenceIds,
    // The wizard's defaults: both boxes checked.
    includeDependencies: opts.includeDependencies ?? true,
    includeContent: opts.includeContent ?? true,
    comments: opts.comments ?? '',
    filesFolder: `${name}_files`,
  });
}

async function auditExport(ctx: SiteContext, actor: string, bundle: ExportBundle, where: string): Promise<void> {
  const m = bundle.manifest;
  const ts = m.objects.filter((o) => o.type === 'taskSequence').map((o) => o.key);
  await audit(ctx.store, ctx, actor, {
    action: 'taskSequence.exported',
    target: ts.join(','),
    message: `Exported task sequences ${ts.join(', ')} with ${m.objects.length - ts.length} dependencies${m.includesContent ? ' and content' : ''} to ${where}`,
    details: { objects: m.objects.map((o) => o.key), references: m.references.map((r) => r.key), includesDependencies: m.includesDependencies, includesContent: m.includesContent, where },
  });
}

/** Writes `DATA_DIR/exports/<relative>` (and its NAME_files); `relative` may name subfolders. */
export async function exportToPath(ctx: SiteContext, actor: string, opts: ExportOptions, relative: string, extra: { forceZip64?: boolean } = {}): Promise<WrittenExport & { bundle: ExportBundle }> {
  const hostile = hostileName(relative);
  if (hostile || relative.split('/').some((s) => s === '' || s === '.')) throw invalid(`path ${JSON.stringify(relative)} must be relative to ${exportsRoot(ctx)}${hostile ? `: it ${hostile}` : ''}`, 'path', 'R-27');
  const name = exportName(path.posix.basename(relative));
  const zipPath = path.join(exportsRoot(ctx), path.posix.dirname(relative), `${name}.zip`);
  const bundle = await bundleOf(ctx, opts, name);
  await privateDir(exportsRoot(ctx));
  const written = await writeExport(ctx.library.store, bundle, zipPath, extra);
  await auditExport(ctx, actor, bundle, written.zip);
  return { ...written, bundle };
}

/** The zip as a stream. With content, the caller writes NAME_files itself (the CLI fetches each file by hash). */
export async function exportToStream(ctx: SiteContext, actor: string, opts: ExportOptions, name: string): Promise<{ stream: Readable; bundle: ExportBundle; filesFolder: string | null }> {
  const base = exportName(name);
  const bundle = await bundleOf(ctx, opts, base);
  await auditExport(ctx, actor, bundle, `${base}.zip (download)`);
  const stream = zipStream(bundle.entries, { mtime: new Date(bundle.manifest.exportedAt) });
  return { stream, bundle, filesFolder: bundle.manifest.includesContent ? path.basename(filesFolderOf(`${base}.zip`)) : null };
}
