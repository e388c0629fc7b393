/**
 * Boot media the engine runs from: `--media DIR` names the mounted media (a USB folder,
 * an extracted ISO, a prestaged disk's partition). The engine opens it with `openMedia`, which
 * refuses expired media, a wrong or missing password and tampering; the opened variables, site
 * and token then stand in for a `--media-vars` file. The password comes from
 * OSDEPLOY_MEDIA_PASSWORD or --media-password.
 *
 * Standalone and prestaged media also carry the policy (the deployment's task sequence, its
 * variables and built-ins) and every content object it references: those are read here into a
 * `StandaloneMedia`, which the engine runs with no network at all (standalone.ts). Their
 * osdeploy/content.json must match the content list the policy carries (sealed with the
 * password, when there is one): a list rewritten to fit a swapped blob refuses the media
 * before anything runs (content/media-fetcher.ts checkContentList).
 */
import path from 'node:path';
import type { Item } from '../../policy/task-sequences/model.js';
import { openMedia, type OpenedMedia } from '../boot-media/read.js';
import { policyContentOf } from '../boot-media/content-list.js';
import { MediaError, type MediaContentEntry, type MediaPolicyContent, type PolicyVariable } from '../boot-media/model.js';
import { checkContentList } from './content/media-fetcher.js';
import type { Program } from './content/policy.js';
import type { MediaFile } from './options.js';

/** The media's policy, checked: what a standalone run needs from it. */
export interface MediaRunPolicy {
  readonly deploymentId: string;
  readonly taskSequenceId: string;
  readonly taskSequenceName: string;
  readonly purpose: 'available' | 'required';
  /** Made available to media and PXE (hidden): it runs only unattended. */
  readonly hidden: boolean;
  readonly builtIns: Readonly<Record<string, string>>;
  readonly taskSequence: { readonly id: string; readonly name: string; readonly items: readonly Item[] };
  readonly variables: readonly PolicyVariable[];
  /** Each package's programs by content id (Install Package runs one by name). */
  readonly programs: Readonly<Record<string, readonly Program[]>>;
  /** The content the build staged, as the policy names it; null on media built before the list was added. */
  readonly content: readonly MediaPolicyContent[] | null;
}

export interface StandaloneMedia {
  /** The mounted media's folder. */
  readonly root: string;
  readonly mediaId: string;
  readonly type: 'standalone' | 'prestaged';
  /** The policy came from a password-sealed variables file. */
  readonly sealed: boolean;
  readonly policy: MediaRunPolicy;
  /** osdeploy/content.json: every content object on the media, its files by sha256 (checked against policy.content). */
  readonly content: readonly MediaContentEntry[];
  /** What the check of content.json against the policy found, for the run's log. */
  readonly contentCheck: string;
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The shape the runner relies on; a media whose tree is not a task sequence is refused before anything runs. */
function itemProblem(x: unknown, where: string): string | null {
  if (!isObj(x)) return `${where} is not an item`;
  if (typeof x.id !== 'string' || typeof x.name !== 'string') return `${where} has no id or name`;
  if (x.condition !== null && x.condition !== undefined && !isObj(x.condition)) return `${where} has a bad condition`;
  if (x.kind === 'step') return typeof x.type === 'string' && isObj(x.properties) ? null : `${where} (${x.id}) has no type or properties`;
  if (x.kind !== 'group' || !Array.isArray(x.children)) return `${where} (${x.id}) is neither a step nor a group`;
  for (const [i, c] of x.children.entries()) {
    const p = itemProblem(c, `${where}.children[${i}]`);
    if (p) return p;
  }
  return null;
}

function programsOf(raw: unknown): Record<string, readonly Program[]> {
  if (!isObj(raw)) return {};
  const out: Record<string, readonly Program[]> = {};
  for (const [id, list] of Object.entries(raw)) {
    if (Array.isArray(list)) out[id] = list.filter((p): p is Program => isObj(p) && typeof p.name === 'string' && typeof p.commandLine === 'string');
  }
  return out;
}

/** The policy of standalone or prestaged media, or a clear refusal naming what is wrong with it. */
export function checkMediaPolicy(raw: unknown, mediaId: string): MediaRunPolicy {
  const bad = (why: string) => new MediaError('invalid', `media ${mediaId}: its policy cannot run: ${why}`);
  if (!isObj(raw)) throw bad('there is none');
  const ts = raw.taskSequence;
  for (const k of ['deploymentId', 'taskSequenceId', 'taskSequenceName'] as const) if (typeof raw[k] !== 'string') throw bad(`${k} is missing`);
  if (!isObj(ts) || typeof ts.id !== 'string' || typeof ts.name !== 'string' || !Array.isArray(ts.items)) throw bad('the task sequence is missing');
  for (const [i, item] of ts.items.entries()) {
    const p = itemProblem(item, `items[${i}]`);
    if (p) throw bad(p);
  }
  const variables = Array.isArray(raw.variables) ? raw.variables.filter((v): v is PolicyVariable => isObj(v) && typeof v.name === 'string') : [];
  const builtIns = isObj(raw.builtIns) ? (Object.fromEntries(Object.entries(raw.builtIns).filter(([, v]) => typeof v === 'string')) as Record<string, string>) : {};
  return {
    deploymentId: raw.deploymentId as string,
    taskSequenceId: raw.taskSequenceId as string,
    taskSequenceName: raw.taskSequenceName as string,
    purpose: raw.purpose === 'required' ? 'required' : 'available',
    hidden: raw.hidden === true,
    builtIns,
    taskSequence: { id: ts.id, name: ts.name, items: ts.items as Item[] },
    variables,
    programs: programsOf(raw.programs),
    content: policyContentOf(raw.content, bad),
  };
}

/** Standalone or prestaged media with a policy; null for bootable media (they ask their site). */
export function standaloneOf(opened: OpenedMedia, root: string): StandaloneMedia | null {
  const { header, secrets } = opened;
  if (header.type === 'bootable') return null;
  if (!secrets.policy) throw new MediaError('invalid', `${header.type} media ${header.id} carries no policy to run; build it again`);
  const media = { root, mediaId: header.id, type: header.type, sealed: opened.sealed, policy: checkMediaPolicy(secrets.policy, header.id), content: opened.content };
  // A content list that does not match the policy's refuses the media here, before anything runs.
  return { ...media, contentCheck: checkContentList(media) };
}

export async function readMediaDir(dir: string, password: string | null, now: number): Promise<MediaFile> {
  const root = path.resolve(dir);
  const opened = await openMedia(root, { password, now });
  const s = opened.secrets;
  const standalone = standaloneOf(opened, root);
  return {
    variables: { ...s.variables },
    allowUnattended: s.allowUnattended,
    ...(s.site ? { site: s.site } : {}),
    ...(s.token ? { token: s.token } : {}),
    mediaForm: s.mediaForm,
    ...(standalone ? { standalone } : {}),
  };
}
