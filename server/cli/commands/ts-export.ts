/**
 * `osdeploy ts export` and `osdeploy ts import` (R-27, R-28), over the API like every admin
 * command, so they work against a remote site as well as a local one:
 *
 * - export downloads the .zip from the API and, with content, writes NAME_files beside it from
 *   GET /content/sha256/<hash> (through signed links), checking every file's sha256 as it lands;
 *   both are written under temporary names and renamed when complete.
 * - import reads and checks the .zip locally first (the same checks the server makes), uploads
 *   it for a plan, applies --action changes, and — unless --dry-run — sends NAME_files as one
 *   tar stream (only the content whose action brings files) and commits.
 */
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import tar from 'tar-stream';
import type { Command } from 'commander';
import { filesFolderOf, verifying } from '../../site/export/export-write.js';
import { missingFilesFolder } from '../../site/export/files.js';
import { readImportFile, type ImportFile } from '../../site/export/import-file.js';
import type { ApiClient } from '../api-client.js';
import { formatTable } from '../table.js';
import { CliError, enc, many, show, splitPair, verb, type Run } from '../runtime.js';

interface PlanObjectView {
  readonly key: string;
  readonly type: string;
  readonly name: string;
  readonly action: string;
  readonly allowed: readonly string[];
  readonly existing: { id: string; name: string } | null;
  readonly strippedSecrets?: readonly string[];
}

interface PlanView {
  readonly planId: string;
  readonly objects: readonly PlanObjectView[];
  readonly references: readonly { key: string; type: string; name: string; linkedTo: string | null }[];
  readonly warnings: readonly string[];
  readonly comments: string;
  readonly site: string;
  readonly exportedAt: string;
}

const partial = (p: string) => `${p}.partial-${process.pid}`;

/** Downloads every file the export lists into `dir/<key>/<path>`, verifying each. */
async function downloadFiles(api: ApiClient, file: ImportFile, dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const [key, entry] of file.content) {
    const v = entry.version;
    if (!v?.files?.length) continue;
    const links = await api.post<{ files: { sha256: string; blobUrl: string }[] }>(`/content/${enc(key)}/links`, { version: v.number });
    const bySha = new Map(links.files.map((f) => [f.sha256, new URL(f.blobUrl)]));
    for (const f of v.files) {
      const url = bySha.get(f.sha256);
      if (!url) throw new CliError(`the site no longer lists ${key}/${f.path} (sha256 ${f.sha256}); export again`);
      // The signed path and query, on the server this command talks to (the public URL may be another name).
      const res = await fetch(`${api.server}${url.pathname}${url.search}`);
      if (!res.ok || !res.body) throw new CliError(`downloading ${key}/${f.path} failed: HTTP ${res.status}`);
      const target = path.join(dir, key, ...f.path.split('/'));
      await mkdir(path.dirname(target), { recursive: true });
      await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), verifying(f.sha256, f.size, `${key}/${f.path}`), createWriteStream(target, { flags: 'wx' }));
      files++;
      bytes += f.size;
    }
  }
  return { files, bytes };
}

async function exportCommand(run: Run): Promise<void> {
  const o = run.opts;
  const out = path.resolve(String(o.out));
  if (!/\.zip$/i.test(out)) throw new CliError('--out must name a .zip file');
  const includeContent = o.content !== false && o.dependencies !== false;
  const filesDir = filesFolderOf(out);
  if (existsSync(out)) throw new CliError(`${out} already exists`);
  if (includeContent && existsSync(filesDir)) throw new CliError(`${filesDir} already exists`);
  const body = { taskSequenceIds: run.args[0] as unknown as string[], includeDependencies: o.dependencies !== false, includeContent, comments: String(o.comments ?? ''), name: path.basename(out) };
  const res = await run.api.raw('POST', '/task-sequences/export', { data: body, contentType: 'application/json' });
  const tmpZip = partial(out);
  const tmpFiles = partial(filesDir);
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(tmpZip, { flags: 'wx' }));
    const file = await readImportFile(tmpZip);
    const copied = file.manifest.includesContent ? await downloadFiles(run.api, file, tmpFiles) : { files: 0, bytes: 0 };
    if (file.manifest.includesContent) await mkdir(tmpFiles, { recursive: true }).then(() => rename(tmpFiles, filesDir));
    await rename(tmpZip, out);
    const m = file.manifest;
    show(run, { zip: out, filesFolder: m.includesContent ? filesDir : null, objects: m.objects.map(({ key, type, name }) => ({ key, type, name })), references: m.references, ...copied }, (x) =>
      [
        `exported ${x.objects.length} object(s) to ${x.zip}${x.filesFolder ? `\ncontent: ${x.files} file(s), ${x.bytes} bytes in ${x.filesFolder}` : ''}`,
        formatTable(x.objects, [
          { header: 'KEY', value: (r) => r.key },
          { header: 'TYPE', value: (r) => r.type },
          { header: 'NAME', value: (r) => r.name },
        ]),
        'step passwords are never exported: set them again after an import',
      ].join('\n'),
    );
  } catch (e) {
    await rm(tmpZip, { force: true });
    await rm(tmpFiles, { recursive: true, force: true });
    throw e;
  }
}

