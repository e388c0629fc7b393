/**
 * The boot environment controller's decisions, pure so they can be tested on any host: what the
 * kernel command line asks for, which block devices are the machine's disks (and in which
 * order: disk 0 is the one a task sequence partitions by default), how the engine is started,
 * what its progress lines look like on the console, and what happens when it exits.
 */

export interface BootArgs {
  readonly site: string | null;
  readonly deployment: string | null;
  readonly media: string | null;
  /** What to do after a finished task sequence that did not restart itself. */
  readonly done: 'reboot' | 'poweroff' | 'shell';
  /** What to do after a failure: a shell by default, so a technician can look. */
  readonly onFail: 'reboot' | 'poweroff' | 'shell';
  /** Seconds a failure screen waits before `onFail` reboots or powers off (0: wait forever). */
  readonly failTimeout: number;
  readonly consoles: readonly string[];
  /** The per-boot token a network boot's iPXE script gave (osdeploy.token=); null on media. */
  readonly token: string | null;
}

const BOOT_TOKEN = /^osdb_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const choice = <T extends string>(v: string | undefined, allowed: readonly T[], fallback: T): T => (allowed.includes(v as T) ? (v as T) : fallback);

/**
 * Whole seconds from a command-line value, else `fallback`. Digits only (a fraction is cut):
 * Number() would read an empty value as 0, and 0 means something here (wait forever).
 */
const seconds = (v: string | undefined, fallback: number): number => (v !== undefined && /^\d+(\.\d+)?$/.test(v) ? Math.floor(Number(v)) : fallback);

export function parseCmdline(cmdline: string): BootArgs {
  const kv = new Map<string, string>();
  const consoles: string[] = [];
  for (const word of cmdline.trim().split(/\s+/)) {
    const at = word.indexOf('=');
    if (at < 0) continue;
    const k = word.slice(0, at);
    const v = word.slice(at + 1);
    if (k === 'console') consoles.push(v);
    else if (!kv.has(k)) kv.set(k, v);
  }
  return {
    site: kv.get('osdeploy.site') ?? null,
    deployment: kv.get('osdeploy.deployment') ?? null,
    media: kv.get('osdeploy.media') ?? null,
    done: choice(kv.get('osdeploy.done'), ['reboot', 'poweroff', 'shell'] as const, 'reboot'),
    onFail: choice(kv.get('osdeploy.onfail'), ['reboot', 'poweroff', 'shell'] as const, 'shell'),
    failTimeout: seconds(kv.get('osdeploy.failtimeout'), 900),
    consoles,
    token: BOOT_TOKEN.test(kv.get('osdeploy.token') ?? '') ? kv.get('osdeploy.token')! : null,
  };
}

export interface BlockDevice {
  readonly name: string;
  readonly removable: boolean;
  readonly sizeSectors: number;
  /** Read-only (a CD, a write-protected stick). */
  readonly readOnly: boolean;
}

const SKIP = /^(loop|ram|zram|sr|fd|dm-|md|nbd|mtdblock)/;
const KIND_ORDER = ['nvme', 'sd', 'vd', 'xvd', 'hd', 'mmcblk'];
const kindRank = (name: string): number => {
  const i = KIND_ORDER.findIndex((k) => name.startsWith(k));
  return i < 0 ? KIND_ORDER.length : i;
};
const naturally = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });
/** Disks the kernel names by letters: a…z, then aa…zz, then aaa… (drivers/scsi/sd.c sd_format_disk_name). */
const LETTERED = /^(sd|vd|xvd|hd)([a-z]+)$/;
const byName = (a: string, b: string): number => {
  const x = LETTERED.exec(a);
  const y = LETTERED.exec(b);
  if (!x || !y || x[1] !== y[1]) return naturally(a, b);
  const [l, r] = [x[2]!, y[2]!];
  return l.length - r.length || (l < r ? -1 : l > r ? 1 : 0);
};

