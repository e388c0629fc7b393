/**
 * Boot files and content through one source: `content/<id>/<version|latest>/<path>` is read from
 * the content library's single-instance store (so TFTP and /boot/… serve the same bytes as
 * /content/…, R-21, R-22); every other path goes to the boot-file store. Windows clients send `\`
 * and any case, so a content path matches its version's file list case-insensitively when no exact
 * match exists. No request names a path on disk: files are found through the version's list.
 */
import { open } from 'node:fs/promises';
import { pathSegments, type BootFileSource, type OpenFile } from '../tftp/file-source.js';
import type { SiteContext } from './context.js';

export class ContentBootSource implements BootFileSource {
  constructor(
    private readonly ctx: SiteContext,
    private readonly fallback: BootFileSource,
  ) {}

  async open(path: string): Promise<OpenFile | null> {
    const segments = pathSegments(path);
    if (segments[0]?.toLowerCase() !== 'content') return this.fallback.open(path);
    const [, id, ref, ...rest] = segments;
    if (!id || !ref || rest.length === 0) return null;
    const object = this.ctx.library.records.getSync(id.toUpperCase()) ?? this.ctx.library.records.getSync(id);
    if (!object || object.versions.length === 0) return null;
    const version = ref.toLowerCase() === 'latest' ? object.versions[object.versions.length - 1] : object.versions.find((v) => String(v.version) === ref);
    if (!version) return null;
    const want = rest.join('/');
    const file = version.files.find((f) => f.path === want) ?? version.files.find((f) => f.path.toLowerCase() === want.toLowerCase());
    if (!file) return null;
    const handle = await open(this.ctx.library.store.pathOf(file.sha256), 'r');
    return {
      size: file.size,
      fd: handle.fd,
      read: async (buf, position) => (await handle.read(buf, 0, buf.length, position)).bytesRead,
      close: () => handle.close(),
    };
  }
}
