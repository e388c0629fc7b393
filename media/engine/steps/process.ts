/**
 * Runs a program for a step: output kept as a bounded tail (status carries at most 8 KiB),
 * a time-out that ends the whole process group (a shell's children too), and the exit code.
 */
import { spawn } from 'node:child_process';

export const OUTPUT_TAIL_BYTES = 8 * 1024;

export interface ProcessResult {
  readonly exitCode: number;
  readonly output: string;
  readonly timedOut: boolean;
  /** The program could not be started (not found, not executable). */
  readonly spawnError: string | null;
}

export interface ProcessOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  /** Written to the program's stdin (sfdisk reads its script there). */
  readonly input?: string;
}

/** Keeps the last `max` bytes of everything written to it. */
export class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max = OUTPUT_TAIL_BYTES) {}

  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.max) this.size -= this.chunks.shift()!.length;
  }

  /** Trimmed to whole characters, so a multi-byte character cut in half does not become garbage. */
  text(): string {
    const all = Buffer.concat(this.chunks);
    let start = Math.max(0, all.length - this.max);
    while (start < all.length && (all[start]! & 0xc0) === 0x80) start++;
    return all.subarray(start).toString('utf8');
  }
}

export function runProcess(file: string, args: readonly string[], opts: ProcessOptions): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const tail = new Tail();
    let timedOut = false;
    let settled = false;
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], detached: true });
    if (opts.input !== undefined) {
      child.stdin?.on('error', () => {}); // a program that exits without reading its input is judged by its exit code
      child.stdin?.end(opts.input);
    }
    const done = (r: ProcessResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          try {
            // detached: the child leads its own process group; end all of it.
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        }, opts.timeoutMs)
      : undefined;
    child.stdout!.on('data', (b: Buffer) => tail.push(b));
    child.stderr!.on('data', (b: Buffer) => tail.push(b));
    child.once('error', (e) => done({ exitCode: -1, output: tail.text(), timedOut: false, spawnError: e.message }));
    child.once('close', (code, signal) => done({ exitCode: code ?? (signal ? 128 + 9 : -1), output: tail.text(), timedOut, spawnError: null }));
  });
}
