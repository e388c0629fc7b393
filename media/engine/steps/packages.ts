/**
 * Content steps: Download Package Content, Install Package and Apply Driver Package,
 * and `fetchContent`, which every step that names content uses. Content is downloaded as the
 * step needs it (the Linux engine's way of "download content as needed"), each file's hash
 * verified by the fetcher, into the task sequence cache unless the step says where. A run from
 * standalone media reads the same way from the media (content/media-fetcher.ts).
 */
import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { StepItem } from '../../../policy/task-sequences/model.js';
import { contentItem, type ContentFile, type ContentItem } from '../content/policy.js';
import { runProcess } from './process.js';
import { fail, flag, list, ok, text, underRoot, type StepEnv, type StepHandler } from './types.js';

export class ContentUnavailable extends Error {}

/** The content object's manifest from the policy, or why it cannot be had. */
export function contentOf(env: StepEnv, id: string): ContentItem {
  if (!env.content) throw new ContentUnavailable(`content ${id} cannot be downloaded: the policy has no content section (no distribution point for this deployment)`);
  const item = contentItem(env.content, id);
  if (!item && env.content.onMedia) throw new ContentUnavailable(`content ${id} is not on the media this task sequence runs from (osdeploy/content.json does not list it); build the media again`);
  if (!item) throw new ContentUnavailable(`content ${id} is not in this deployment's content policy (not distributed?)`);
  if (!env.fetcher) throw new ContentUnavailable(`content ${id} cannot be downloaded: no distribution point`);
  return item;
}

export interface Fetched {
  readonly dir: string;
  readonly item: ContentItem;
  readonly files: readonly ContentFile[];
  readonly note: string;
}

/** Downloads (or finds, already verified) a content object's files into `dest`, default the cache. */
export async function fetchContent(env: StepEnv, id: string, dest = path.join(env.cacheDir, id)): Promise<Fetched> {
  const item = contentOf(env, id);
  const r = await env.fetcher!.fetch(item, dest);
  const { files } = await env.fetcher!.manifest(item);
  const how = env.content?.onMedia ? 'verified and copied from the media' : 'downloaded';
  return { dir: dest, item, files, note: `${id} v${item.version}: ${r.files} file(s), ${r.bytes} byte(s) ${how} into ${dest}` };
}

function destinationOf(step: StepItem, env: StepEnv, id: string): string {
  switch (step.properties.destination) {
    case 'customPath': {
      const custom = text(step, env, 'customPath');
      if (!custom) throw new Error('destination customPath needs a custom path');
      // "The package id is appended" (step catalog); a relative path lands under the root.
      return path.join(path.isAbsolute(custom) ? custom : underRoot(env, custom), id);
    }
    case 'clientCache':
      return path.join(env.root, 'osdeploy', 'ccmcache', id);
    default:
      return path.join(env.cacheDir, id);
  }
}

export const downloadPackageContent: StepHandler = async (step, env) => {
  const ids = list<string>(step, 'packageIds');
  const base = text(step, env, 'saveLocationVariable');
  const keepGoing = flag(step, 'continueOnDownloadError', false);
  const notes: string[] = [];
  const errors: string[] = [];
  for (const [i, id] of ids.entries()) {
    try {
      const { dir, note } = await fetchContent(env, id, destinationOf(step, env, id));
      notes.push(note);
      // Base name plus 01, 02… in package order, as Configuration Manager names them.
      if (base) env.vars.set(`${base}${String(i + 1).padStart(2, '0')}`, dir);
    } catch (e) {
      errors.push((e as Error).message);
      if (!keepGoing) break;
    }
  }
  const output = [...notes, ...errors].join('\n');
  return errors.length ? fail(errors.join('; '), { output }) : ok(`${ids.length} package(s) downloaded`, { output });
};

/** Runs a package program's command line with /bin/sh in the downloaded package folder. */
export const installPackage: StepHandler = async (step, env) => {
  const id = text(step, env, 'packageId')!;
  const programName = text(step, env, 'programName')!;
  const { programs } = await env.fetcher!.manifest(contentOf(env, id));
  const program = programs.find((p) => p.name.toLowerCase() === programName.toLowerCase());
  if (!program) {
    const names = programs.map((p) => p.name).join(', ') || 'none';
    return fail(`package ${id} has no program named ${programName} (programs: ${names})`);
  }
  const { dir, note } = await fetchContent(env, id);
  const r = await runProcess('/bin/sh', ['-c', env.vars.expand(program.commandLine)], { cwd: dir, env: { ...process.env, OSDEPLOY_ROOT: env.root } });
  if (r.spawnError) return fail(`could not start /bin/sh: ${r.spawnError}`);
  const output = `${note}\n${r.output}`;
  if (r.exitCode === 0) return ok(`program ${program.name} of ${id} succeeded`, { exitCode: 0, output });
  if (r.exitCode === 3010 || r.exitCode === (3010 & 0xff)) return ok(`program ${program.name} of ${id} succeeded and asks for a restart`, { exitCode: 3010, output, restart: true });
  return fail(`program ${program.name} of ${id} exited with ${r.exitCode}`, { exitCode: r.exitCode, output });
};

/** Makes the driver package's files available to the installed OS: `<root>/drivers/<id>`. */
export const applyDriverPackage: StepHandler = async (step, env) => {
  const id = text(step, env, 'driverPackageId')!;
  const { dir, note } = await fetchContent(env, id);
  const target = path.join(env.root, 'drivers', id);
  mkdirSync(target, { recursive: true });
  cpSync(dir, target, { recursive: true, filter: (src) => !src.endsWith('.partial') });
  return ok(`driver package ${id} copied into ${target}`, { output: note });
};