/**
 * The disks a task sequence may partition, in order: fixed disks before removable ones, NVMe,
 * then SATA/SCSI/USB, then virtio; never a CD, a RAM disk, an empty slot or `exclude` (the
 * device the boot media are on).
 */
export function orderDisks(devices: readonly BlockDevice[], exclude: readonly string[] = []): string[] {
  return devices
    .filter((d) => !SKIP.test(d.name) && d.sizeSectors > 0 && !d.readOnly && !exclude.includes(d.name))
    .sort((a, b) => Number(a.removable) - Number(b.removable) || kindRank(a.name) - kindRank(b.name) || byName(a.name, b.name))
    .map((d) => d.name);
}

export interface EngineLaunch {
  readonly args: string[];
  readonly env: Record<string, string>;
}

export function engineLaunch(opts: { args: BootArgs; disks: readonly string[]; uefi: boolean; token: string | null; root: string; state: string; progressFd: number }): EngineLaunch {
  const args = ['--root', opts.root, '--state', opts.state, '--source', opts.args.media ? 'media' : 'pxe', '--progress-fd', String(opts.progressFd)];
  if (opts.uefi) args.push('--uefi');
  opts.disks.forEach((d, i) => args.push('--disk', `${i}=/dev/${d}`));
  // Media carry their own token (tied to them, with their expiry): the image's is for network boots.
  const env: Record<string, string> = opts.token && !opts.args.media ? { OSDEPLOY_TOKEN: opts.token } : {};
  return { args, env };
}

/** A progress line of the engine (--progress-fd); unknown kinds are kept for the log only. */
export type Progress =
  | { kind: 'run'; deploymentId?: string; taskSequenceName?: string; steps?: number }
  | { kind: 'step'; index: number; total: number; name: string; type?: string }
  | { kind: 'percent'; percent: number }
  | { kind: 'stepDone'; index: number; name: string; ok: boolean; exitCode?: number; message?: string; outputTail?: string }
  | { kind: 'end'; result: string; failedStep?: string | null; message?: string };

/** A percent a console line can show: a number, not NaN (±Infinity are clamped like any other). */
const isPercent = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

export function parseProgress(line: string): Progress | null {
  try {
    const v = JSON.parse(line) as Record<string, unknown>;
    if (typeof v !== 'object' || v === null || typeof v.kind !== 'string') return null;
    if (v.kind === 'percent' && !isPercent(v.percent)) return null;
    return v as unknown as Progress;
  } catch {
    return null;
  }
}

/** Console text for a progress line; null when nothing new is worth a line. */
export class ProgressView {
  private step: { index: number; total: number; name: string } | null = null;
  /** The last percent shown in this step; 0 at its start, so the first line is at 10 %, the last at 100 %. */
  private shownPercent = 0;
  failed: { step: string; message: string; output: string; exitCode?: number } | null = null;
  result: string | null = null;

  render(p: Progress): string | null {
    switch (p.kind) {
      case 'run':
        return `osdeploy: running ${p.taskSequenceName ?? 'task sequence'}${p.deploymentId ? ` (${p.deploymentId})` : ''}${p.steps ? `, ${p.steps} steps` : ''}`;
      case 'step':
        this.step = { index: p.index, total: p.total, name: p.name };
        this.shownPercent = 0;
        return `osdeploy: step ${p.index} of ${p.total}: ${p.name}`;
      case 'percent': {
        // Whatever the line says, a percent that is no number never reaches the throttle (NaN would disable it).
        if (!isPercent(p.percent)) return null;
        const pct = Math.max(0, Math.min(100, Math.floor(p.percent)));
        if (!this.step || pct < this.shownPercent + 10) return null;
        this.shownPercent = pct;
        return `osdeploy: step ${this.step.index} of ${this.step.total}: ${this.step.name} ${pct}%`;
      }
      case 'stepDone':
        this.shownPercent = 101;
        if (!p.ok) this.failed = { step: p.name, message: p.message ?? '', output: p.outputTail ?? '', ...(typeof p.exitCode === 'number' ? { exitCode: p.exitCode } : {}) };
        return `osdeploy: step ${p.index}${this.step ? ` of ${this.step.total}` : ''}: ${p.name} ${p.ok ? 'done' : `FAILED${typeof p.exitCode === 'number' ? ` (exit ${p.exitCode})` : ''}: ${p.message ?? ''}`}`;
      case 'end':
        this.result = p.result;
        return `osdeploy: task sequence ${p.result === 'success' ? 'finished successfully' : p.result === 'restart' ? 'asks for a restart' : p.result === 'nothing' ? 'not run: nothing to run for this machine' : `failed${p.failedStep ? ` at "${p.failedStep}"` : ''}`}`;
      default:
        return null;
    }
  }
}

