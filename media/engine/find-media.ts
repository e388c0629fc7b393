/**
 * Finding the media a machine booted from: the media's GRUB names it on the kernel command
 * line (`osdeploy.media=<id>`), and the boot image's init starts the engine with no media flags.
 * The search is bounded and says what it did, line by line:
 *
 * 1. Every mounted filesystem (the mount table, /proc/self/mounts), kernel pseudo filesystems
 *    aside: a mount point whose osdeploy/media.json names that id is the media.
 * 2. Only as root, when none is mounted: the devices block-devices.ts lists, each mounted
 *    read-only at `<state>/media-mounts/<device>` when its first sectors show ISO 9660 or FAT,
 *    kept mounted when its media.json names the id (the run reads content from it; a later start
 *    finds it in the mount table), unmounted otherwise. At most MAX_MOUNTS devices are mounted.
 *
 * Nothing here opens the media: the caller does that with the password, as for `--media DIR`.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { readHeader } from '../boot-media/read.js';
import { LAYOUT } from '../boot-media/model.js';
import { candidateDevices, fsTypeOf, readHead, systemMounter, type Mounter } from './block-devices.js';
import { sysPath } from './kernel.js';

const MAX_MOUNT_POINTS = 256;
const MAX_DEVICES = 64;
export const MAX_MOUNTS = 8;

/** Kernel filesystems that never hold media; skipped without a line each. */
const PSEUDO = new Set(['proc', 'sysfs', 'devtmpfs', 'devpts', 'cgroup', 'cgroup2', 'securityfs', 'debugfs', 'tracefs', 'pstore', 'bpf', 'mqueue', 'hugetlbfs', 'configfs', 'fusectl', 'efivarfs', 'binfmt_misc', 'rpc_pipefs', 'nsfs', 'selinuxfs', 'autofs']);

export interface MediaSearch {
  readonly id: string;
  /** Where the engine keeps its state: temporary mount points go under it. */
  readonly stateDir: string;
  /** Devices are mounted only by root. */
  readonly asRoot: boolean;
  readonly log: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  readonly mounter?: Mounter;
}

export interface FoundMedia {
  /** The media's root folder. */
  readonly dir: string;
  /** How it was found, for the log. */
  readonly how: string;
}

export class MediaNotFound extends Error {
  constructor(
    readonly id: string,
    /** Every place looked at, with why it was not the media. */
    readonly places: readonly string[],
  ) {
    super(`media ${id} (osdeploy.media= on the kernel command line) was not found; searched: ${places.join('; ')}`);
    this.name = 'MediaNotFound';
  }
}

interface MountEntry {
  readonly device: string;
  readonly dir: string;
  readonly type: string;
}

/** The mount table's fields are space-separated with octal escapes (`\040` for a space). */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseMounts(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 3) out.push({ device: unescape(f[0]!), dir: unescape(f[1]!), type: f[2]! });
  }
  return out;
}

/** Why `dir` is not the media `id`, or null when it is. */
async function notTheMedia(dir: string, id: string): Promise<string | null> {
  if (!existsSync(path.join(dir, ...LAYOUT.header.split('/')))) return `no ${LAYOUT.header}`;
  try {
    const header = await readHeader(dir);
    return header.id === id ? null : `holds media ${header.id}, not ${id}`;
  } catch (e) {
    return (e as Error).message;
  }
}

const realOf = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};

export async function findMedia(s: MediaSearch): Promise<FoundMedia> {
  const env = s.env ?? process.env;
  const places: string[] = [];
  const reject = (place: string, why: string) => {
    places.push(`${place} (${why})`);
    s.log(`media search: ${place}: ${why}`);
  };

  // 1. What is mounted already (the boot image's init, an earlier start of the engine).
  const table = sysPath('proc/self/mounts', env);
  let mounts: MountEntry[] = [];
  try {
    mounts = parseMounts(readFileSync(table, 'utf8'));
  } catch (e) {
    reject(table, `cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const pseudo = mounts.filter((m) => PSEUDO.has(m.type)).length;
  if (pseudo > 0) s.log(`media search: ${pseudo} kernel filesystem(s) in ${table} skipped (proc, sysfs, cgroup, …)`);
  const seen = new Set<string>();
  for (const m of mounts) {
    if (PSEUDO.has(m.type) || seen.has(m.dir)) continue;
    seen.add(m.dir);
    if (seen.size > MAX_MOUNT_POINTS) {
      reject(table, `more than ${MAX_MOUNT_POINTS} mount points; the rest were not looked at`);
      break;
    }
    const why = await notTheMedia(m.dir, s.id);
    if (why === null) return { dir: m.dir, how: `mounted at ${m.dir} (${m.type} ${m.device}, ${table})` };
    reject(`mounted ${m.dir} (${m.type} ${m.device})`, why);
  }

  // 2. Devices, mounted read-only one at a time.
  if (!s.asRoot) {
    reject('block devices', 'not tried: only root can mount them');
    throw new MediaNotFound(s.id, places);
  }
  const mounter = s.mounter ?? systemMounter;
  const mountedDevices = new Set(mounts.filter((m) => m.device.startsWith('/')).map((m) => realOf(m.device)));
  const { devices, note } = candidateDevices(env);
  if (note) reject('partitions', note);
  const tried = new Set<string>();
  let mounted = 0;
  for (const device of devices.slice(0, MAX_DEVICES)) {
    if (!existsSync(device)) {
      reject(device, 'not present');
      continue;
    }
    const real = realOf(device);
    if (tried.has(real)) continue;
    tried.add(real);
    const as = real === device ? device : `${device} (${real})`;
    if (mountedDevices.has(real)) {
      reject(as, 'mounted already: looked at above');
      continue;
    }
    let type;
    try {
      type = fsTypeOf(await readHead(device));
    } catch (e) {
      reject(as, `cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      continue;
    }
    if (!type) {
      reject(as, 'no ISO 9660 or FAT filesystem');
      continue;
    }
    if (mounted >= MAX_MOUNTS) {
      reject(as, `not mounted: at most ${MAX_MOUNTS} devices are mounted per search`);
      continue;
    }
    const dir = path.join(s.stateDir, 'media-mounts', path.basename(real));
    mkdirSync(dir, { recursive: true });
    try {
      await mounter.mount(device, dir, type);
    } catch (e) {
      rmdirSync(dir);
      reject(as, `${type}, could not be mounted: ${(e as Error).message}`);
      continue;
    }
    mounted++;
    const why = await notTheMedia(dir, s.id);
    if (why === null) return { dir, how: `${as} (${type}) mounted read-only at ${dir}; it stays mounted for the run` };
    try {
      await mounter.unmount(dir);
      rmdirSync(dir);
      reject(as, `${type}: ${why}; unmounted`);
    } catch (e) {
      reject(as, `${type}: ${why}; still mounted at ${dir}: ${(e as Error).message}`);
    }
  }
  if (devices.length > MAX_DEVICES) reject(`${devices.length - MAX_DEVICES} more device(s)`, `not tried: at most ${MAX_DEVICES} per search`);
  throw new MediaNotFound(s.id, places);
}