function planText(p: PlanView): string {
  const table = formatTable(p.objects, [
    { header: 'KEY', value: (o) => o.key },
    { header: 'TYPE', value: (o) => o.type },
    { header: 'NAME', value: (o) => o.name },
    { header: 'EXISTING', value: (o) => o.existing?.id },
    { header: 'ACTION', value: (o) => o.action },
    { header: 'ALLOWED', value: (o) => o.allowed },
  ]);
  const refs = p.references.length ? `\nreferences not in the file:\n${formatTable(p.references, [{ header: 'KEY', value: (r) => r.key }, { header: 'TYPE', value: (r) => r.type }, { header: 'NAME', value: (r) => r.name }, { header: 'LINKED TO', value: (r) => r.linkedTo }])}` : '';
  const warnings = p.warnings.map((w) => `warning: ${w}`).join('\n');
  return [`export of site ${p.site} made ${p.exportedAt}${p.comments ? `: ${p.comments}` : ''}`, table + refs, warnings].filter(Boolean).join('\n');
}

/** NAME_files/<key>/<path> for the keys given, as one tar stream; sizes are checked first. */
async function tarOfFiles(file: ImportFile, keys: readonly string[]): Promise<Readable> {
  const list = keys.flatMap((key) => (file.content.get(key)?.version?.files ?? []).map((f) => ({ key, f, local: path.join(file.filesDir!, key, ...f.path.split('/')) })));
  for (const { key, f, local } of list) {
    const s = await stat(local).catch(() => null);
    if (!s?.isFile()) throw new CliError(`${path.basename(file.filesDir!)}/${key}/${f.path} is missing`);
    if (s.size !== f.size) throw new CliError(`${path.basename(file.filesDir!)}/${key}/${f.path} is ${s.size} bytes; the export lists ${f.size}`);
  }
  const pack = tar.pack();
  (async () => {
    for (const { key, f, local } of list) await pipeline(createReadStream(local), pack.entry({ name: `${key}/${f.path}`, size: f.size }));
    pack.finalize();
  })().catch((e: unknown) => pack.destroy(e as Error));
  // tar-stream packs are streamx streams; Readable.from makes the Node stream Readable.toWeb takes.
  return Readable.from(pack);
}

async function importCommand(run: Run): Promise<void> {
  const zip = path.resolve(String(run.args[0]));
  if (!existsSync(zip)) throw new CliError(`no file ${zip}`);
  const actions = Object.fromEntries(((run.opts.action as string[] | undefined) ?? []).map(splitPair));
  const file = await readImportFile(zip);
  const upload = await run.api.raw('POST', `/task-sequences/import/plan?name=${encodeURIComponent(path.basename(zip))}`, { data: Readable.toWeb(createReadStream(zip)), contentType: 'application/zip' });
  let plan = (await upload.json()) as PlanView;
  const url = `/task-sequences/import/${plan.planId}`;
  try {
    if (Object.keys(actions).length) plan = await run.api.patch<PlanView>(url, { actions });
    const needFiles = plan.objects.filter((o) => o.type !== 'taskSequence' && o.action !== 'ignore' && (file.content.get(o.key)?.version?.files?.length ?? 0) > 0).map((o) => o.key);
    if (needFiles.length && (!file.filesDir || !existsSync(file.filesDir))) throw missingFilesFolder(file.filesDir ?? filesFolderOf(zip), zip);
    if (run.opts.dryRun) {
      await run.api.delete(url);
      return show(run, plan, (p) => `${planText(p)}\ndry run: nothing imported`);
    }
    if (needFiles.length) await run.api.raw('PUT', `${url}/files`, { data: Readable.toWeb(await tarOfFiles(file, needFiles)), contentType: 'application/x-tar' });
    const done = await run.api.post<{ objects: { key: string; type: string; name: string; action: string; id: string }[]; needsPasswords: { id: string; name: string; secrets: string[] }[]; content: { files: number } }>(`${url}/commit`, { actions });
    show(run, done, (d) =>
      [
        formatTable(d.objects, [
          { header: 'KEY', value: (o) => o.key },
          { header: 'TYPE', value: (o) => o.type },
          { header: 'NAME', value: (o) => o.name },
          { header: 'ACTION', value: (o) => o.action },
          { header: 'ID', value: (o) => o.id },
        ]),
        `imported ${d.objects.length} object(s); ${d.content.files} content file(s) stored`,
        ...d.needsPasswords.map((n) => `needs passwords: ${n.name} (${n.id}): ${n.secrets.join(', ')}; give them with osdeploy ts edit ${n.id} --ops FILE (setProperties) before deploying (R-28)`),
      ].join('\n'),
    );
  } catch (e) {
    await run.api.delete(url).catch(() => undefined);
    throw e;
  }
}

export function registerTsExport(ts: Command): void {
  verb(ts, 'export <ids...>', 'export task sequences to a .zip, with dependencies and content in NAME_files beside it (R-27); passwords are never exported', exportCommand)
    .requiredOption('--out <file>', 'the .zip to write')
    .option('--no-dependencies', 'only the task sequences, not the content they reference')
    .option('--no-content', 'the dependencies without their files')
    .option('--comments <text>', 'administrator comments');
  verb(ts, 'import <file>', 'import an export .zip (and its NAME_files): shows each object and action, then imports (R-28)', importCommand)
    .option('--action <key=action>', 'create, ignore, overwrite or new-revision for one object (repeat)', many)
    .option('--dry-run', 'show the plan and import nothing');
}
