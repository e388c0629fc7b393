/**
 * Boot media the engine runs from: `--media DIR` names the mounted media (a USB folder,
 * an extracted ISO). The engine opens it with `openMedia`, which refuses expired media, a wrong
 * or missing password and tampering; the opened variables, site and token then stand in for a
 * `--media-vars` file. The password comes from OSDEPLOY_MEDIA_PASSWORD or --media-password.
 */
import path from 'node:path';
import { openMedia } from '../boot-media/read.js';
import type { MediaFile } from './options.js';

/** The value of `--name VALUE` or `--name=VALUE` in argv, before full option parsing. */
export function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === name) return argv[i + 1];
    if (a.startsWith(`${name}=`)) return a.slice(name.length + 1);
  }
  return undefined;
}

export async function readMediaDir(dir: string, password: string | null, now: number): Promise<MediaFile> {
  const opened = await openMedia(path.resolve(dir), { password, now });
  const s = opened.secrets;
  return {
    variables: { ...s.variables },
    allowUnattended: s.allowUnattended,
    site: s.site,
    ...(s.token ? { token: s.token } : {}),
    mediaForm: s.mediaForm,
  };
}
