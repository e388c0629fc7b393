/**
 * `osdeploy-engine` flags, parsed and checked once. Where the site and token come from when no
 * flag gives them: the media variables file, then the kernel command line of the boot image
 * (`osdeploy.site=`, `osdeploy.token=`), then OSDEPLOY_SITE / OSDEPLOY_TOKEN. Standalone and
 * prestaged media run with no site at all; `--flush-outbox` needs only the site and the state.
 * The media themselves are opened before the options are read (start-media.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { kernelArg } from './kernel.js';
import type { StandaloneMedia } from './media.js';

export class UsageError extends Error {}

export const DEFAULT_STATE_DIR = '/var/lib/osdeploy-engine';

export interface MediaFile {
  readonly variables: Record<string, string>;
  readonly allowUnattended: boolean;
  readonly site?: string;
  readonly token?: string;
  readonly mediaForm?: string;
  /** Standalone or prestaged media (`--media DIR`): the policy and content the engine runs offline. */
  readonly standalone?: StandaloneMedia;
}

export interface EngineOptions {
  /** Null only for standalone media with no site address: the run needs none, status waits on disk. */
  readonly site: string | null;
  readonly token: string;
  readonly macs: readonly string[];
  readonly uuid: string | null;
  readonly arch: string | null;
  readonly root: string;
  readonly stateDir: string;
  readonly source: 'pxe' | 'media';
  readonly media: MediaFile;
  readonly pick: string | null;
  readonly agent: boolean;
  /** `--flush-outbox`: send the status messages kept in the state folder, then exit. */
  readonly flushOutbox: boolean;
  readonly once: boolean;
  readonly intervalMs: number;
  readonly utcOffsetMinutes: number;
  readonly disks: ReadonlyMap<number, string>;
  readonly waitSiteMs: number;
  readonly flushTimeoutMs: number;
  readonly uefi: boolean;
  readonly name: string | null;
  /** A fixed start for the engine's clock (tests); the clock still advances from there. */
  readonly clockStart: number | null;
  /** `--progress-fd N` / OSDEPLOY_PROGRESS_FD: JSON progress lines for a controller (progress.ts). */
  readonly progressFd: number | null;
}

export const USAGE = `usage: osdeploy-engine --root DIR [--site URL] [--token TOKEN] [options]
       osdeploy-engine --root DIR --media DIR [options]         (standalone media: offline)
       osdeploy-engine --flush-outbox --state DIR [--site URL] [--token TOKEN | --media DIR]
  --site URL           the site (else media file, osdeploy.site= on the kernel command line, OSDEPLOY_SITE)
  --token TOKEN        a client token (else media file, osdeploy.token=, OSDEPLOY_TOKEN)
  --mac MAC            a MAC address of this machine, repeatable (default: /sys/class/net)
  --uuid UUID          SMBIOS UUID (default: /sys/class/dmi/id/product_uuid)
  --arch x86|x64|arm64 architecture (default: this process's)
  --root DIR           the folder the task sequence acts on (the target disk)
  --state DIR          where the engine keeps its progress (default /var/lib/osdeploy-engine)
  --source pxe|media   how the machine booted (default media)
  --media-vars FILE    media variables: JSON {variables, allowUnattended, site, token} or NAME=VALUE lines
  --media DIR          boot media mounted at DIR: refused when expired or tampered with; a protected
                       media needs its password (OSDEPLOY_MEDIA_PASSWORD or --media-password).
                       Standalone and prestaged media run offline: policy and content from DIR,
                       no request to any site; status messages wait in the state folder.
                       Without --media or --media-vars, a boot-mode start looks for the media
                       osdeploy.media=ID on the kernel command line names (mounted, else as
                       root a CD or FAT device it mounts read-only)
  --flush-outbox       send the status messages kept in --state (an offline run's) to the site, exit
  --unattended         the media allows unattended deployment (R-20)
  --pick DEPLOYMENT    the deployment to run when the site offers a list (non-interactive)
  --disk N=PATH        disk N: a block device (/dev/vda: partitioned, formatted and made bootable
                       for real) or a disk image file standing for it; repeatable
  --agent              full-OS mode: poll client policy and run what is due (R-13, R-14)
  --once               agent: poll once, run what is due, exit
  --interval SECONDS   agent: seconds between polls (default 60)
  --utc-offset MINUTES agent: the local clock's offset east of UTC (default: this host's)
  --wait-site SECONDS  how long to wait for an unreachable site (default 300)
  --flush-timeout SECONDS  how long to keep resending buffered status at the end (default 30)
  --name NAME          the name an unknown machine registers with (else OSDComputerName, else MININT-…)
  --uefi               the machine booted with UEFI (_SMSTSBootUEFI)
  --now TIME           start the engine's clock at TIME, epoch ms or ISO (tests)
  --progress-fd N      write JSON progress lines to file descriptor N (else OSDEPLOY_PROGRESS_FD)
exit codes: 0 done (or nothing to run, or the outbox sent), 1 the run failed, 2 usage, 3 restart
            requested, 4 the site could not be reached, 5 a choice is needed (give --pick)`;

/** A run from standalone or prestaged media: the media's policy and content, no site (issue 6). */
export const runsOffline = (o: Pick<EngineOptions, 'media' | 'flushOutbox' | 'agent'>): boolean => o.media.standalone !== undefined && !o.flushOutbox && !o.agent;

