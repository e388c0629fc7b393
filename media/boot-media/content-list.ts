/**
 * osdeploy/content.json against the policy's content list (MediaPolicy.content): the pure
 * comparison the engine runs when it opens standalone or prestaged media (and again on every
 * fetch from them) and `osdeploy media inspect` runs when it reads media back. content.json is
 * not covered by the media password; the list in the policy is (when there is one), and it binds
 * each object's id, kind, version, place and file list (by the hash of that list, which binds
 * every file's path, sha256 and size). No I/O here.
 */
import { createHash } from 'node:crypto';
import type { ContentFileRef, MediaContentEntry, MediaPolicyContent } from './model.js';

/**
 * The manifest hash as the content library defines it: JSON of the files sorted by path in
 * code-unit order, keys path, sha256, size, no whitespace.
 */
export function manifestHash(files: readonly ContentFileRef[]): string {
  const sorted = files.map(({ path, sha256, size }) => ({ path, sha256, size })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

/** The hash of an entry's file list as the engine's fetcher uses it (sha256 lower-cased). */
function listedFilesSha256(entry: MediaContentEntry): string | null {
  if (!Array.isArray(entry.files)) return null;
  return manifestHash(entry.files.map(({ path: p, sha256, size }) => ({ path: p, sha256: String(sha256).toLowerCase(), size })));
}

/** How one content.json entry differs from its sealed counterpart; empty when they agree. */
export function entryProblems(entry: MediaContentEntry, sealed: MediaPolicyContent): string[] {
  const out: string[] = [];
  const id = `content ${sealed.id}`;
  if ((entry.version ?? null) !== sealed.version) out.push(`${id}: version ${entry.version ?? 'none'}, sealed ${sealed.version ?? 'none'}`);
  if (entry.kind !== sealed.kind) out.push(`${id}: kind ${entry.kind}, sealed ${sealed.kind}`);
  if (entry.root !== sealed.root) out.push(`${id}: under ${entry.root}/, sealed under ${sealed.root}/`);
  const files = listedFilesSha256(entry);
  if (files === null) out.push(`${id}: no file list`);
  else if (files !== sealed.filesSha256) out.push(`${id}: its file list hashes to ${files}, sealed ${sealed.filesSha256} (a file was added, removed or given another hash or size)`);
  if (entry.manifestSha256 !== null && entry.manifestSha256 !== undefined && String(entry.manifestSha256).toLowerCase() !== sealed.filesSha256)
    out.push(`${id}: manifest hash ${entry.manifestSha256}, sealed ${sealed.filesSha256}`);
  return out;
}

/** Every difference between content.json and the policy's list: objects missing, extra, listed twice, or changed. */
export function contentListProblems(listed: readonly MediaContentEntry[], sealed: readonly MediaPolicyContent[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const e of listed) {
    if (!isEntry(e)) {
      out.push(`an entry with no id: ${String(JSON.stringify(e)).slice(0, 80)}`);
      continue;
    }
    const id = e.id;
    if (seen.has(id)) out.push(`content ${id} is listed twice`);
    seen.add(id);
    const s = sealed.find((x) => x.id === id);
    if (!s) out.push(`content ${id} is listed but the policy does not name it`);
    else out.push(...entryProblems(e, s));
  }
  for (const s of sealed) if (!seen.has(s.id)) out.push(`content ${s.id} version ${s.version ?? 'none'} is named by the policy but not listed`);
  return out;
}

const isEntry = (e: unknown): e is MediaContentEntry => typeof e === 'object' && e !== null && typeof (e as { id?: unknown }).id === 'string';

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const SHA256 = /^[0-9a-f]{64}$/;

/**
 * The policy's content list as written by the build: null when it has none (media built before
 * it was added), else every entry checked; a malformed list is refused through `bad(why)`.
 */
export function policyContentOf(raw: unknown, bad: (why: string) => Error): MediaPolicyContent[] | null {
  if (raw === undefined) return null;
  if (!Array.isArray(raw)) throw bad('its content list is not a list');
  return raw.map((x, i): MediaPolicyContent => {
    const ok = isObj(x) && typeof x.id === 'string' && typeof x.kind === 'string' && (x.version === null || typeof x.version === 'number')
      && (x.root === 'content' || x.root === 'os') && typeof x.filesSha256 === 'string' && SHA256.test(x.filesSha256);
    if (!ok) throw bad(`content[${i}] of its content list is malformed`);
    return { id: x.id as string, kind: x.kind as string, version: x.version as number | null, root: x.root as 'content' | 'os', filesSha256: x.filesSha256 as string };
  });
}
