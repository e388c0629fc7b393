/**
 * The media a start of the engine runs from (R-20, R-25), before its options are read:
 *
 * - `--media DIR`: that folder.
 * - Else, in boot mode without `--media-vars`, the media the kernel command line names with
 *   `osdeploy.media=<id>` (the media's GRUB puts it there; the boot image's init starts the
 *   engine with no media flags): found by find-media.ts, then opened exactly like `--media DIR`
 *   — password from OSDEPLOY_MEDIA_PASSWORD or --media-password, expiry, tampering and the
 *   content list checked, standalone and prestaged media run offline.
 * - When that media cannot be found, the engine still runs online if the command line says
 *   enough: `osdeploy.site=`, a client token (--token, OSDEPLOY_TOKEN, `osdeploy.token=`) and,
 *   when the command line is that of media without a password (it has `osdeploy.unattended=`),
 *   `osdeploy.preferred=`. It runs as a `--media-vars` run would, with SMSTSPreferredAdvertID
 *   and "allow unattended" from the command line. Otherwise it stops, naming the id and every
 *   place searched.
 *
 * Precedence: the media's own variables (sealed or not) always win. `osdeploy.preferred=` and
 * `osdeploy.unattended=` are only a copy GRUB was given of the plain media's values; they are
 * used only when the media itself is not found, never to change what found media say.
 */
import path from 'node:path';
import { EngineLog } from './log.js';
import { findMedia, MediaNotFound } from './find-media.js';
import { kernelArgs } from './kernel.js';
import { readMediaDir } from './media.js';
import { DEFAULT_STATE_DIR, parseFlags, UsageError, type MediaFile } from './options.js';
import { PREFERRED_VARIABLE } from '../boot-media/model.js';

/** The media cannot be used (expired, locked, tampered, not found): nothing runs, exit 2. */
export class MediaRefused extends Error {}

const MEDIA_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

type Flags = ReturnType<typeof parseFlags>;

function nowOf(flags: Flags): number {
  const flag = flags.now;
  return flag === undefined ? Date.now() : /^\d+$/.test(flag) ? Number(flag) : Date.parse(flag);
}

async function open(dir: string, flags: Flags, env: NodeJS.ProcessEnv): Promise<MediaFile> {
  try {
    return await readMediaDir(dir, flags['media-password'] ?? env.OSDEPLOY_MEDIA_PASSWORD ?? null, nowOf(flags));
  } catch (e) {
    // Expired, wrong password, tampered, not a media: nothing runs from it.
    throw new MediaRefused(`media ${dir}: ${(e as Error).message}`);
  }
}

/** A boot-mode start with no media of its own: the kernel command line may name one. */
const searches = (flags: Flags): boolean => !flags.agent && !flags['flush-outbox'] && !flags.help && flags['media-vars'] === undefined;

/** Logs to `<state>/engine.log` as the engine will; to stderr only when the state folder cannot be made. */
function searchLog(stateDir: string): EngineLog {
  try {
    return new EngineLog(path.join(stateDir, 'engine.log'));
  } catch {
    return new EngineLog(null);
  }
}

/** The online run the command line alone allows, or why there is none. */
function onlineFromCmdline(k: ReadonlyMap<string, string>, flags: Flags, env: NodeJS.ProcessEnv): { media: MediaFile; summary: string } | string {
  const site = k.get('osdeploy.site');
  if (!site) return 'the kernel command line has no osdeploy.site= to run online instead';
  if (!(flags.token ?? env.OSDEPLOY_TOKEN ?? k.get('osdeploy.token')))
    return `it cannot run online from osdeploy.site=${site} instead: no client token (the media's is on the media; give --token, OSDEPLOY_TOKEN or osdeploy.token=)`;
  const preferred = k.get('osdeploy.preferred');
  const unattended = k.get('osdeploy.unattended');
  const plain = unattended !== undefined || preferred !== undefined;
  if (plain && !preferred) return 'it cannot run online instead: the kernel command line of media without a password has no osdeploy.preferred=';
  const media: MediaFile = { variables: preferred ? { [PREFERRED_VARIABLE]: preferred } : {}, allowUnattended: unattended === 'true' };
  const summary = plain
    ? `${PREFERRED_VARIABLE}=${preferred}, unattended ${media.allowUnattended} (osdeploy.preferred=, osdeploy.unattended=)`
    : 'no media variables (a password keeps them on the media)';
  return { media, summary: `site ${site}, ${summary}` };
}

/**
 * The opened media for this start, or undefined when it has none (the options then read
 * `--media-vars` as before). Throws MediaRefused when the media cannot be used.
 */
export async function startMedia(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<MediaFile | undefined> {
  const flags = parseFlags(argv);
  if (flags.media) return open(flags.media, flags, env);
  if (!searches(flags)) return undefined;
  const k = kernelArgs(env);
  const id = k.get('osdeploy.media');
  if (id === undefined) return undefined;
  if (!MEDIA_ID.test(id)) throw new UsageError(`osdeploy.media=${JSON.stringify(id.slice(0, 80))} on the kernel command line is not a media id`);

  const stateDir = path.resolve(flags.state ?? DEFAULT_STATE_DIR);
  const log = searchLog(stateDir);
  log.line(`the kernel command line names media ${id} (osdeploy.media=): looking for it`);
  let found;
  try {
    found = await findMedia({ id, stateDir, asRoot: process.getuid?.() === 0, log: log.line, env });
  } catch (e) {
    if (!(e instanceof MediaNotFound)) throw new MediaRefused(`media ${id} (osdeploy.media= on the kernel command line): the search failed: ${(e as Error).message}`);
    const online = onlineFromCmdline(k, flags, env);
    if (typeof online === 'string') throw new MediaRefused(`${e.message}; ${online}`);
    log.line(`media ${id} was not found (searched ${e.places.length} place(s)); running online from the kernel command line as a --media-vars run would: ${online.summary}`);
    return online.media;
  }
  log.line(`media ${id} found: ${found.how}`);
  const ignored = ['osdeploy.preferred', 'osdeploy.unattended'].filter((n) => k.has(n));
  if (ignored.length > 0) log.line(`${ignored.map((n) => `${n}=`).join(' and ')} on the kernel command line not used: the media's own variables apply`);
  return open(found.dir, flags, env);
}