function readMediaFile(file: string): MediaFile {
  if (!existsSync(file)) throw new UsageError(`--media-vars ${file} does not exist`);
  const text = readFileSync(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const variables: Record<string, string> = {};
    for (const line of text.split(/\r?\n/)) {
      const at = line.indexOf('=');
      if (line.trim() && !line.trimStart().startsWith('#') && at > 0) variables[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
    return { variables, allowUnattended: false };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError(`${file} must hold a JSON object`);
  const o = parsed as Record<string, unknown>;
  const structured = typeof o.variables === 'object' && o.variables !== null;
  const vars = (structured ? o.variables : o) as Record<string, unknown>;
  const variables = Object.fromEntries(Object.entries(vars).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  const str = (k: string) => (structured && typeof o[k] === 'string' ? (o[k] as string) : undefined);
  return {
    variables,
    allowUnattended: structured && o.allowUnattended === true,
    ...(str('site') ? { site: str('site')! } : {}),
    ...(str('token') ? { token: str('token')! } : {}),
    ...(str('mediaForm') ? { mediaForm: str('mediaForm')! } : {}),
  };
}

const num = (v: string | undefined, flag: string, fallback: number, min = 0): number => {
  if (v === undefined) return fallback;
  if (!/^-?\d+$/.test(v) || Number(v) < min) throw new UsageError(`${flag} must be a whole number ≥ ${min}`);
  return Number(v);
};

const FLAGS = {
  site: { type: 'string' }, token: { type: 'string' }, mac: { type: 'string', multiple: true }, uuid: { type: 'string' }, arch: { type: 'string' },
  root: { type: 'string' }, state: { type: 'string' }, source: { type: 'string' }, 'media-vars': { type: 'string' }, pick: { type: 'string' },
  agent: { type: 'boolean' }, once: { type: 'boolean' }, interval: { type: 'string' }, 'utc-offset': { type: 'string' }, disk: { type: 'string', multiple: true },
  'wait-site': { type: 'string' }, 'flush-timeout': { type: 'string' }, unattended: { type: 'boolean' }, uefi: { type: 'boolean' }, name: { type: 'string' },
  now: { type: 'string' }, help: { type: 'boolean', short: 'h' }, media: { type: 'string' }, 'media-password': { type: 'string' },
  'flush-outbox': { type: 'boolean' }, 'progress-fd': { type: 'string' },
} as const;

/** The flags as given, or a UsageError for an unknown or malformed one (checked before any media is looked for). */
export function parseFlags(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, openedMedia?: MediaFile): EngineOptions | 'help' {
  const values = parseFlags(argv);
  if (values.help) return 'help';
  if (values.media && !openedMedia) throw new UsageError('--media must be opened before the options are read (cli.ts does it)');
  const media = openedMedia ?? (values['media-vars'] ? readMediaFile(values['media-vars']) : { variables: {}, allowUnattended: false });
  const flushOutbox = values['flush-outbox'] === true;
  // Standalone media carry their policy: a run from them needs no site (issue 6).
  const offline = runsOffline({ media, flushOutbox, agent: values.agent === true });
  const site = values.site ?? (media.site || undefined) ?? kernelArg('osdeploy.site', env) ?? env.OSDEPLOY_SITE;
  const token = values.token ?? env.OSDEPLOY_TOKEN ?? media.token ?? kernelArg('osdeploy.token', env);
  if (!site && !offline) throw new UsageError('no site: give --site URL (or a media file, osdeploy.site= or OSDEPLOY_SITE)');
  if (site && !/^https?:\/\//.test(site)) throw new UsageError(`--site must be an http(s) URL, not ${site}`);
  if (!token) throw new UsageError('no token: give --token (or OSDEPLOY_TOKEN, the media file, osdeploy.token=)');
  if (!values.root && !flushOutbox) throw new UsageError('--root DIR is required: the folder the task sequence acts on');
  const source = values.source ?? 'media';
  if (source !== 'pxe' && source !== 'media') throw new UsageError('--source must be pxe or media');
  const disks = new Map<number, string>();
  for (const d of values.disk ?? []) {
    const m = /^(\d+)=(.+)$/.exec(d);
    if (!m) throw new UsageError(`--disk ${d}: give N=PATH (a block device or a disk image file)`);
    disks.set(Number(m[1]), path.resolve(m[2]!));
  }
  let clockStart: number | null = null;
  if (values.now !== undefined) {
    clockStart = /^\d+$/.test(values.now) ? Number(values.now) : Date.parse(values.now);
    if (!Number.isFinite(clockStart)) throw new UsageError('--now must be epoch milliseconds or an ISO time');
  }
  const rawFd = values['progress-fd'] ?? (env.OSDEPLOY_PROGRESS_FD || undefined);
  const progressFd = rawFd === undefined ? null : num(rawFd, '--progress-fd', 0, 1);
  return {
    site: site ?? null,
    token,
    macs: values.mac ?? [],
    uuid: values.uuid ?? null,
    arch: values.arch ?? null,
    root: path.resolve(values.root ?? '.'),
    stateDir: path.resolve(values.state ?? DEFAULT_STATE_DIR),
    source,
    media: { ...media, allowUnattended: media.allowUnattended || values.unattended === true },
    pick: values.pick ?? null,
    agent: values.agent === true,
    flushOutbox,
    once: values.once === true,
    intervalMs: num(values.interval, '--interval', 60, 1) * 1000,
    utcOffsetMinutes: values['utc-offset'] === undefined ? -new Date().getTimezoneOffset() : num(values['utc-offset'], '--utc-offset', 0, -1080),
    disks,
    waitSiteMs: num(values['wait-site'], '--wait-site', 300) * 1000,
    flushTimeoutMs: num(values['flush-timeout'], '--flush-timeout', 30) * 1000,
    uefi: values.uefi === true,
    name: values.name ?? null,
    clockStart,
    progressFd,
  };
}