/** Engine exit codes (media/engine/engine.ts EXIT). */
export const ENGINE_EXIT = { done: 0, failed: 1, usage: 2, restart: 3, unreachable: 4, choiceNeeded: 5 } as const;

export type Action = { kind: 'reboot' | 'poweroff' | 'shell'; why: string; failure: boolean };

/** What the machine does when the engine has exited with `code`. */
export function afterEngine(code: number | null, args: BootArgs): Action {
  switch (code) {
    case ENGINE_EXIT.restart:
      return { kind: 'reboot', why: 'the task sequence restarts the computer', failure: false };
    case ENGINE_EXIT.done:
      return { kind: args.done, why: 'the task sequence is done (or there was nothing to run)', failure: false };
    case ENGINE_EXIT.failed:
      return { kind: args.onFail, why: 'the task sequence failed', failure: true };
    case ENGINE_EXIT.unreachable:
      return { kind: args.onFail, why: 'the site could not be reached', failure: true };
    case ENGINE_EXIT.choiceNeeded:
      return { kind: 'shell', why: 'several task sequences are available: start osdeploy-engine --pick DEPLOYMENT from the shell', failure: true };
    case ENGINE_EXIT.usage:
      return { kind: 'shell', why: 'the engine could not start (usage or media refused)', failure: true };
    default:
      return { kind: 'shell', why: `the engine stopped unexpectedly (${code === null ? 'killed' : `exit ${code}`})`, failure: true };
  }
}

/**
 * Seconds the failure screen counts down (Enter gives a shell) before `action` reboots or powers
 * off; null when a shell follows at once: onfail=shell, or failtimeout=0, which waits for a
 * technician however long it takes and never reboots or powers off by itself.
 */
export const failureCountdown = (action: Action, timeout: number): number | null => (action.kind === 'shell' || timeout <= 0 ? null : timeout);

/** The failure screen: what failed, its output's tail, and how to get in. */
export function failureScreen(action: Action, failed: ProgressView['failed'], logFile: string, timeout: number): string[] {
  const lines = ['', '================ osdeploy: the deployment stopped ================', `why: ${action.why}`];
  if (failed) {
    lines.push(`failed step: ${failed.step}${typeof failed.exitCode === 'number' ? ` (exit code ${failed.exitCode})` : ''}`, `message: ${failed.message}`);
    const tail = failed.output.split('\n').filter((l) => l.trim()).slice(-15);
    if (tail.length) lines.push('output (last lines):', ...tail.map((l) => `  | ${l}`));
  }
  lines.push(`engine log: ${logFile}`);
  const countdown = failureCountdown(action, timeout);
  if (countdown !== null) lines.push(`the machine will ${action.kind} in ${countdown} s; press Enter for a shell instead (also on Alt+F2)`);
  else {
    if (action.kind !== 'shell') lines.push(`osdeploy.failtimeout=0: the machine waits for a technician and will not ${action.kind === 'poweroff' ? 'power off' : 'reboot'} by itself`);
    lines.push('a shell follows on this console (also on Alt+F2); type exit to restart the machine');
  }
  lines.push('==================================================================', '');
  return lines;
}
