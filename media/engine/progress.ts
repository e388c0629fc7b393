/**
 * Progress for the program that started the engine (the boot environment's controller, which
 * draws the console): one JSON object per line on the file descriptor `--progress-fd N` (or
 * OSDEPLOY_PROGRESS_FD) names. Lines, in the order they come:
 *
 *   {"kind":"run","deploymentId":"PS120001","taskSequenceName":"Deploy Debian","steps":4}
 *       a run starts or resumes; steps: how many steps the whole run will run, best estimate
 *       (conditions are evaluated with the variables as they are now)
 *   {"kind":"step","index":2,"total":4,"name":"Apply OS","type":"ApplyOperatingSystemImage"}
 *       a step starts; index counts the steps of the run that started (1-based), total is the
 *       estimate at that moment
 *   {"kind":"percent","percent":37.5}
 *       how far the run is, after each step (and where a step can tell)
 *   {"kind":"stepDone","index":2,"name":"Apply OS","ok":true,"exitCode":0,"message":"…","outputTail":"…"}
 *       a step ended; exitCode is null when the step ran no program; outputTail: its last 20 lines
 *   {"kind":"end","result":"success|failed|restart|nothing","failedStep":"Apply OS"|null,"message":"…"}
 *       the engine is about to exit (restart: exit code 3, the controller restarts the machine)
 *
 * Every text passes through the engine log's mask first (hidden variables, step passwords), one
 * string at a time, so a secret cannot slip past the mask by being JSON-escaped. A controller
 * that has gone away (EPIPE) stops the lines, never the run.
 */
import { writeSync } from 'node:fs';

export type EndResult = 'success' | 'failed' | 'restart' | 'nothing';

export type ProgressLine =
  | { readonly kind: 'run'; readonly deploymentId: string; readonly taskSequenceName: string; readonly steps: number }
  | { readonly kind: 'step'; readonly index: number; readonly total: number; readonly name: string; readonly type: string }
  | { readonly kind: 'percent'; readonly percent: number }
  | { readonly kind: 'stepDone'; readonly index: number; readonly name: string; readonly ok: boolean; readonly exitCode: number | null; readonly message: string; readonly outputTail: string }
  | { readonly kind: 'end'; readonly result: EndResult; readonly failedStep: string | null; readonly message: string };

export const TAIL_LINES = 20;

/** The last `n` lines of a program's output. */
export function lastLines(text: string | undefined, n = TAIL_LINES): string {
  if (!text) return '';
  const lines = text.replace(/\n+$/, '').split('\n');
  return lines.slice(-n).join('\n');
}

/** One line of the format above, every string masked by `clean`. */
export function progressLine(line: ProgressLine, clean: (s: string) => string): string {
  const masked = Object.fromEntries(Object.entries(line).map(([k, v]) => [k, typeof v === 'string' ? clean(v) : v]));
  return `${JSON.stringify(masked)}\n`;
}

export interface RunOutcome {
  readonly result: EndResult;
  readonly failedStep: string | null;
  readonly message: string;
}

export class ProgressReporter {
  /** What the run came to; the end line says it (none: the engine ran nothing). */
  outcome: RunOutcome | null = null;
  private fd: number | null;

  constructor(
    fd: number | null,
    private readonly clean: (s: string) => string,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.fd = fd;
  }

  emit(line: ProgressLine): void {
    if (this.fd === null) return;
    try {
      writeSync(this.fd, progressLine(line, this.clean));
    } catch (e) {
      this.log(`progress: fd ${this.fd} cannot be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); no more progress lines`);
      this.fd = null;
    }
  }

  /** The last line, from the exit code and what the run said. */
  end(exitCode: number, reason?: string): void {
    const o = this.outcome;
    if (exitCode === 3) this.emit({ kind: 'end', result: 'restart', failedStep: null, message: o?.message ?? 'restart requested' });
    else if (exitCode === 0) this.emit({ kind: 'end', result: o ? o.result : 'nothing', failedStep: null, message: o?.message ?? reason ?? 'nothing to run' });
    else this.emit({ kind: 'end', result: 'failed', failedStep: o?.failedStep ?? null, message: o?.message ?? reason ?? `the engine exited with ${exitCode}` });
  }
}
