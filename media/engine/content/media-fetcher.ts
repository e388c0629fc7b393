/**
 * Content from standalone and prestaged media (R-25): no distribution point, no network.
 * osdeploy/content.json lists each content object's files by sha256; a file is read from
 * `content/<sha256>` on the media (the prestaged OS image from `os/<path>`), copied into the
 * step's folder while it is hashed, and kept only when its sha256 and size match. A blob that
 * is missing or altered fails the step that needs it with a message naming the file and the
 * hash — never a silent partial copy. A file already in place with the right hash is not copied
 * again, so a step re-run after a restart or a crash resumes cheaply.
 *
 * content.json itself is not covered by the media password, so it is checked against the
 * content list the policy carries (MediaPolicy.content, written by the build from what it
 * staged and sealed with the variables): the same objects, versions, kinds, places and file
 * lists (by the hash of each list, which binds every file's sha256 and size). A mismatch
 * refuses the media before anything runs (checkContentList, called when the media are opened)
 * and any fetch of an object that differs (the fetcher checks again): a blob swapped together
 * with a rewritten content.json is caught. On media without a password the same check catches
 * accidental damage only: whoever can rewrite content.json can rewrite the plain policy too.
 */
import { createReadStream, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { contentListProblems, entryProblems, manifestHash } from '../../boot-media/content-list.js';
import { LAYOUT, MediaError, type MediaContentEntry } from '../../boot-media/model.js';
import type { StandaloneMedia } from '../media.js';
import { ContentFetchError, copyHashed, present, safeJoin, type ContentFetcher, type FetchResult, type Manifest } from './fetcher.js';
import type { ContentFile, ContentItem, ContentPolicy } from './policy.js';

/** The comparison itself is media/boot-media/content-list.ts (`osdeploy media inspect` runs it too). */
export { contentListProblems, entryProblems };

const SHA256 = /^[0-9a-f]{64}$/;

/** The content section of a run from media: what content.json lists, with the policy's programs. */
export function mediaContentPolicy(media: StandaloneMedia): ContentPolicy {
  return {
    option: 'fromMedia',
    onMedia: true,
    items: media.content.map((e): ContentItem => {
      const programs = media.policy.programs[e.id];
      return {
        id: e.id,
        kind: e.kind,
        // An object with no source files goes on media with version null and no files.
        version: e.version ?? 0,
        manifestSha256: e.manifestSha256,
        locations: [],
        files: e.files.map(({ path: p, sha256, size }) => ({ path: p, sha256: String(sha256).toLowerCase(), size })),
        ...(programs ? { programs } : {}),
      };
    }),
  };
}

const policyName = (sealed: boolean): string => (sealed ? 'the sealed policy' : "the media's policy (osdeploy/variables.json, not sealed: this catches damage, not tampering)");

/**
 * Checks content.json against the policy's content list when the media are opened: returns a
 * line for the run's log, or refuses the media (`tampered`) naming every difference.
 */
export function checkContentList(media: Pick<StandaloneMedia, 'mediaId' | 'sealed' | 'content'> & { readonly policy: Pick<StandaloneMedia['policy'], 'content'> }): string {
  const sealed = media.policy.content;
  if (sealed === null) return `${LAYOUT.content} of media ${media.mediaId}: the policy names no content list (media built before it was added); each object is checked only against its own manifest hash. Build the media again to bind the content to the ${media.sealed ? 'password' : 'policy'}`;
  const problems = contentListProblems(media.content, sealed);
  if (problems.length > 0) {
    const shown = problems.slice(0, 6).join('; ');
    throw new MediaError('tampered', `${LAYOUT.content} on the media does not match ${policyName(media.sealed)}: ${shown}${problems.length > 6 ? `; and ${problems.length - 6} more` : ''}`);
  }
  return `${LAYOUT.content} of media ${media.mediaId} matches ${media.sealed ? 'the sealed policy' : "the media's policy"}: ${sealed.length} content object(s)`;
}

/** Where a content file is on the media, '/'-separated from its root; anything that could leave the media is refused. */
export function mediaPathOf(entry: Pick<MediaContentEntry, 'root'>, f: ContentFile): string {
  if (entry.root === 'os') {
    const parts = f.path.split('/');
    if (f.path.includes('\0') || f.path.includes('\\') || parts.some((s) => s === '' || s === '.' || s === '..')) throw new ContentFetchError(`refusing media path ${JSON.stringify(f.path)}: it would leave ${LAYOUT.osImage}/`);
    return `${LAYOUT.osImage}/${f.path}`;
  }
  if (!SHA256.test(f.sha256)) throw new ContentFetchError(`file ${f.path} names no sha256 blob (${JSON.stringify(f.sha256.slice(0, 80))})`);
  return `${LAYOUT.blobs}/${f.sha256}`;
}

/** Copies `src` to `target` through a hash; the target appears only when every byte matched. */
async function copyVerified(src: string, target: string, f: ContentFile, rel: string, what: string): Promise<number> {
  try {
    if (!statSync(src).isFile()) throw new Error('not a file');
  } catch {
    throw new ContentFetchError(`${what}: ${rel} is missing from the media`);
  }
  const partial = `${target}.partial`;
  try {
    const { sha256: got, size } = await copyHashed(createReadStream(src), partial);
    if (got !== f.sha256) throw new ContentFetchError(`${what}: ${rel} on the media is damaged (sha256 ${got}, expected ${f.sha256})`);
    if (f.size >= 0 && size !== f.size) throw new ContentFetchError(`${what}: ${rel} on the media is damaged (${size} bytes, expected ${f.size})`);
    renameSync(partial, target);
    return size;
  } catch (e) {
    rmSync(partial, { force: true });
    if (e instanceof ContentFetchError) throw e;
    throw new ContentFetchError(`${what}: ${rel} could not be read from the media (${(e as Error).message})`);
  }
}

export class MediaContentFetcher implements ContentFetcher {
  /** `media` is null when a run that began from media resumes without it: every fetch then says so. */
  constructor(
    private readonly media: StandaloneMedia | null,
    private readonly log: (line: string) => void = () => {},
  ) {}

  async manifest(item: ContentItem): Promise<Manifest> {
    const files = item.files ?? [];
    // content.json records each object's manifest hash beside its files: a list edited on the media no longer matches.
    if (item.manifestSha256 && manifestHash(files) !== item.manifestSha256)
      throw new ContentFetchError(`the file list of ${item.id} version ${item.version} on the media does not match its manifest hash ${item.manifestSha256} (${LAYOUT.content} was changed)`);
    return { files, programs: item.programs ?? [] };
  }

  async fetch(item: ContentItem, dest: string): Promise<FetchResult> {
    const { media, entry } = this.entryOf(item);
    const { files } = await this.manifest(item);
    let bytes = 0;
    const sources: string[] = [];
    for (const f of files) {
      const target = safeJoin(dest, f.path);
      if (await present(target, f)) continue;
      const rel = mediaPathOf(entry, f);
      mkdirSync(path.dirname(target), { recursive: true });
      bytes += await copyVerified(path.join(media.root, ...rel.split('/')), target, f, rel, `content ${item.id} version ${item.version} file ${f.path}`);
      sources.push(`${f.path} from the media (${rel})`);
    }
    this.log(`content: ${item.id} v${item.version}: ${files.length} file(s) verified from the media ${media.mediaId}, ${bytes} byte(s) copied`);
    return { files: files.length, bytes, sources };
  }

  private entryOf(item: ContentItem): { media: StandaloneMedia; entry: MediaContentEntry } {
    const media = this.media;
    if (!media) throw new ContentFetchError(`content ${item.id} is on the standalone media this run started from; start the engine again with --media DIR`);
    const entry = media.content.find((c) => c.id === item.id);
    if (!entry) throw new ContentFetchError(`content ${item.id} is not on the media at ${media.root} (${LAYOUT.content} does not list it)`);
    if ((entry.version ?? 0) !== item.version)
      throw new ContentFetchError(`the media at ${media.root} holds version ${entry.version ?? 0} of ${item.id}, but this run started with version ${item.version}: start it with the media it began from`);
    const sealed = media.policy.content;
    if (sealed !== null) {
      const s = sealed.find((x) => x.id === item.id);
      const problems = s ? entryProblems(entry, s) : [`content ${item.id} is listed but the policy does not name it`];
      if (problems.length > 0) throw new ContentFetchError(`${LAYOUT.content} on the media does not match ${policyName(media.sealed)}: ${problems.join('; ')}`);
    }
    return { media, entry };
  }
}
