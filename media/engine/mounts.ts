/**
 * What the engine mounts on the target (the OS volume at --root, the EFI system partition at
 * <root>/boot/efi), remembered in order so everything is flushed (`sync`) and unmounted in
 * reverse order before the engine exits, whatever the outcome: a restart must never cut power
 * under a file system with unwritten data. Uses the `mount` and `umount` on the PATH: busybox's
 * in the boot environment, util-linux's elsewhere.
 */
import { mkdirSync } from 'node:fs';
import { runProcess } from './steps/process.js';
import { which } from './steps/types.js';

export interface MountEntry {
  readonly device: string;
  readonly dir: string;
}

export class Mounts {
  private readonly list: MountEntry[] = [];

  constructor(
    private readonly searchPath: string,
    private readonly log: (line: string) => void,
  ) {}

  get entries(): readonly MountEntry[] {
    return this.list;
  }

  mountedAt(dir: string): MountEntry | undefined {
    return this.list.find((m) => m.dir === dir);
  }

  private tool(name: string): string {
    const found = which(name, this.searchPath);
    if (!found) throw new Error(`${name} not found (Debian package mount, or busybox)`);
    return found;
  }

  async mount(device: string, dir: string, type: string): Promise<void> {
    mkdirSync(dir, { recursive: true });
    const r = await runProcess(this.tool('mount'), ['-t', type, device, dir], { cwd: '/', timeoutMs: 60_000 });
    if (r.exitCode !== 0) {
      const hint = type === 'vfat' ? ' (does this kernel have vfat and the nls_cp437/nls_utf8 code pages?)' : '';
      throw new Error(`mount -t ${type} ${device} ${dir} failed (exit ${r.exitCode}): ${(r.spawnError ?? r.output).trim()}${hint}`);
    }
    this.list.push({ device, dir });
    this.log(`mounted ${device} (${type}) at ${dir}`);
  }

  /** Flushes, then unmounts everything mounted here, last first. Never throws: it runs on the way out. */
  async releaseAll(): Promise<void> {
    if (this.list.length === 0) return;
    const sync = which('sync', this.searchPath);
    if (sync) await runProcess(sync, [], { cwd: '/', timeoutMs: 120_000 });
    const umount = which('umount', this.searchPath);
    while (this.list.length > 0) {
      const m = this.list.pop()!;
      if (!umount) {
        this.log(`umount not found: ${m.dir} stays mounted`);
        continue;
      }
      let r = await runProcess(umount, [m.dir], { cwd: '/', timeoutMs: 60_000 });
      // Busy (a step left a process in it): detach it, so the data already synced is safe.
      if (r.exitCode !== 0) r = await runProcess(umount, ['-l', m.dir], { cwd: '/', timeoutMs: 60_000 });
      this.log(r.exitCode === 0 ? `unmounted ${m.dir}` : `could not unmount ${m.dir}: ${r.output.trim()}`);
    }
  }
}
