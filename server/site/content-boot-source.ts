/**
 * What the public boot routes serve — TFTP and `/boot/…` over HTTP, to anyone on the network,
 * without a token. Both read through this one source:
 *
 * - `content/<id>/<version|latest>/<path>` is read from the content library's single-instance
 *   store (the same bytes as /content/…), but only when it is a network boot file some boot image
 *   declares (`boot` on its record: kernel and initrds, or wim, BCD and boot.sdi). Any other
 *   content — packages, OS images, a boot image's other files — needs a token or a signed URL at
 *   /content/… (server/http/routes/content.ts). A refused path answers as a missing one does
 *   (404, TFTP "file not found"), so the routes do not tell which content exists.
 * - every other path goes to the boot-file store (iPXE binaries, wimboot, what an administrator
 *   put there), except the store's bookkeeping: `manifest.json` (it records the host folders the
 *   files were imported from) and dot-files (copies being imported).
 *
 * Windows clients send `\` and any case, so a content path matches its version's file list
 * case-insensitively when no exact match exists. No request names a path on disk: files are
 * found through the version's list.
 */
import { open } from 'node:fs/promises';
import type { ContentObject, ContentVersion, VersionFile } from '../../content/model.js';
import { bootFilePathProblem, declaredBootPaths } from '../../policy/boot-file-paths.js';
import { pathSegments, type BootFileSource, type OpenFile } from '../tftp/file-source.js';
import type { SiteContext } from './context.js';

interface ContentFile {
  readonly object: ContentObject;
  readonly version: ContentVersion;
  readonly file: VersionFile;
}

const versionOf = (object: ContentObject, ref: string): ContentVersion | undefined =>
  ref.toLowerCase() === 'latest' ? object.versions[object.versions.length - 1] : object.versions.find((v) => String(v.version) === ref);

const fileOf = (version: ContentVersion, want: string): VersionFile | undefined =>
  version.files.find((f) => f.path === want) ?? version.files.find((f) => f.path.toLowerCase() === want.toLowerCase());

/** Ids are upper-case here, but a Windows client may send any case. */
const sameId = (asked: string, id: string): boolean => asked === id || asked.toUpperCase() === id;

/** The boot-file store's own files, never served: its manifest and files whose name starts with a dot. */
export function isBootStoreBookkeeping(segments: readonly string[]): boolean {
  return (segments.length === 1 && segments[0]!.toLowerCase() === 'manifest.json') || segments.some((s) => s.startsWith('.'));
}

export class ContentBootSource implements BootFileSource {
  constructor(
    private readonly ctx: SiteContext,
    private readonly fallback: BootFileSource,
  ) {}

  async open(path: string): Promise<OpenFile | null> {
    const segments = pathSegments(path);
    if (segments[0]?.toLowerCase() !== 'content') return isBootStoreBookkeeping(segments) ? null : this.fallback.open(path);
    const target = await this.resolve(segments.slice(1));
    if (!target) return null;
    if (!this.declared(target)) {
      this.ctx.log.debug({ path: segments.join('/').slice(0, 300) }, 'boot: not a declared boot file of any boot image; content needs a token or a signed URL');
      return null;
    }
    const handle = await open(this.ctx.library.store.pathOf(target.file.sha256), 'r');
    return {
      size: target.file.size,
      fd: handle.fd,
      read: async (buf, position) => (await handle.read(buf, 0, buf.length, position)).bytesRead,
      close: () => handle.close(),
    };
  }

  /** `<id>/<version|latest>/<path>` → the file of the version, or null. */
  private async resolve([id, ref, ...rest]: readonly string[]): Promise<ContentFile | null> {
    if (!id || !ref || rest.length === 0) return null;
    const records = this.ctx.store.content;
    const object = (await records.get(id.toUpperCase())) ?? (id === id.toUpperCase() ? null : await records.get(id));
    const version = object && versionOf(object, ref);
    const file = version && fileOf(version, rest.join('/'));
    return object && version && file ? { object, version, file } : null;
  }

  /**
   * Whether a boot image declares exactly this file: a declared `content/…` path that resolves
   * to the same object, version and file (so `latest` and the current version's number both
   * match, as Windows and iPXE clients ask for either).
   */
  private declared(target: ContentFile): boolean {
    for (const info of this.ctx.snapshot.bootImageInfos()) {
      if (!info.boot) continue;
      for (const [, declared] of declaredBootPaths(info.boot)) {
        if (bootFilePathProblem(declared) !== null) continue;
        const [root, id, ref, ...rest] = declared.split('/');
        if (root?.toLowerCase() !== 'content' || !id || !ref || rest.length === 0 || !sameId(id, target.object.id)) continue;
        const version = versionOf(target.object, ref);
        if (version && version.version === target.version.version && fileOf(version, rest.join('/'))?.path === target.file.path) return true;
      }
    }
    return false;
  }
}
